// A type-ahead picker (APG combobox with a listbox popup): a button shows the current choice (with its logo),
// opening a search field over the choices. Arrows move, Enter picks, Esc closes and returns focus to the button.

import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';

let serial = 0;

function fold(text) {
  return String(text).normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}

/** The 16 px logo of a choice: its image (same-origin URL from the API) or an icon. */
export function logoOf(choice) {
  if (choice && choice.logo) return h('img', { src: choice.logo, alt: '', class: 'logo16', width: 16, height: 16, decoding: 'async' });
  return choice && choice.icon ? icon(choice.icon) : null;
}

export class Picker {
  /**
   * @param {{id: string, label: () => string, choices: () => Array<{value: string, label: string, logo?: string,
   *   icon?: string}>, value: () => string|undefined, onChange: (value: string|null) => void}} spec
   *   The first choice should be "Any" with value ''.
   */
  constructor(spec) {
    this.spec = spec;
    serial += 1;
    this.uid = `picker-${spec.id}-${serial}`;
    this.active = 0;
    this.filtered = [];
    this.labelEl = h('span', { class: 'picker-label', id: `${this.uid}-label` });
    this.button = h('button', { type: 'button', class: 'picker-button', id: spec.id, 'aria-haspopup': 'listbox',
      'aria-expanded': 'false', onclick: () => this.toggle(), onkeydown: (e) => {
        if (e.key === 'ArrowDown') { e.preventDefault(); this.openPopup(); }
      } });
    this.input = h('input', { type: 'text', class: 'picker-search', role: 'combobox', autocomplete: 'off',
      'aria-autocomplete': 'list', 'aria-expanded': 'true', 'aria-controls': `${this.uid}-list`,
      oninput: () => { this.active = 0; this.renderList(); }, onkeydown: (e) => this.onKey(e) });
    this.list = h('ul', { class: 'picker-list', role: 'listbox', id: `${this.uid}-list`, 'data-typeahead': 'true',
      onmousedown: (e) => e.preventDefault(), onclick: (e) => {
        const item = e.target.closest('[data-index]');
        if (item) this.pick(Number(item.dataset.index));
      } });
    this.popup = h('div', { class: 'picker-popup', hidden: true }, this.input, this.list);
    this.el = h('div', { class: 'field compact picker', onfocusout: (e) => {
      if (!this.el.contains(e.relatedTarget)) this.close(false);
    } }, this.labelEl, this.button, this.popup);
    this.render();
  }

  render() {
    const current = this.spec.value() || '';
    const choices = this.spec.choices();
    const chosen = choices.find((c) => String(c.value) === String(current)) || choices[0];
    this.labelEl.textContent = this.spec.label();
    this.button.setAttribute('aria-labelledby', `${this.uid}-label ${this.uid}-value`);
    replace(this.button, logoOf(chosen), h('span', { class: 'picker-value', id: `${this.uid}-value` },
      chosen ? chosen.label : t('filters.any')), icon('chevron-down'));
    this.input.setAttribute('aria-label', t('filters.search_in', { filter: this.spec.label() }));
    this.input.placeholder = t('filters.type_to_search');
  }

  toggle() {
    if (this.popup.hidden) this.openPopup();
    else this.close(true);
  }

  openPopup() {
    this.popup.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.input.value = '';
    const current = String(this.spec.value() || '');
    this.active = Math.max(0, this.spec.choices().findIndex((c) => String(c.value) === current));
    this.renderList();
    this.input.focus();
  }

  close(refocus) {
    if (this.popup.hidden) return;
    this.popup.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (refocus) this.button.focus();
  }

  renderList() {
    const query = fold(this.input.value.trim());
    const choices = this.spec.choices();
    this.filtered = query ? choices.filter((c) => fold(c.label).includes(query)) : choices;
    this.active = Math.min(this.active, Math.max(0, this.filtered.length - 1));
    const current = String(this.spec.value() || '');
    replace(this.list, this.filtered.length ? this.filtered.map((choice, index) => h('li', {
      id: `${this.uid}-opt-${index}`, role: 'option', class: ['picker-option', index === this.active && 'active'],
      'aria-selected': String(choice.value) === current ? 'true' : 'false', dataset: { index: String(index) },
    }, logoOf(choice), h('span', {}, choice.label))) : h('li', { class: 'picker-empty muted', role: 'presentation' },
      t('filters.no_match')));
    if (this.filtered.length) {
      this.input.setAttribute('aria-activedescendant', `${this.uid}-opt-${this.active}`);
      const node = this.list.children[this.active];
      if (node && node.scrollIntoView) node.scrollIntoView({ block: 'nearest' });
    } else {
      this.input.removeAttribute('aria-activedescendant');
    }
  }

  onKey(event) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const delta = event.key === 'ArrowDown' ? 1 : -1;
      this.active = Math.min(this.filtered.length - 1, Math.max(0, this.active + delta));
      this.renderList();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (this.filtered.length) this.pick(this.active);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      this.close(true);
    } else if (event.key === 'Tab') {
      this.close(false);
    }
  }

  pick(index) {
    const choice = this.filtered[index];
    if (!choice) return;
    this.close(true);
    this.spec.onChange(choice.value === '' ? null : String(choice.value));
  }
}
