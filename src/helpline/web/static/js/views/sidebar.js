// The sidebar ("Views and filters"): preset views and saved views with live counts, then the filters, each
// mirrored in the URL. Wide screens show it whole; 1024–1439 px a 56 px icon rail whose filters fly out;
// narrower screens open it as a drawer (a sheet on phones).

import { ApiError, get } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { activeSavedView, KINDS, PRESETS, STATUSES, WINDOWS, savedViewFilters, toSearch } from '../filters.js';
import { duration, number, onTick } from '../format.js';
import { t } from '../i18n.js';
import { prefs, save } from '../prefs.js';
import { navigate } from '../router.js';
import { channelIcon } from './channels.js';
import { loadOptions, options } from './options.js';
import { Picker } from './picker.js';

const COUNT_EVERY = 5000; // counts refresh on frames, at most every 5 s
// Server names the counts endpoint may use for our preset ids.
const COUNT_ALIASES = {
  all: ['all'], mine: ['mine', 'mine_open'], waiting: ['waiting', 'waiting_for_human', 'waiting_human'],
  bot: ['bot', 'bot_handling'], closing: ['closing', 'whatsapp_closing', 'closing_soon'], snoozed: ['snoozed'],
  resolved: ['resolved'],
};

export class Sidebar {
  constructor(ctx, el, state) {
    this.ctx = ctx;
    this.el = el;
    this.state = state;
    this.counts = null;
    this.countsMissing = false;
    this.lastCount = 0;
    this.countTimer = null;
    this.opener = null;
    this.el.id = 'sidebar';
    this.onConversation = () => this.refreshCountsSoon();
    ctx.store.addEventListener('conversation', this.onConversation);
    this.onResync = () => this.refreshCounts();
    ctx.realtime.addEventListener('resync', this.onResync);
    ctx.realtime.addEventListener('hello', this.onResync);
    this.onPrefs = () => this.render();
    window.addEventListener('helpline:prefs', this.onPrefs);
    this.onKey = (event) => {
      if (event.key === 'Escape' && this.el.dataset.open === 'true') {
        event.preventDefault();
        this.close();
      }
    };
    this.el.addEventListener('keydown', this.onKey);
    this.build();
    loadOptions().then(() => this.build());
    this.refreshCounts();
    this.untick = onTick(() => this.paintCounts());
  }

  // --- counts ---------------------------------------------------------------------------------------------

  async refreshCounts() {
    // The first socket hello arrives right after the first load: one request answers both.
    if (this.countsMissing || Date.now() - this.lastCount < 1000) return;
    this.lastCount = Date.now();
    try {
      const data = await get('/conversations/counts');
      const table = (data && (data.presets || data.views)) || data || {};
      const counts = {};
      for (const [id, names] of Object.entries(COUNT_ALIASES)) {
        const name = names.find((n) => table[n] !== undefined);
        if (name === undefined) continue;
        const value = table[name];
        counts[id] = typeof value === 'number' ? value : value && typeof value.count === 'number' ? value.count : undefined;
      }
      this.counts = counts;
      this.countsData = data;
      this.paintCounts();
      window.dispatchEvent(new CustomEvent('helpline:counts', { detail: data }));
    } catch (err) {
      // A server without the endpoint yet: no counts, no retries.
      if (err instanceof ApiError && (err.status === 404 || err.status === 405 || err.status === 422)) this.countsMissing = true;
    }
  }

  refreshCountsSoon() {
    if (this.countTimer || this.countsMissing) return;
    const wait = Math.max(0, COUNT_EVERY - (Date.now() - this.lastCount));
    this.countTimer = setTimeout(() => { this.countTimer = null; this.refreshCounts(); }, wait);
  }

  paintCounts() {
    const oldest = this.countsData && this.countsData.oldest_waiting_since;
    for (const node of this.el.querySelectorAll('[data-oldest]')) {
      node.textContent = oldest ? t('inbox.oldest_wait', { wait: duration(Date.now() - Date.parse(oldest)) }) : '';
      node.hidden = !oldest;
    }
    for (const node of this.el.querySelectorAll('[data-count-for]')) {
      const value = this.counts ? this.counts[node.dataset.countFor] : undefined;
      node.textContent = value === undefined ? '' : value > 999 ? '999+' : number(value);
      node.hidden = value === undefined;
      const link = node.closest('a');
      if (link) {
        const name = link.dataset.name;
        link.setAttribute('aria-label', value === undefined ? name : t('inbox.view_count', { view: name, count: value }));
      }
    }
  }

  // --- navigation ------------------------------------------------------------------------------------------

  href(filters) {
    const path = this.state.selectedId ? `/conversations/${this.state.selectedId}` : '/';
    return path + toSearch(filters);
  }

