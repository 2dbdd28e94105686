// WhatsApp message templates per channel (/admin/templates?channel=<id>): status chips, category, language,
// rejection reasons, when they last changed, and "Sync now" (admins) through POST …/templates/sync.

import { get, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { full, relative } from '../format.js';
import { t } from '../i18n.js';
import { byName, emptyState, errorText, field, loadInto, pageHead, tOr } from './kit.js';

const STATUS_CLASS = { APPROVED: 'status-ok', PENDING: 'status-warn', IN_APPEAL: 'status-warn', REJECTED: 'status-bad', PAUSED: 'status-bad',
  DISABLED: 'status-muted', DELETED: 'status-muted' };
const STATUS_ICON = { APPROVED: 'circle-check', PENDING: 'clock', IN_APPEAL: 'clock', REJECTED: 'circle-alert', PAUSED: 'circle-alert' };

function statusChip(status) {
  const code = String(status || '').toUpperCase();
  return h('span', { class: ['chip', STATUS_CLASS[code] || 'status-muted'] }, icon(STATUS_ICON[code] || 'info'), tOr(`admin.templates.status.${code}`, code));
}

export function mount(ctx, el, route) {
  const admin = ctx.me.role === 'admin';
  let channels = null;
  let channelId = null;
  let filter = '';
  const picker = h('div', {});
  const region = h('div', { class: 'region' });

  function frame() {
    replace(el, h('section', { class: 'page admin-page wide' }, pageHead(t('admin.sections.templates'), { lead: t('admin.templates.lead') }), picker, region));
  }

  async function sync(button) {
    button.disabled = true;
    const label = button.querySelector('span');
    label.textContent = t('admin.templates.syncing');
    try {
      const answer = await post(`/channels/${channelId}/templates/sync`);
      ctx.shell.toast(t('admin.templates.synced', { count: answer.templates }));
      button.disabled = false;
      label.textContent = t('admin.templates.sync');
      showTemplates();
    } catch (err) {
      button.disabled = false;
      label.textContent = t('admin.templates.sync');
      ctx.shell.toast(t('admin.templates.sync_failed', { reason: errorText(err) }), { kind: 'error', action: { label: t('common.retry'), run: () => sync(button) } });
    }
  }

  function paintPicker() {
    const wa = byName(channels.filter((c) => c.kind === 'whatsapp'));
    if (!wa.length) {
      replace(picker);
      replace(region, emptyState({ iconName: 'layout-template', title: t('admin.templates.no_channels'), body: t('admin.templates.no_channels_body'),
        action: admin ? h('a', { class: 'button primary', href: '/admin/channels/new/kind' }, icon('plus'), t('admin.channels.add')) : null }));
      return false;
    }
    if (!wa.some((c) => c.id === channelId)) channelId = wa[0].id;
    const syncButton = h('button', { type: 'button', class: 'button', onclick: (event) => sync(event.currentTarget) }, icon('refresh-cw'), h('span', {}, t('admin.templates.sync')));
    replace(picker, h('div', { class: 'filters-bar' },
      field({ id: 'tpl-channel', label: t('admin.templates.channel'), control: h('select', { onchange: (event) => {
        ctx.navigate(`/admin/templates?channel=${event.target.value}`, { replace: true });
      } }, wa.map((c) => h('option', { value: String(c.id), selected: c.id === channelId }, c.name))) }),
      field({ id: 'tpl-filter', label: t('admin.templates.filter'), control: h('input', { type: 'search', value: filter, oninput: (event) => { filter = event.target.value; paintRows(); } }) }),
      admin ? syncButton : null));
    return true;
  }

  let templates = [];
  const rowsSlot = h('div', {});

  function paintRows() {
    const needle = filter.trim().toLowerCase();
    const shown = templates.filter((tp) => !needle || tp.name.toLowerCase().includes(needle) || (tp.preview && tp.preview.body || '').toLowerCase().includes(needle));
    if (!templates.length) {
      replace(rowsSlot, emptyState({ iconName: 'layout-template', title: t('admin.templates.empty'),
        body: admin ? t('admin.templates.empty_admin') : t('admin.templates.empty_body') }));
      return;
    }
    const counts = {};
    templates.forEach((tp) => { counts[tp.status] = (counts[tp.status] || 0) + 1; });
    const last = templates.reduce((max, tp) => (tp.updated_at > max ? tp.updated_at : max), templates[0].updated_at);
    replace(rowsSlot,
      h('p', { class: 'hint' }, t('admin.templates.summary', { count: templates.length, approved: counts.APPROVED || 0 }), ' · ',
        h('time', { datetime: last, title: full(last) }, t('admin.templates.last_change', { when: relative(last) }))),
      shown.length ? h('table', { class: 'data' },
        h('caption', { class: 'sr-only' }, t('admin.sections.templates')),
        h('thead', {}, h('tr', {}, ['name', 'language', 'category', 'status', 'updated'].map((c) => h('th', { scope: 'col' }, t(`admin.templates.cols.${c}`))))),
        h('tbody', {}, shown.map((tp) => h('tr', { class: ['REJECTED', 'PAUSED'].includes(tp.status) ? 'row-bad' : null },
          h('td', { 'data-label': t('admin.templates.cols.name') }, h('div', {}, h('strong', { class: 'mono' }, tp.name),
            tp.preview && tp.preview.body ? h('p', { class: 'hint' }, tp.preview.body.length > 140 ? `${tp.preview.body.slice(0, 140)}…` : tp.preview.body) : null)),
          h('td', { 'data-label': t('admin.templates.cols.language') }, h('span', { class: 'mono' }, tp.language)),
          h('td', { 'data-label': t('admin.templates.cols.category') }, tOr(`admin.templates.category.${String(tp.category).toUpperCase()}`, tp.category)),
          h('td', { 'data-label': t('admin.templates.cols.status') }, h('div', { class: 'status-cell' }, statusChip(tp.status),
            tp.status_reason ? h('p', { class: 'status-reason' }, t('admin.templates.reason', { reason: tp.status_reason })) : null)),
          h('td', { 'data-label': t('admin.templates.cols.updated') }, h('time', { datetime: tp.updated_at, title: full(tp.updated_at) }, relative(tp.updated_at)))))))
        : h('p', { class: 'muted' }, t('admin.templates.no_match')));
  }

  function showTemplates() {
    loadInto(region, {
      what: () => t('admin.templates.what'),
      load: () => get(`/channels/${channelId}/templates`),
      render: (rows) => { templates = rows; replace(region, rowsSlot); paintRows(); },
    });
  }

  function show(where) {
    const wanted = Number(where.query.get('channel')) || null;
    if (wanted) channelId = wanted;
    if (paintPicker()) showTemplates();
  }

  frame();
  loadInto(region, {
    what: () => t('admin.channels.what'),
    load: () => get('/channels'),
    render: (rows) => { channels = rows; show(route); },
  });
  return {
    update(where, { relabel } = {}) {
      route = where;
      if (relabel) frame();
      if (channels) show(where);
    },
    unmount() {},
  };
}

