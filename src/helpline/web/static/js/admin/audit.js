// The audit log (/admin/audit?action=&target_type=&target_id=): read-only, newest first, a windowed table
// (fixed 36 px rows, only the visible ones in the DOM) that pages on with GET /audit?before_id= as it scrolls.

import { get } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { full, relative } from '../format.js';
import { t } from '../i18n.js';
import { emptyState, errorBox, field, pageHead, tOr } from './kit.js';

const ROW = 36;
const ROW_PHONE = 112;
const OVERSCAN = 8;
const PAGE = 100;
const FILTERS = ['action', 'target_type', 'target_id'];
const KNOWN_ACTIONS = ['article.created', 'article.deleted', 'article.updated', 'bot.script_chosen', 'channel.created', 'channel.deleted',
  'channel.needs_reauth', 'channel.updated', 'contact.merged', 'contact.updated', 'conversation.escalated', 'conversation.takeover',
  'event.created', 'operator.created', 'operator.updated', 'privacy.data_deletion', 'privacy.deauthorize', 'profile.created',
  'script.created', 'script.deleted', 'script.updated', 'webhook.created', 'webhook.deleted', 'webhook.updated'];
const TARGET_TYPES = ['article', 'channel', 'contact', 'conversation', 'deletion_request', 'event', 'operator', 'profile', 'script', 'webhook'];
const LINKS = { channel: (id) => `/admin/channels/${id}`, operator: (id) => `/admin/operators/${id}`, script: (id) => `/admin/scripts/${id}`,
  article: (id) => `/admin/articles/${id}`, profile: (id) => `/admin/profiles/profile-${id}`, event: (id) => `/admin/profiles/event-${id}`,
  conversation: (id) => `/conversations/${id}` };

/** The details object as one readable line in the operator's language: `campos: Nome, Status · tipo: WhatsApp`. */
function detailsText(details) {
  const codes = { kind: 'kinds', fields: 'validation.fields', reason: 'escalation', method: 'admin.audit.methods' };
  const word = (key, value) => (codes[key] && /^[a-z_+]+$/.test(String(value))
    ? tOr(`${codes[key]}.${String(value).replace(/\+/g, '_')}`, String(value)) : String(value));
  return Object.entries(details || {}).map(([key, value]) => `${tOr(`admin.audit.details.${key}`, key)}: ${Array.isArray(value)
    ? value.map((item) => word(key, item)).join(', ') : typeof value === 'object' && value !== null ? JSON.stringify(value)
      : word(key, value)}`).join(' · ');
}

