// The template picker (ui-guide §6): an inline drawer over the composer — approved templates in the
// conversation's language, search, language tabs with counts, unavailable ones with their reason, a form per
// slot with the template's example, a live preview bubble, validation Meta applies (filled, ≤ 1024, no line
// breaks, tabs or runs of more than four spaces; "Join lines"), then send with {"template": {...}}.

import { get, post } from '../api.js';
import { h, icon, replace, safeHref } from '../dom.js';
import { relative } from '../format.js';
import { currentLocale, t } from '../i18n.js';
import { newClientId } from './composer.js';

const DEFAULT_MAX = 1024;

/** "pt_BR", "pt-br" → "pt_br"; for comparing a template's language with the conversation's. */
export function normLang(code) {
  return String(code || '').replace('-', '_').toLowerCase();
}

/** Problems of one text value, as catalogue sentences (empty list = fine). */
export function slotProblems(value, max = DEFAULT_MAX) {
  const out = [];
  if (!value.trim()) out.push(t('templates.problem_empty'));
  if (Array.from(value).length > max) out.push(t('templates.problem_long', { max }));
  if (/[\n\r]/u.test(value)) out.push(t('templates.problem_newline'));
  if (/\t/u.test(value)) out.push(t('templates.problem_tab'));
  if (/ {5,}/u.test(value)) out.push(t('templates.problem_spaces'));
  return out;
}

/** Line breaks and tabs become spaces, runs of spaces shrink to one. */
export function joinLines(value) {
  return value.replace(/[\n\r\t]+/gu, ' ').replace(/ {2,}/gu, ' ').trim();
}

/** Slots from the API's structured `slots`, else parsed from the components ({{1}}, {{name}}). */
export function slotsOf(template) {
  if (Array.isArray(template.slots) && template.slots.length) return template.slots;
  const out = [];
  for (const component of template.components || []) {
    const type = String(component.type || '').toLowerCase();
    if (type === 'header' || type === 'body') {
      const format = String(component.format || 'text').toLowerCase();
      if (type === 'header' && format !== 'text') {
        out.push({ component: 'header', kind: format, name: '1', button_index: null, prefix: null, example: null, max_length: null, context: null });
        continue;
      }
      for (const match of String(component.text || '').matchAll(/\{\{\s*([\w]+)\s*\}\}/gu)) {
        out.push({ component: type, kind: 'text', name: match[1], button_index: null, prefix: null, example: null, max_length: DEFAULT_MAX, context: component.text });
      }
    }
  }
  return out;
}

/** The words around `{{name}}` in the template's sentence (±32 characters), for a field label. */
export function around(sentence, name) {
  const match = new RegExp(`\\{\\{\\s*${String(name).replace(/\W/gu, '')}\\s*\\}\\}`, 'u').exec(sentence);
  if (!match) return sentence.length > 72 ? `${sentence.slice(0, 71)}…` : sentence;
  const start = Math.max(0, match.index - 32);
  const end = Math.min(sentence.length, match.index + match[0].length + 32);
  return `${start > 0 ? '…' : ''}${sentence.slice(start, end)}${end < sentence.length ? '…' : ''}`;
}

export class TemplatePicker {
  constructor(ctx, composer) {
    this.ctx = ctx;
    this.composer = composer;
    this.el = h('section', { class: 'template-picker', hidden: true, 'aria-labelledby': 'template-picker-title' });
    this.templates = null;
    this.channelId = null;
  }

  conversation() { return this.composer.conversation; }

