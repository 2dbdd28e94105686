// Admin and supervisor screens: a section menu and the section the URL names (/admin/<section>/…).
// Sections register here; each module exports mount(ctx, el, route) → {update(route, {relabel}), unmount()}.

import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { adminsOnly } from './kit.js';

const ADMIN = ['admin'];
const STAFF = ['admin', 'supervisor'];

export const SECTIONS = [
  // {id, icon, module, roles}: roles that may open it (the API enforces it again).
  { id: 'channels', icon: 'message-circle', module: './channels.js', roles: ADMIN },
  { id: 'operators', icon: 'users', module: './operators.js', roles: ADMIN },
  { id: 'profiles', icon: 'building-2', module: './profiles.js', roles: ADMIN },
  { id: 'scripts', icon: 'scroll-text', module: './scripts.js', roles: STAFF },
  { id: 'articles', icon: 'book-open', module: './articles.js', roles: STAFF },
  { id: 'try', icon: 'play', module: './try-page.js', roles: STAFF },
  { id: 'templates', icon: 'layout-template', module: './templates.js', roles: STAFF },
  { id: 'audit', icon: 'shield', module: './audit.js', roles: STAFF },
];

export function mount(ctx, outlet, route) {
  const menu = h('nav', { class: 'admin-menu', 'aria-label': t('admin.menu') });
  const body = h('div', { class: 'admin-body' });
  const frame = h('div', { class: 'admin' }, menu, body);
  replace(outlet, frame);
  let current = null;
  let currentId = null;
  let loading = 0;

  function allowed(section) {
    return !section.roles || section.roles.includes(ctx.me.role);
  }

  async function show(where, opts = {}) {
    if (opts.relabel) menu.setAttribute('aria-label', t('admin.menu'));
    if (!['admin', 'supervisor'].includes(ctx.me.role)) {
      replace(menu);
      menu.hidden = true;
      frame.classList.add('no-menu'); // the body takes the whole width, not the menu's column
      document.title = `${t('admin.admins_only')} · Helpline`;
      replace(body, adminsOnly());
      return;
    }
    const visible = SECTIONS.filter(allowed);
    const id = (where.params.section || '').split('/')[0] || (visible[0] && visible[0].id);
    replace(menu, h('ul', {}, visible.map((s) => h('li', {}, h('a', { href: `/admin/${s.id}`, class: ['nav-link', s.id === id && 'active'],
      'aria-current': s.id === id ? 'page' : null }, icon(s.icon), h('span', {}, t(`admin.sections.${s.id}`)))))));
    const active = menu.querySelector('.active');
    if (active && menu.scrollWidth > menu.clientWidth) menu.scrollLeft = Math.max(0, active.offsetLeft - 16);
    const section = visible.find((s) => s.id === id);
    if (!section) {
      if (current) current.unmount();
      current = null;
      currentId = null;
      document.title = `${t('admin.admins_only')} · Helpline`;
      replace(body, adminsOnly());
      return;
    }
    if (current && currentId === id) {
      current.update(where, opts);
      return;
    }
    if (current) current.unmount();
    current = null;
    currentId = id;
    const mine = ++loading;
    const { mount: mountSection } = await import(section.module);
    if (mine !== loading) return; // another section was asked for meanwhile
    body.scrollTop = 0;
    current = mountSection(ctx, body, where);
  }
  show(route);
  return {
    update: (where, opts) => show(where, opts),
    unmount() { if (current) current.unmount(); },
  };
}