export function mount(ctx, el, route) {
  let filters = {};
  let rows = [];
  let done = false;
  let loading = false;
  let error = null;
  let generation = 0;
  let operators = new Map();
  const viewport = h('div', { class: 'audit-window', tabindex: '0', role: 'region', 'aria-labelledby': 'audit-caption' });
  const table = h('div', { class: 'audit-table', role: 'table', 'aria-labelledby': 'audit-caption' });
  const body = h('div', { class: 'audit-rows', role: 'rowgroup' });
  const status = h('div', { class: 'audit-status', role: 'status' });
  const rowHeight = () => (window.matchMedia('(max-width: 767px)').matches ? ROW_PHONE : ROW);

  function readFilters(where) {
    const next = {};
    for (const key of FILTERS) { const value = where.query.get(key); if (value) next[key] = value; }
    return next;
  }

  function setFilter(key, value) {
    const params = new URLSearchParams(location.search);
    if (value) params.set(key, value); else params.delete(key);
    const text = params.toString();
    ctx.navigate(`/admin/audit${text ? `?${text}` : ''}`, { replace: true });
  }

  function filterBar() {
    const input = (key, props, list) => field({ id: `audit-${key}`, label: t(`admin.audit.filters.${key}`), control: h('input', {
      ...props, value: filters[key] || '', list: list ? `audit-${key}-list` : null,
      onchange: (event) => setFilter(key, event.target.value.trim()),
    }), extra: list ? h('datalist', { id: `audit-${key}-list` }, list.map((v) => h('option', { value: v }))) : null });
    return h('form', { class: 'filters-bar', role: 'search', 'aria-label': t('admin.audit.filters.label'), onsubmit: (event) => event.preventDefault() },
      input('action', { type: 'text', spellcheck: 'false', class: 'mono' }, KNOWN_ACTIONS),
      input('target_type', { type: 'text', spellcheck: 'false', class: 'mono' }, TARGET_TYPES),
      input('target_id', { type: 'number', min: 1, inputmode: 'numeric' }),
      Object.keys(filters).length ? h('a', { class: 'button ghost', href: '/admin/audit' }, icon('x'), t('admin.audit.clear')) : null);
  }

  function frame() {
    replace(el, h('section', { class: 'page admin-page wide' },
      pageHead(t('admin.sections.audit'), { lead: t('admin.audit.lead') }),
      filterBar(),
      h('p', { id: 'audit-caption', class: 'sr-only' }, t('admin.sections.audit')),
      viewport, status));
    replace(table,
      h('div', { class: 'audit-head', role: 'row' }, ['when', 'operator', 'action', 'target', 'details'].map((c) => h('span', { role: 'columnheader' }, t(`admin.audit.cols.${c}`)))),
      body);
    replace(viewport, table);
  }

  function row(entry, index) {
    const who = entry.operator_id === null ? t('admin.audit.system') : operators.get(entry.operator_id) || t('admin.audit.operator_n', { id: entry.operator_id });
    const link = entry.target_id !== null && LINKS[entry.target_type] ? LINKS[entry.target_type](entry.target_id) : null;
    const target = `${tOr(`admin.audit.types.${entry.target_type}`, entry.target_type)}${entry.target_id !== null ? ` #${entry.target_id}` : ''}`;
    const details = detailsText(entry.details);
    const item = h('div', { class: 'audit-row', role: 'row', 'aria-rowindex': String(index + 2) },
      h('span', { role: 'cell' }, h('time', { datetime: entry.created_at, title: full(entry.created_at) }, relative(entry.created_at))),
      h('span', { role: 'cell', title: who }, who),
      h('span', { role: 'cell', title: entry.action }, tOr(`admin.audit.actions.${entry.action.replace(/\./g, '_')}`, entry.action)),
      h('span', { role: 'cell' }, link ? h('a', { href: link }, target) : target),
      h('span', { role: 'cell', title: details }, details));
    item.style.transform = `translateY(${index * rowHeight()}px)`;
    return item;
  }

  function paint() {
    const height = rowHeight();
    body.style.height = `${rows.length * height}px`;
    table.setAttribute('aria-rowcount', done ? String(rows.length + 1) : '-1');
    const top = Math.max(0, viewport.scrollTop - 32);
    const first = Math.max(0, Math.floor(top / height) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + viewport.clientHeight) / height) + OVERSCAN);
    replace(body, rows.slice(first, last).map((entry, i) => row(entry, first + i)));
    if (error) replace(status, errorBox(t('admin.audit.what'), error, () => { error = null; more(); }));
    else if (loading) replace(status, t('common.loading'));
    else if (!rows.length) replace(status, emptyState({ iconName: 'shield', title: Object.keys(filters).length ? t('admin.audit.empty_filtered') : t('admin.audit.empty'),
      action: Object.keys(filters).length ? h('a', { class: 'button', href: '/admin/audit' }, t('admin.audit.clear')) : null }));
    else replace(status, done ? t('admin.audit.end', { count: rows.length }) : t('admin.audit.shown', { count: rows.length }));
  }

  async function more() {
    if (loading || done) return;
    loading = true;
    const mine = generation;
    paint();
    try {
      const query = { ...filters, limit: PAGE };
      if (rows.length) query.before_id = rows[rows.length - 1].id;
      const page = await get('/audit', query);
      if (mine !== generation) return;
      rows = rows.concat(page);
      done = page.length < PAGE;
    } catch (err) {
      if (mine !== generation) return;
      error = err;
    } finally {
      if (mine === generation) { loading = false; paint(); }
    }
  }

  function restart(where) {
    const focused = document.activeElement && document.activeElement.id;
    filters = readFilters(where);
    generation += 1;
    rows = [];
    done = false;
    loading = false;
    error = null;
    frame();
    if (focused) { const again = el.querySelector(`#${focused}`); if (again) again.focus(); }
    viewport.scrollTop = 0;
    more();
  }

  viewport.addEventListener('scroll', () => {
    paint();
    if (viewport.scrollTop + viewport.clientHeight > rows.length * rowHeight() - 10 * rowHeight()) more();
  }, { passive: true });

  get('/operators').then((list) => { operators = new Map(list.map((o) => [o.id, o.name])); paint(); }).catch(() => {});
  restart(route);
  return {
    update(where, { relabel } = {}) {
      const next = readFilters(where);
      if (relabel || JSON.stringify(next) !== JSON.stringify(filters)) {
        if (relabel && JSON.stringify(next) === JSON.stringify(filters)) { frame(); paint(); return; }
        restart(where);
      }
    },
    unmount() { generation += 1; },
  };
}