  async open({ text = '' } = {}) {
    const c = this.conversation();
    if (!c) return;
    this.opener = document.activeElement;
    this.hintText = text;
    this.el.hidden = false;
    this.composer.el.classList.add('picking');
    this.selected = null;
    this.values = [];
    this.query = '';
    replace(this.el, h('p', { class: 'muted picker-loading' }, t('common.loading')));
    if (this.channelId !== c.channel.id || !this.templates) {
      try {
        this.templates = await get(`/channels/${c.channel.id}/templates`);
        this.channelId = c.channel.id;
      } catch (err) {
        replace(this.el, this.head(), h('div', { class: 'error-box', role: 'alert' }, h('p', {}, t('templates.load_failed', { reason: err.message })),
          h('button', { type: 'button', class: 'button small', onclick: () => { this.templates = null; this.open({ text }); } }, t('common.retry'))));
        return;
      }
    }
    const langs = [...new Set(this.templates.map((tpl) => tpl.language))];
    const wanted = [c.language, currentLocale()].filter(Boolean).map(normLang);
    this.lang = langs.find((l) => wanted.includes(normLang(l)))
      || langs.find((l) => wanted.some((w) => normLang(l).split('_')[0] === w.split('_')[0])) || langs[0] || null;
    this.renderList();
    const search = this.el.querySelector('#template-search');
    if (search) search.focus();
  }

  close({ silent = false } = {}) {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.composer.el.classList.remove('picking');
    replace(this.el);
    if (!silent) {
      const back = this.opener && this.opener.isConnected ? this.opener : this.composer.el.querySelector('#choose-template, #composer-text');
      if (back) back.focus();
    }
  }

  head() {
    return h('div', { class: 'picker-head' },
      h('h3', { id: 'template-picker-title' }, icon('layout-template'), h('span', {}, t('templates.title'))),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': t('common.close'), onclick: () => this.close() }, icon('x')));
  }

  /** The list view: search and language tabs stay put while typing; only the list below them redraws. */
  renderList() {
    this.selected = null;
    this.active = 0;
    // A combobox over a listbox (ui-guide §4: pickers focus their first field; arrows move, Enter picks).
    this.search = h('input', { type: 'search', id: 'template-search', value: this.query, 'aria-label': t('templates.search'),
      placeholder: t('templates.search'), autocomplete: 'off', role: 'combobox', 'aria-expanded': 'true',
      'aria-controls': 'template-results', 'aria-autocomplete': 'list',
      oninput: (event) => { this.query = event.target.value; this.active = 0; this.drawList(); },
      onkeydown: (event) => {
        if (event.key === 'Enter') { event.preventDefault(); if (this.shown[this.active]) this.choose(this.shown[this.active]); }
        if (event.key === 'Escape') { event.preventDefault(); event.stopPropagation(); this.close(); }
        if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
          event.preventDefault();
          this.active = Math.max(0, Math.min(this.shown.length - 1, this.active + (event.key === 'ArrowDown' ? 1 : -1)));
          this.markActive();
        }
      } });
    this.tabsEl = h('div', { class: 'lang-tabs', role: 'group', 'aria-label': t('templates.languages') });
    this.resultsEl = h('div', { class: 'template-results' });
    const all = this.templates || [];
    const unavailable = all.filter((tpl) => String(tpl.status).toUpperCase() !== 'APPROVED');
    const blocked = unavailable.length ? h('details', { class: 'unavailable' },
      h('summary', {}, t('templates.unavailable', { count: unavailable.length })),
      h('ul', {}, unavailable.map((tpl) => h('li', {}, h('span', { class: 'template-name' }, `${tpl.name} (${tpl.language})`),
        h('span', { class: 'cat-badge' }, String(tpl.status).toLowerCase()),
        tpl.status_reason ? h('span', { class: 'muted' }, tpl.status_reason) : null)))) : null;
    replace(this.el, this.head(),
      this.hintText ? h('p', { class: 'muted picker-note' }, t('templates.your_text')) : null,
      this.hintText ? h('blockquote', { class: 'picker-draft' }, this.hintText) : null,
      this.search, this.tabsEl, this.resultsEl, blocked);
    this.drawList();
  }

