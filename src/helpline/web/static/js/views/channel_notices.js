// Above the inbox: a channel that needs re-authorising (channels/reauth.py — its provider refused the credentials,
// so nothing goes out or comes in). Admins get the reason and a link to fix it in the channel's settings; agents and
// supervisors a neutral notice that messages on it are stuck until an admin reconnects it. Each can be dismissed;
// it comes back when the channel fails again for another reason.

import { get } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { loadOptions } from './options.js';

const DISMISSED_KEY = 'helpline:reauth-dismissed';
const REFRESH_MS = 120000; // calm: no frame announces a channel's status, so it is asked for now and then
const NEEDS_REAUTH = 'needs_reauth';
let firstMount = true;

function dismissed() {
  try {
    return JSON.parse(localStorage.getItem(DISMISSED_KEY) || '{}') || {};
  } catch {
    return {};
  }
}

function remember(map) {
  try { localStorage.setItem(DISMISSED_KEY, JSON.stringify(map)); } catch { /* private mode: for this page only */ }
}

// A dismissal holds for this failure (channel + reason), not for the channel's next one.
const stamp = (channel) => String(channel.status_reason || NEEDS_REAUTH);

export class ChannelNotices {
  constructor(ctx) {
    this.ctx = ctx;
    this.channels = [];
    this.hidden = dismissed();
    this.el = h('section', { class: 'channel-notices', 'aria-label': t('notices.label'), hidden: true });
    this.onResync = () => this.load();
    this.onVisible = () => { if (document.visibilityState === 'visible') this.load(); };
    if (ctx.realtime) ctx.realtime.addEventListener('resync', this.onResync);
    document.addEventListener('visibilitychange', this.onVisible);
    this.timer = setInterval(() => this.load(), REFRESH_MS);
    // The first inbox of the session reuses the filters' channel list (fetched this very moment); a later one
    // (back from the admin screens, say) asks afresh: a channel may have been fixed meanwhile.
    this.load({ shared: firstMount });
    firstMount = false;
  }

  /** `shared`: the channel list the filters already asked for (no extra request on first load); else a fresh one. */
  async load({ shared = false } = {}) {
    try {
      const list = shared ? (await loadOptions()).channels : await get('/channels');
      this.channels = (Array.isArray(list) ? list : []).filter((c) => c.status === NEEDS_REAUTH);
    } catch {
      return; // the inbox works without it; the next try may succeed
    }
    this.render();
  }

  dismiss(channel) {
    this.hidden = { ...dismissed(), [channel.id]: stamp(channel) };
    remember(this.hidden);
    this.render();
    // The dismissed button is gone: focus moves to the next notice, else to the page's main region.
    const target = this.el.querySelector('.notice a, .notice button') || document.getElementById('main');
    if (target) target.focus();
  }

  render() {
    const admin = this.ctx.me.role === 'admin';
    const shown = this.channels.filter((c) => this.hidden[c.id] !== stamp(c));
    this.el.hidden = !shown.length;
    this.el.setAttribute('aria-label', t('notices.label'));
    replace(this.el, shown.map((c) => h('div', { class: ['notice', admin ? 'notice-bad' : 'notice-neutral'], dataset: { channel: String(c.id) } },
      icon(admin ? 'circle-alert' : 'info'),
      h('p', { class: 'notice-text' },
        admin ? t('notices.reauth_admin', { channel: c.name }) : t('notices.reauth_agent', { channel: c.name }),
        admin && c.status_reason ? h('span', { class: 'notice-reason' }, t('notices.reason', { reason: c.status_reason })) : null),
      admin ? h('a', { class: 'button small', href: `/admin/channels/${c.id}?fix=1`,
        'aria-label': t('notices.fix_named', { channel: c.name }) }, t('notices.fix')) : null,
      h('button', { type: 'button', class: 'icon-button small', 'aria-label': t('notices.dismiss_named', { channel: c.name }),
        title: t('common.dismiss'), onclick: () => this.dismiss(c) }, icon('x')))));
  }

  relabel() {
    this.render();
  }

  destroy() {
    clearInterval(this.timer);
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.ctx.realtime) this.ctx.realtime.removeEventListener('resync', this.onResync);
  }
}
