// The sidebar: preset views with live counts, then the filters (profile, event, channel kind, channel, status,
// handler, assignee, window), each mirrored in the URL.

import { get } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { PRESETS, toSearch } from '../filters.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';

const KINDS = ['whatsapp', 'messenger', 'instagram', 'email', 'webchat', 'api'];

export class Sidebar {
  constructor(ctx, el, state) {
    this.ctx = ctx;
    this.el = el;
    this.state = state;
    this.options = { profiles: [], events: [], channels: [] };
    this.counts = null;
    this.el.setAttribute('aria-label', t('inbox.sidebar'));
    this.loadOptions();
  }

  async loadOptions() {
    const [profiles, events, channels] = await Promise.all([
      get('/profiles').catch(() => []), get('/events').catch(() => []), get('/channels').catch(() => []),
    ]);
    this.options = { profiles: listOf(profiles), events: listOf(events), channels: listOf(channels) };
    this.render();
  }

  go(filters) {
    const path = this.state.selectedId ? `/conversations/${this.state.selectedId}` : '/';
    navigate(path + toSearch(filters), { replace: false });
  }

  setFilter(key, value) {
    const filters = { ...this.state.filters };
    if (value === '' || value === null || (Array.isArray(value) && !value.length)) delete filters[key];
    else filters[key] = value;
    this.go(filters);
  }

  select(id, label, key, choices, value) {
    return h('div', { class: 'field compact' },
      h('label', { for: id }, label),
      h('select', { id, onchange: (event) => this.setFilter(key, event.target.value) },
        h('option', { value: '' }, t('filters.any')),
        choices.map(([v, text]) => h('option', { value: String(v), selected: String(value ?? '') === String(v) }, text))));
  }

  render() {
    this.el.setAttribute('aria-label', t('inbox.sidebar'));
    const f = this.state.filters;
    const active = f.view || (Object.keys(f).length ? null : 'all');
    const presets = h('ul', { class: 'presets' }, PRESETS.map((preset, index) => h('li', {},
      h('a', { href: `/${toSearch({ view: preset.id })}`, class: ['preset', active === preset.id && 'active'],
        'aria-current': active === preset.id ? 'true' : null, 'aria-keyshortcuts': String(index + 1) },
      icon(preset.icon), h('span', {}, t(`presets.${preset.id}`)),
      this.counts && this.counts[preset.id] !== undefined
        ? h('span', { class: 'count' }, String(this.counts[preset.id])) : null))));
    const o = this.options;
    replace(this.el,
      h('h2', { class: 'sidebar-title' }, t('inbox.views')),
      presets,
      h('h2', { class: 'sidebar-title' }, t('inbox.filters')),
      h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
        this.select('filter-profile', t('filters.profile'), 'profile', o.profiles.map((p) => [p.id, p.name]), f.profile),
        this.select('filter-event', t('filters.event'), 'event', o.events.map((e) => [e.id, e.name]), f.event),
        this.select('filter-kind', t('filters.kind'), 'kind', KINDS.map((k) => [k, t(`kinds.${k}`)]), (f.kind || [])[0]),
        this.select('filter-channel', t('filters.channel'), 'channel', o.channels.map((c) => [c.id, c.name]), f.channel),
        this.select('filter-status', t('filters.status'), 'status',
          ['open', 'pending', 'snoozed', 'resolved'].map((s) => [s, t(`status.${s}`)]), (f.status || [])[0]),
        this.select('filter-handler', t('filters.handler'), 'handler', [['bot', t('handler.bot')], ['human', t('handler.human')]],
          f.handler),
        this.select('filter-assignee', t('filters.assignee'), 'assignee',
          [['me', t('filters.assignee_me')], ['none', t('filters.assignee_none')]], f.assignee),
        this.select('filter-window', t('filters.window'), 'window',
          ['open', 'closing', 'closed'].map((w) => [w, t(`window.${w}`)]), f.window),
        Object.keys(f).length ? h('a', { class: 'button ghost small', href: this.state.selectedId
          ? `/conversations/${this.state.selectedId}` : '/' }, icon('x'), t('filters.clear')) : null));
  }

  destroy() {}
}

function listOf(value) {
  return Array.isArray(value) ? value : (value && value.items) || [];
}
