// Admin and supervisor screens: a section menu and the section the URL names (/admin/<section>/…).
// Sections register here; each module exports mount(ctx, el, route) → {update(route), unmount()}.

import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';

export const SECTIONS = [
  // {id, icon, module, roles}: roles that may open it (the API enforces it again).
];

export function mount(ctx, outlet, route) {
  const menu = h('nav', { class: 'admin-menu', 'aria-label': t('admin.menu') });
  const body = h('div', { class: 'admin-body' });
  replace(outlet, h('div', { class: 'admin' }, menu, body));
  let current = null;
  let currentId = null;

  function allowed(section) {
    return !section.roles || section.roles.includes(ctx.me.role);
  }

  async function show(where) {
    if (!['admin', 'supervisor'].includes(ctx.me.role)) {
      replace(menu);
      replace(body, h('section', { class: 'empty-page' }, h('h1', {}, t('admin.admins_only'))));
      return;
    }
    const visible = SECTIONS.filter(allowed);
    const id = (where.params.section || '').split('/')[0] || (visible[0] && visible[0].id);
    replace(menu, h('ul', {}, visible.map((s) => h('li', {}, h('a', { href: `/admin/${s.id}`, class: ['nav-link', s.id === id && 'active'],
      'aria-current': s.id === id ? 'page' : null }, icon(s.icon), h('span', {}, t(`admin.sections.${s.id}`)))))));
    const section = visible.find((s) => s.id === id);
    if (!section) {
      if (current) current.unmount();
      current = null;
      currentId = null;
      replace(body, h('section', { class: 'empty-page' }, h('h1', {}, t('admin.admins_only'))));
      return;
    }
    if (current && currentId === id) {
      current.update(where);
      return;
    }
    if (current) current.unmount();
    const { mount: mountSection } = await import(section.module);
    currentId = id;
    current = mountSection(ctx, body, where);
  }
  show(route);
  return {
    update: (where) => show(where),
    unmount() { if (current) current.unmount(); },
  };
}