  drawList() {
    const all = this.templates || [];
    const approved = all.filter((tpl) => String(tpl.status).toUpperCase() === 'APPROVED');
    const langs = [...new Set(approved.map((tpl) => tpl.language))].sort();
    if (this.lang && !langs.includes(this.lang)) this.lang = langs[0] || null;
    const q = this.query.trim().toLocaleLowerCase();
    const body = (tpl) => (tpl.preview && tpl.preview.body) || '';
    const matches = (tpl) => !q || tpl.name.toLocaleLowerCase().includes(q) || body(tpl).toLocaleLowerCase().includes(q);
    this.shown = approved.filter((tpl) => tpl.language === this.lang && matches(tpl));
    if (!this.shown.length && q) {
      // Nothing in this language: follow the search to a language that has it.
      const other = approved.find(matches);
      if (other) {
        this.lang = other.language;
        this.shown = approved.filter((tpl) => tpl.language === this.lang && matches(tpl));
      }
    }
    replace(this.tabsEl, langs.length > 1 ? langs.map((lang) => h('button', { type: 'button', class: 'lang-tab',
      'aria-pressed': lang === this.lang ? 'true' : 'false', onclick: () => { this.lang = lang; this.drawList(); } },
    t('templates.lang_tab', { language: lang, count: approved.filter((tpl) => tpl.language === lang && matches(tpl)).length }))) : null);
    this.tabsEl.hidden = langs.length < 2;
    this.active = Math.min(this.active, Math.max(0, this.shown.length - 1));
    replace(this.resultsEl, this.shown.length ? h('ul', { class: 'template-list', role: 'listbox', id: 'template-results',
      'aria-label': t('templates.approved') }, this.shown.map((tpl, i) => h('li', {
      role: 'option', id: `template-option-${i}`, class: 'template-option', 'aria-selected': i === this.active ? 'true' : 'false',
      onpointerdown: (event) => event.preventDefault(), onclick: () => this.choose(tpl),
    },
    h('span', { class: 'template-name' }, tpl.name),
    h('span', { class: 'cat-badge' }, String(tpl.category || '').toLowerCase()),
    h('span', { class: 'template-body muted' }, body(tpl))))) : h('div', { class: 'empty muted', id: 'template-results' },
      h('p', {}, all.length ? t('templates.none_match') : t('templates.none')),
      all.length ? null : h('p', {}, this.lastSync(all)),
      !all.length && this.ctx.me.role === 'admin' ? h('button', { type: 'button', class: 'button small', onclick: () => this.sync() },
        icon('refresh-cw'), h('span', {}, t('templates.sync'))) : null));
    this.markActive();
  }

  markActive() {
    const options = [...this.el.querySelectorAll('.template-option')];
    options.forEach((option, i) => option.setAttribute('aria-selected', i === this.active ? 'true' : 'false'));
    if (options[this.active]) {
      this.search.setAttribute('aria-activedescendant', options[this.active].id);
      options[this.active].scrollIntoView({ block: 'nearest' });
    } else {
      this.search.removeAttribute('aria-activedescendant');
    }
  }

  back() {
    this.renderList();
    this.search.focus();
  }

  lastSync(all) {
    const newest = all.map((tpl) => tpl.updated_at).sort().pop();
    return newest ? t('templates.last_sync', { when: relative(newest) }) : t('templates.never_synced');
  }

  async sync() {
    try {
      await post(`/channels/${this.channelId}/templates/sync`, {});
      this.templates = null;
      this.open({ text: this.hintText });
    } catch (err) {
      this.ctx.shell.toast(t('templates.sync_failed', { reason: err.message }), { kind: 'error' });
    }
  }

  choose(template) {
    this.selected = template;
    this.slots = slotsOf(template);
    this.values = this.slots.map(() => '');
    this.touched = this.slots.map(() => false);
    this.renderForm();
    const first = this.el.querySelector('.slot-input');
    (first || this.el.querySelector('.template-send')).focus();
  }

