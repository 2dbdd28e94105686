// The frame around every screen: the top bar (banner), the connection banner, live regions, toasts, the
// session-ended dialog, and the <main> outlet that screens render into.

import { post } from './api.js';
import { avatar, h, icon, replace } from './dom.js';
import { t } from './i18n.js';
import { forget } from './prefs.js';
import { navigate } from './router.js';
import { broadcast } from './tabs.js';

const ADMIN_ROLES = new Set(['admin', 'supervisor']);

export class Shell {
  constructor(root, { me, realtime, onLogout }) {
    this.root = root;
    this.me = me;
    this.realtime = realtime;
    this.onLogout = onLogout;
    this.active = 'inbox';
    this.banner = h('header', { class: 'topbar', role: 'banner' });
    this.connection = h('div', { class: 'connection', role: 'status', 'aria-live': 'polite', hidden: true });
    // One-time offers (the first hand-off's "turn on notifications"): a line in the page's flow, above everything, so
    // it covers no row or button the way a toast over the list did.
    this.offerLine = h('div', { class: 'offer-line', role: 'region', 'aria-label': t('shell.offer_label'), hidden: true });
    this.outlet = h('main', { id: 'main', class: 'outlet', tabindex: '-1' });
    this.polite = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.assertive = h('div', { class: 'sr-only', role: 'alert' });
    this.toasts = h('div', { class: 'toasts', role: 'region', 'aria-label': t('shell.notifications') });
    this.dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'session-ended-title' });
    this.skip = h('a', { class: 'skip-link', href: '#main' });
    replace(root, this.skip, this.banner, this.connection, this.offerLine,
      this.outlet, this.polite, this.assertive, this.toasts, this.dialog);
    this.render();
    this.lastState = 'connecting';
    this.reconnectTimer = null;
    realtime.addEventListener('state', (event) => this.showConnection(event.detail));
    realtime.addEventListener('session-ended', () => this.sessionEnded());
  }

  render() {
    // Also on a language switch: the words outside the banner follow it too.
    this.skip.textContent = t('shell.skip');
    this.toasts.setAttribute('aria-label', t('shell.notifications'));
    const canAdmin = ADMIN_ROLES.has(this.me.role);
    const link = (name, href, label, iconName) => h('a', {
      href, class: ['nav-link', this.active === name && 'active'], 'aria-current': this.active === name ? 'page' : null,
    }, icon(iconName), h('span', { class: 'nav-label' }, label));
    replace(this.banner,
      h('a', { class: 'brand', href: '/' }, icon('message-square'), h('span', {}, 'Helpline')),
      h('nav', { class: 'topnav', 'aria-label': t('shell.main_nav') },
        link('inbox', '/', t('shell.inbox'), 'inbox'),
        canAdmin && link('admin', '/admin', t('shell.admin'), 'shield')),
      h('div', { class: 'topbar-end' },
        h('button', { type: 'button', class: 'icon-button', 'aria-label': t('shell.shortcuts'), title: t('shell.shortcuts'),
          onclick: () => window.dispatchEvent(new CustomEvent('helpline:shortcuts')) }, icon('keyboard')),
        h('a', { class: 'icon-button', href: '/preferences', 'aria-label': t('shell.preferences'), title: t('shell.preferences') },
          icon('settings')),
        h('span', { class: 'whoami' }, avatar(this.me.name, `op${this.me.id}`, 'sm'),
          h('span', { class: 'whoami-text' }, h('span', { class: 'whoami-name' }, this.me.name),
            h('span', { class: 'whoami-role' }, t(`roles.${this.me.role}`)))),
        h('button', { type: 'button', class: 'button ghost', onclick: () => this.logout() }, icon('log-out'),
          h('span', {}, t('shell.logout')))));
  }

  setActive(name) {
    const section = name === 'admin' ? 'admin' : name === 'preferences' ? 'preferences' : 'inbox';
    if (section !== this.active) {
      this.active = section;
      this.render();
    }
  }

  async logout() {
    try {
      await post('/auth/logout', undefined, { quiet401: true });
    } catch {
      /* the session may already be gone; leave anyway */
    }
    this.realtime.stop();
    forget();
    broadcast({ type: 'logout' });
    navigate('/login', { replace: true });
    this.onLogout();
  }

  /** The connection banner: "Offline" at once, "Reconnecting…" only after 2 s, "Back online" for 3 s. */
  showConnection(state) {
    clearTimeout(this.reconnectTimer);
    const show = (text, cls) => {
      this.connection.className = `connection ${cls}`;
      replace(this.connection, icon(cls === 'ok' ? 'check' : 'wifi-off'), h('span', {}, text));
      this.connection.hidden = false;
    };
    if (state === 'offline') show(t('shell.offline'), 'bad');
    else if (state === 'reconnecting') {
      this.reconnectTimer = setTimeout(() => show(t('shell.reconnecting'), 'warn'), 2000);
    } else if (state === 'open') {
      if (this.lastState === 'reconnecting' || this.lastState === 'offline') {
        show(t('shell.back_online'), 'ok');
        this.reconnectTimer = setTimeout(() => { this.connection.hidden = true; }, 3000);
      } else {
        this.connection.hidden = true;
      }
    }
    this.lastState = state;
    document.documentElement.dataset.connection = state;
  }

  /** Screen-reader announcement (polite), or an alert for my own failures. */
  announce(text, { assertive = false } = {}) {
    const region = assertive ? this.assertive : this.polite;
    region.textContent = '';
    setTimeout(() => { region.textContent = text; }, 50);
  }

  /** A toast for background actions; `action` = {label, run} (Retry / Undo). */
  toast(text, { action, kind = 'info', timeout = 6000 } = {}) {
    const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('span', {}, text),
      action && h('button', { type: 'button', class: 'button small', onclick: () => { item.remove(); action.run(); } },
        action.label),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': t('common.dismiss'), onclick: () => item.remove() },
        icon('x')));
    this.toasts.append(item);
    if (timeout) setTimeout(() => item.remove(), timeout);
    return item;
  }

  /** A one-time offer as a line under the top bar, with its action and "Not now"; either answer closes it. */
  offer(text, { action }) {
    const close = () => {
      this.offerLine.hidden = true;
      this.offerLine.replaceChildren();
    };
    replace(this.offerLine, icon('bell'), h('span', { class: 'offer-text' }, text),
      h('button', { type: 'button', class: 'button small primary', onclick: () => { close(); action.run(); } }, action.label),
      h('button', { type: 'button', class: 'button small', onclick: close }, t('shell.not_now')));
    this.offerLine.hidden = false;
    return close;
  }

  /** 401 anywhere: the one justified modal; drafts stay in localStorage, login returns to this URL. */
  sessionEnded() {
    if (this.dialog.open) return;
    this.realtime.stop();
    const next = location.pathname + location.search;
    replace(this.dialog,
      h('h2', { id: 'session-ended-title' }, t('shell.session_ended')),
      h('p', {}, t('shell.session_ended_body')),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button primary', autofocus: true, onclick: () => {
          this.dialog.close();
          navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
          this.onLogout();
        } }, t('shell.login_again'))));
    this.dialog.showModal();
  }
}
