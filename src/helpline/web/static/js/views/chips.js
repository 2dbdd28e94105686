// The active filters as removable chips over the list: each says what it filters in words and removes itself.

import { h, icon, replace } from '../dom.js';
import { PRESETS, toSearch } from '../filters.js';
import { has, t } from '../i18n.js';
import { navigate } from '../router.js';
import { byId, loadOptions, options } from './options.js';

/** The words for one filter value ("Open", "Feira 2026", "Maria"), from the loaded choices when it is an id. */
export function valueLabel(key, value, me) {
  const o = options();
  const named = (list) => (byId(list, value) || {}).name || t('filters.unknown', { id: value });
  // A code the catalogue does not know (a newer server's) reads as itself, never as an i18n key.
  const word = (key) => (has(key) ? t(key) : String(value));
  switch (key) {
    case 'view': {
      const preset = PRESETS.find((p) => p.id === value);
      return preset ? t(`presets.${preset.id}`) : value;
    }
    case 'profile': return named(o.profiles);
    case 'event': return named(o.events);
    case 'channel': return named(o.channels);
    case 'kind': return word(`kinds.${value}`);
    case 'status': return word(`status.${value}`);
    case 'handler': return word(`handler.${value}`);
    case 'window': return word(`window.${value}`);
    case 'sort': return word(`filters.sort_${value}`);
    case 'waiting': return t('filters.waiting_only');
    case 'contact': return t('filters.contact_value', { id: value });
    case 'q': return value;
    case 'assignee':
      if (value === 'me') return t('filters.assignee_me');
      if (value === 'none') return t('filters.assignee_none');
      if (String(value) === String(me.id)) return t('filters.assignee_me');
      return named(o.operators);
    default: return String(value);
  }
}

export class FilterChips {
  constructor(ctx, state) {
    this.ctx = ctx;
    this.state = state;
    this.el = h('ul', { class: 'filter-chips', 'aria-label': t('inbox.active_filters') });
    loadOptions().then(() => this.render());
  }

  go(filters) {
    const path = this.state.selectedId ? `/conversations/${this.state.selectedId}` : '/';
    navigate(path + toSearch(filters));
  }

  remove(key) {
    const filters = { ...this.state.filters };
    delete filters[key];
    if (key === 'view') {
      // Leaving a preset keeps the operator's own filters.
      delete filters.view;
    }
    this.go(filters);
  }

  clearAll() {
    this.go({});
  }

  render() {
    this.el.setAttribute('aria-label', t('inbox.active_filters'));
    const f = this.state.filters;
    const keys = Object.keys(f).filter((key) => !(key === 'view' && f.view === 'all'));
    const chips = keys.map((key) => {
      const values = Array.isArray(f[key]) ? f[key] : [f[key]];
      const text = t('filters.chip', { filter: t(`filters.${key}`), value: values.map((v) => valueLabel(key, v, this.ctx.me)).join(', ') });
      return h('li', {}, h('button', { type: 'button', class: 'filter-chip', title: t('filters.remove', { filter: text }),
        'aria-label': t('filters.remove', { filter: text }), onclick: () => this.remove(key) },
      h('span', { class: 'filter-chip-text' }, text), icon('x')));
    });
    if (chips.length > 1) {
      chips.push(h('li', {}, h('button', { type: 'button', class: 'filter-chip clear', onclick: () => this.clearAll() },
        t('filters.clear'))));
    }
    replace(this.el, chips);
    this.el.hidden = !chips.length;
  }

  destroy() {}
}