  setFilter(key, value) {
    const filters = { ...this.state.filters };
    if (value === '' || value === null || value === undefined || (Array.isArray(value) && !value.length)) delete filters[key];
    else filters[key] = value;
    navigate(this.href(filters));
  }

  /** Open as flyout (rail) or drawer (narrow screens); `opener` gets focus back on close. */
  open(opener) {
    this.opener = opener || document.activeElement;
    this.el.dataset.open = 'true';
    this.el.querySelectorAll('.rail-filters').forEach((b) => b.setAttribute('aria-expanded', 'true'));
    const first = this.el.querySelector('.filters-panel button, .filters-panel input, .filters-panel select');
    if (first) first.focus();
  }

  close() {
    if (this.el.dataset.open !== 'true') return;
    delete this.el.dataset.open;
    this.el.querySelectorAll('.rail-filters').forEach((b) => b.setAttribute('aria-expanded', 'false'));
    if (this.opener && this.opener.isConnected) this.opener.focus();
    this.opener = null;
  }

  toggle(opener) {
    if (this.el.dataset.open === 'true') this.close();
    else this.open(opener);
  }

  // --- rendering ---------------------------------------------------------------------------------------------

  activeView() {
    const f = this.state.filters;
    if (f.view) return { kind: 'preset', id: f.view };
    const saved = activeSavedView(f, prefs.saved_views);
    if (saved) return { kind: 'saved', id: (prefs.saved_views || []).indexOf(saved) };
    return Object.keys(f).length ? null : { kind: 'preset', id: 'all' };
  }

  viewLinks() {
    const active = this.activeView();
    const isActive = (kind, id) => active && active.kind === kind && active.id === id;
    const presetItems = PRESETS.map((preset, index) => {
      const name = t(`presets.${preset.id}`);
      const on = isActive('preset', preset.id);
      return h('li', {}, h('a', {
        href: this.href(preset.id === 'all' ? {} : { view: preset.id }), class: ['preset', on && 'active'],
        'aria-current': on ? 'page' : null, 'aria-keyshortcuts': String(index + 1), title: `${name} (${index + 1})`,
        dataset: { name }, onclick: () => this.close(),
      }, icon(preset.icon), h('span', { class: 'preset-name' }, name,
        preset.id === 'waiting' ? h('span', { class: 'oldest-wait', dataset: { oldest: 'true' }, hidden: true }) : null),
      h('span', { class: 'count', dataset: { countFor: preset.id }, hidden: true })));
    });
    const saved = (prefs.saved_views || []).map((view, index) => {
      const position = PRESETS.length + index + 1;
      const on = isActive('saved', index);
      return h('li', {}, h('a', {
        href: this.href(savedViewFilters(view)), class: ['preset', 'saved', on && 'active'], 'aria-current': on ? 'page' : null,
        'aria-keyshortcuts': position <= 9 ? String(position) : null, title: view.name, dataset: { name: view.name },
        onclick: () => this.close(),
      }, icon('star'), h('span', { class: 'preset-name' }, view.name)));
    });
    return h('ul', { class: 'presets' }, presetItems, saved);
  }

