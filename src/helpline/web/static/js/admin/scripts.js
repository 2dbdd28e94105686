// Service scripts (/admin/scripts): the list, and the editor at /admin/scripts/<id|new>.

import { get } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { full, relative } from '../format.js';
import { t } from '../i18n.js';
import { byName, emptyState, loadInto, pageHead, subPath, tOr } from './kit.js';
import { mountScriptEditor } from './script-editor.js';

const MIN_EXAMPLES = 5;

function listPage(ctx, el) {
  const region = h('div', { class: 'region' });
  const admin = ctx.me.role === 'admin';
  const frame = () => replace(el, h('section', { class: 'page admin-page wide' },
    pageHead(t('admin.sections.scripts'), {
      lead: t('admin.scripts.lead'),
      actions: admin ? [h('a', { class: 'button primary', href: '/admin/scripts/new' }, icon('plus'), t('admin.scripts.add'))] : [],
    }), region));
  frame();
  const reload = loadInto(region, {
    what: () => t('admin.scripts.what'),
    load: () => get('/scripts'),
    render: (scripts) => {
      if (!scripts.length) {
        replace(region, emptyState({ iconName: 'scroll-text', title: t('admin.scripts.empty'), body: t('admin.scripts.empty_body'),
          action: admin ? h('a', { class: 'button primary', href: '/admin/scripts/new' }, icon('plus'), t('admin.scripts.add')) : null }));
        return;
      }
      const cols = ['name', 'languages', 'steps', 'examples', 'status', 'updated'];
      replace(region, h('table', { class: 'data' },
        h('caption', { class: 'sr-only' }, t('admin.sections.scripts')),
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: ['steps', 'examples'].includes(c) ? 'num' : null }, t(`admin.scripts.cols.${c}`))))),
        h('tbody', {}, byName(scripts).map((s) => {
          const d = s.definition;
          const few = d.examples.length < MIN_EXAMPLES;
          return h('tr', { class: s.active ? null : 'inactive' },
            h('td', { 'data-label': t('admin.scripts.cols.name') }, h('div', {}, h('a', { class: 'name-link', href: `/admin/scripts/${s.id}` }, icon('scroll-text'), h('span', {}, s.name)),
              d.demand ? h('p', { class: 'hint' }, d.demand) : null)),
            h('td', { 'data-label': t('admin.scripts.cols.languages') }, d.languages.map((code) => tOr(`admin.bot_languages.${code}`, code)).join(', ')),
            h('td', { class: 'num', 'data-label': t('admin.scripts.cols.steps') }, String(d.steps.length)),
            h('td', { class: 'num', 'data-label': t('admin.scripts.cols.examples') }, few
              ? h('span', { class: 'chip status-warn', title: t('admin.scripts.examples_few', { count: d.examples.length, min: MIN_EXAMPLES }) }, icon('triangle-alert'), String(d.examples.length))
              : String(d.examples.length)),
            h('td', { 'data-label': t('admin.scripts.cols.status') }, s.active
              ? h('span', { class: 'chip status-ok' }, icon('circle-check'), t('admin.scripts.active'))
              : h('span', { class: 'chip' }, t('admin.scripts.inactive'))),
            h('td', { 'data-label': t('admin.scripts.cols.updated') }, h('time', { datetime: s.updated_at, title: full(s.updated_at) },
              t('admin.scripts.updated', { n: s.current_version, when: relative(s.updated_at) }))));
        }))));
    },
  });
  return { update: (route, { relabel } = {}) => { if (relabel) { frame(); reload(); } }, unmount() {} };
}

export function mount(ctx, el, route) {
  let view = null;
  let key = null;
  function show(where, opts = {}) {
    const [first] = subPath(where);
    const want = first || '';
    if (view && key === want) { view.update(where, opts); return; }
    if (view) view.unmount();
    key = want;
    if (!want) view = listPage(ctx, el);
    else if (want === 'new' && ctx.me.role !== 'admin') {
      replace(el, h('section', { class: 'empty-page' }, h('h1', {}, t('admin.admins_only'))));
      view = { update() {}, unmount() {} };
    } else if (want === 'new' || /^\d+$/.test(want)) view = mountScriptEditor(ctx, el, want === 'new' ? 'new' : Number(want));
    else {
      replace(el, h('section', { class: 'empty-page' }, h('h1', {}, t('missing.title'))));
      view = { update() {}, unmount() {} };
    }
  }
  show(route);
  return { update: show, unmount() { if (view) view.unmount(); } };
}