  label(slot, index) {
    if (slot.component === 'header' && slot.kind !== 'text') return t('templates.slot_media', { kind: t(`templates.kind_${slot.kind}`) });
    if (slot.component === 'button') return t('templates.slot_button', { index: (slot.button_index ?? 0) + 1 });
    const context = slot.context ? around(String(slot.context), slot.name) : '';
    return context ? t('templates.slot_in', { component: t(`templates.component_${slot.component}`), name: slot.name, context })
      : t('templates.slot_plain', { component: t(`templates.component_${slot.component}`), name: slot.name || String(index + 1) });
  }

  problems(index) {
    const slot = this.slots[index];
    const value = this.values[index];
    if (slot.kind !== 'text') {
      if (!value.trim()) return [t('templates.problem_empty')];
      return safeHref(value) && /^https?:/u.test(value) ? [] : [t('templates.problem_url')];
    }
    return slotProblems(value, slot.max_length || DEFAULT_MAX);
  }

  renderForm() {
    const tpl = this.selected;
    const fields = this.slots.map((slot, i) => {
      const id = `slot-${i}`;
      const problems = this.touched[i] ? this.problems(i) : [];
      const joinable = /[\n\r\t]| {5,}/u.test(this.values[i]);
      const attrs = { id, class: 'slot-input', value: this.values[i], 'aria-invalid': problems.length ? 'true' : 'false',
        'aria-describedby': problems.length ? `${id}-error` : null, placeholder: slot.example ? String(slot.example) : '',
        oninput: (event) => { this.values[i] = event.target.value; this.updatePreview(); },
        onblur: () => { this.touched[i] = true; this.refreshField(i); } };
      const input = slot.kind === 'text' && slot.component === 'body' ? h('textarea', { ...attrs, rows: '1' })
        : h('input', { ...attrs, type: slot.kind === 'text' ? 'text' : 'url' });
      return h('div', { class: 'field compact slot-field', dataset: { index: String(i) } },
        h('label', { for: id }, this.label(slot, i)),
        slot.prefix ? h('div', { class: 'prefixed' }, h('span', { class: 'prefix muted' }, String(slot.prefix)), input) : input,
        h('p', { class: 'form-error', id: `${id}-error` }, problems.join(' ')),
        joinable ? h('button', { type: 'button', class: 'button small', onclick: () => { this.values[i] = joinLines(this.values[i]); this.touched[i] = true; this.renderForm(); } },
          t('templates.join_lines')) : null);
    });
    this.previewEl = h('div', { class: 'template-preview', 'aria-label': t('templates.preview') });
    this.missingEl = h('p', { class: 'muted missing', id: 'template-missing', 'aria-live': 'polite' });
    this.sendEl = h('button', { type: 'submit', class: 'button primary template-send', 'aria-describedby': 'template-missing' },
      icon('send'), h('span', {}, t('templates.send')));
    replace(this.el, this.head(),
      h('form', { class: 'template-form', onsubmit: (event) => { event.preventDefault(); this.send(); },
        onkeydown: (event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); this.send(); }
          if (event.key === 'Escape') { event.preventDefault(); event.stopPropagation(); this.back(); }
        } },
      h('div', { class: 'template-chosen' },
        h('button', { type: 'button', class: 'button ghost small', onclick: () => this.back() }, icon('arrow-left'), h('span', {}, t('templates.back'))),
        h('strong', {}, tpl.name), h('span', { class: 'cat-badge' }, tpl.language)),
      h('div', { class: 'template-columns' },
        h('div', { class: 'slot-fields' }, fields.length ? fields : h('p', { class: 'muted' }, t('templates.no_slots'))),
        h('div', {}, h('p', { class: 'muted small' }, t('templates.preview')), this.previewEl)),
      h('div', { class: 'picker-foot' }, this.missingEl, this.sendEl)));
    this.updatePreview();
  }

  refreshField(i) {
    const field = this.el.querySelector(`.slot-field[data-index="${i}"]`);
    if (!field) return;
    const problems = this.problems(i);
    const input = field.querySelector('.slot-input');
    input.setAttribute('aria-invalid', problems.length ? 'true' : 'false');
    if (problems.length) input.setAttribute('aria-describedby', `slot-${i}-error`);
    field.querySelector('.form-error').textContent = problems.join(' ');
  }

  /** Fill `{{name}}` placeholders of one component's text with highlighted values (empty slots marked). */
  fill(text, component) {
    const out = [];
    let last = 0;
    for (const match of String(text || '').matchAll(/\{\{\s*([\w]+)\s*\}\}/gu)) {
      out.push(text.slice(last, match.index));
      const i = this.slots.findIndex((s) => s.component === component && String(s.name) === match[1]);
      const value = i >= 0 ? this.values[i] : '';
      out.push(value ? h('mark', { class: 'filled' }, value) : h('mark', { class: 'empty-slot' }, `{{${match[1]}}}`));
      last = match.index + match[0].length;
    }
    out.push(String(text || '').slice(last));
    return out;
  }

  plain(text, component) {
    return String(text || '').replace(/\{\{\s*([\w]+)\s*\}\}/gu, (whole, name) => {
      const i = this.slots.findIndex((s) => s.component === component && String(s.name) === name);
      return i >= 0 && this.values[i] ? this.values[i] : whole;
    });
  }

  updatePreview() {
    const p = this.selected.preview || { body: '', buttons: [] };
    const mediaIndex = this.slots.findIndex((s) => s.component === 'header' && s.kind !== 'text');
    replace(this.previewEl, h('div', { class: 'wa-bubble' },
      p.header_format && p.header_format !== 'text' ? h('p', { class: 'wa-media muted' }, icon(p.header_format === 'image' ? 'image' : 'file'),
        h('span', {}, mediaIndex >= 0 && this.values[mediaIndex] ? this.values[mediaIndex] : t(`templates.kind_${p.header_format}`))) : null,
      p.header_text ? h('p', { class: 'wa-header' }, this.fill(p.header_text, 'header')) : null,
      h('p', { class: 'wa-body' }, this.fill(p.body, 'body')),
      p.footer ? h('p', { class: 'wa-footer muted' }, p.footer) : null,
      (p.buttons || []).length ? h('ul', { class: 'wa-buttons' }, p.buttons.map((b) => h('li', {}, icon(b.type === 'url' ? 'external-link' : b.type === 'phone_number' ? 'phone' : 'reply'),
        h('span', {}, b.text)))) : null));
    const missing = this.slots.map((slot, i) => (this.problems(i).length ? this.label(slot, i) : null)).filter(Boolean);
    this.sendEl.setAttribute('aria-disabled', missing.length ? 'true' : 'false');
    this.missingEl.textContent = missing.length ? t('templates.missing', { fields: missing.join('; ') }) : '';
  }

  async send() {
    const problems = this.slots.map((_, i) => this.problems(i));
    if (problems.some((list) => list.length)) {
      this.touched = this.slots.map(() => true);
      this.slots.forEach((_, i) => this.refreshField(i));
      const first = problems.findIndex((list) => list.length);
      const input = this.el.querySelector(`#slot-${first}`);
      if (input) input.focus();
      return;
    }
    const tpl = this.selected;
    const parameters = this.slots.map((slot, i) => (slot.kind === 'text' ? this.values[i] : { type: slot.kind, link: this.values[i] }));
    const preview = [this.plain(tpl.preview && tpl.preview.header_text, 'header'), this.plain(tpl.preview && tpl.preview.body, 'body')]
      .filter(Boolean).join('\n');
    const c = this.conversation();
    this.close({ silent: true });
    const sent = await this.composer.send(c.id, { clientId: newClientId(),
      template: { name: tpl.name, language: tpl.language, parameters, preview } });
    this.composer.focus();
    return sent;
  }

  relabel() {
    if (this.el.hidden) return;
    if (this.selected) this.renderForm();
    else this.renderList();
  }
}