  saveViewForm() {
    const own = Object.keys(this.state.filters).length;
    const status = h('p', { class: 'form-status', role: 'status' });
    const input = h('input', { type: 'text', id: 'save-view-name', maxlength: 60, required: true, autocomplete: 'off' });
    const form = h('form', { class: 'save-view', hidden: true, onsubmit: async (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) {
        input.setAttribute('aria-invalid', 'true');
        status.textContent = t('inbox.save_view.name_missing');
        return;
      }
      const view = { name, query: toSearch(this.state.filters).replace(/^\?/, '') };
      try {
        await save({ saved_views: [...(prefs.saved_views || []), view] });
        this.ctx.shell.toast(t('inbox.save_view.saved', { name }));
      } catch (err) {
        this.ctx.shell.toast(t('inbox.save_view.failed', { reason: err.message }), { kind: 'error' });
      }
      this.build();
    } },
    h('label', { for: 'save-view-name' }, t('inbox.save_view.name')), input, status,
    h('div', { class: 'row-actions' },
      h('button', { type: 'submit', class: 'button small primary' }, t('common.save')),
      h('button', { type: 'button', class: 'button small', onclick: () => { form.hidden = true; opener.hidden = false; opener.focus(); } },
        t('common.cancel'))));
    const opener = h('button', { type: 'button', class: 'button small ghost save-view-open', disabled: !own,
      title: own ? null : t('inbox.save_view.nothing'), onclick: () => {
        form.hidden = false;
        opener.hidden = true;
        input.value = '';
        input.focus();
      } }, icon('star'), t('inbox.save_view.open'));
    return h('div', { class: 'save-view-box' }, opener, form);
  }

  checkGroup(key, legend, values, labelOf) {
    const chosen = new Set(this.state.filters[key] || []);
    return h('fieldset', { class: 'check-group' }, h('legend', {}, legend),
      values.map((value) => {
        const id = `filter-${key}-${value}`;
        return h('label', { class: 'check', for: id },
          h('input', { type: 'checkbox', id, value, checked: chosen.has(value), onchange: () => {
            const now = new Set(this.state.filters[key] || []);
            if (now.has(value)) now.delete(value);
            else now.add(value);
            this.setFilter(key, [...now]);
          } }), labelOf(value));
      }));
  }

  select(key, label, choices) {
    const id = `filter-${key}`;
    const value = this.state.filters[key] || '';
    return h('div', { class: 'field compact' }, h('label', { for: id }, label),
      h('select', { id, onchange: (event) => this.setFilter(key, event.target.value) },
        choices.map(([v, text]) => h('option', { value: v, selected: String(value) === String(v) }, text))));
  }

  picker(key, label, choices) {
    return new Picker({
      id: `filter-${key}`, label: () => label, choices: () => choices, value: () => this.state.filters[key],
      onChange: (value) => this.setFilter(key, value),
    }).el;
  }

  filtersPanel() {
    const o = options();
    const any = { value: '', label: t('filters.any') };
    const me = this.ctx.me;
    const people = o.operators.filter((op) => op.id !== me.id).map((op) => ({ value: String(op.id), label: op.name, icon: 'user' }));
    return h('div', { class: 'filters-panel', id: 'filters-panel', role: 'group', 'aria-labelledby': 'filters-title' },
      h('div', { class: 'filters-head' },
        h('h2', { class: 'sidebar-title', id: 'filters-title' }, t('inbox.filters')),
        h('button', { type: 'button', class: 'icon-button filters-close', 'aria-label': t('common.close'), onclick: () => this.close() },
          icon('x'))),
      h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
        this.picker('profile', t('filters.profile'), [any, ...o.profiles.map((p) => ({ value: String(p.id), label: p.name,
          logo: p.logo_url, icon: 'building-2' }))]),
        this.picker('event', t('filters.event'), [any, ...o.events.map((e) => ({ value: String(e.id), label: e.name,
          logo: e.logo_url, icon: 'calendar' }))]),
        this.checkGroup('kind', t('filters.kind'), KINDS, (k) => [channelIcon(k), t(`kinds.${k}`)]),
        this.picker('channel', t('filters.channel'), [any, ...o.channels.map((c) => ({ value: String(c.id), label: c.name,
          icon: 'message-circle' }))]),
        this.checkGroup('status', t('filters.status'), STATUSES, (s) => t(`status.${s}`)),
        this.select('handler', t('filters.handler'), [['', t('filters.any')], ['bot', t('handler.bot')], ['human', t('handler.human')]]),
        this.picker('assignee', t('filters.assignee'), [{ value: '', label: t('filters.assignee_anyone') },
          { value: 'me', label: t('filters.assignee_me'), icon: 'user-check' },
          { value: 'none', label: t('filters.assignee_none'), icon: 'user-plus' }, ...people]),
        this.select('window', t('filters.window'), [['', t('filters.any')], ...WINDOWS.map((w) => [w, t(`window.${w}`)])]),
        this.select('sort', t('filters.sort'), [['', t('filters.sort_recent')], ['waiting', t('filters.sort_waiting')]])),
      this.saveViewForm());
  }

  /** Build the whole sidebar (once, on new options or saved views, and on a language switch). */
  build() {
    const focusedId = this.el.contains(document.activeElement) ? document.activeElement.id : null;
    this.el.setAttribute('aria-label', t('inbox.sidebar'));
    replace(this.el,
      h('div', { class: 'sidebar-drawer-head' }, h('h2', {}, t('inbox.sidebar')),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': t('common.close'), onclick: () => this.close() }, icon('x'))),
      h('div', { class: 'views-panel' },
        h('h2', { class: 'sidebar-title' }, t('inbox.views')),
        this.viewLinks(),
        h('button', { type: 'button', class: 'icon-button rail-filters', 'aria-label': t('inbox.open_filters'),
          title: t('inbox.open_filters'), 'aria-controls': 'filters-panel', 'aria-expanded': this.el.dataset.open === 'true' ? 'true' : 'false',
          onclick: (event) => this.toggle(event.currentTarget) }, icon('funnel'))),
      this.filtersPanel());
    this.paintCounts();
    if (focusedId) {
      const again = document.getElementById(focusedId);
      if (again) again.focus();
    }
  }

  /** The URL changed: rebuild keeps focus on the control the operator used. */
  render() {
    this.build();
  }

  destroy() {
    clearTimeout(this.countTimer);
    this.untick();
    this.ctx.store.removeEventListener('conversation', this.onConversation);
    this.ctx.realtime.removeEventListener('resync', this.onResync);
    this.ctx.realtime.removeEventListener('hello', this.onResync);
    window.removeEventListener('helpline:prefs', this.onPrefs);
  }
}
