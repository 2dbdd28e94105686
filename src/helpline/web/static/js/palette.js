// The shortcut sheet (`?`) and the command palette (⌘/Ctrl+K), both native <dialog>s reading the one command
// registry; the palette also finds conversations by contact name (loaded ones at once, the server's after a pause).

import { get } from './api.js';
import { keyLabel, register, registered, run } from './commands.js';
import { avatar, h, replace } from './dom.js';
import { currentLocale, LOCALES, setLocale, t } from './i18n.js';
import { customerName } from './names.js';
import { prefs, save } from './prefs.js';
import { navigate } from './router.js';
import { channelIcon } from './views/channels.js';

function fold(text) {
  return String(text || '').normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}

function keysOf(command) {
  return [...(command.keys || []), ...(command.hint || [])];
}

function kbd(key) {
  return h('kbd', {}, keyLabel(key));
}

/** Open a dialog modally; focus goes back to the opener (or the main landmark) when it closes. */
function showDialog(dialog) {
  const opener = document.activeElement;
  dialog.addEventListener('close', () => {
    const target = opener && opener.isConnected && opener !== document.body ? opener : document.getElementById('main');
    if (target) target.focus({ preventScroll: true });
  }, { once: true });
  dialog.showModal();
}

export class ShortcutSheet {
  constructor() {
    this.dialog = h('dialog', { class: 'dialog sheet-dialog', 'aria-labelledby': 'shortcuts-title' });
    document.body.append(this.dialog);
  }

  open() {
    if (this.dialog.open) return;
    const groups = new Map();
    for (const command of registered()) {
      const keys = keysOf(command);
      const label = command.label();
      if (!keys.length || !label) continue;
      const group = command.group ? command.group() : t('commands.group_general');
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push([label, keys]);
    }
    replace(this.dialog,
      h('div', { class: 'dialog-head' }, h('h2', { id: 'shortcuts-title' }, t('commands.sheet_title')),
        h('button', { type: 'button', class: 'button small', onclick: () => this.dialog.close() }, t('common.close'))),
      h('p', { class: 'hint' }, t('commands.sheet_hint')),
      h('div', { class: 'sheet-groups' }, [...groups].map(([group, items]) => h('section', { class: 'sheet-group' },
        h('h3', {}, group),
        h('dl', {}, items.map(([label, keys]) => [
          h('dt', {}, keys.map((key, i) => [i ? h('span', { class: 'muted' }, ' / ') : null, kbd(key)])), h('dd', {}, label)]))))));
    showDialog(this.dialog);
  }
}

export class CommandPalette {
  constructor(ctx) {
    this.ctx = ctx;
    this.items = [];
    this.active = 0;
    this.searchTimer = null;
    this.remote = [];
    this.input = h('input', { type: 'text', class: 'palette-input', role: 'combobox', 'aria-expanded': 'true',
      'aria-controls': 'palette-list', 'aria-autocomplete': 'list', autocomplete: 'off', spellcheck: 'false',
      oninput: () => this.changed(), onkeydown: (e) => this.onKey(e) });
    this.list = h('ul', { class: 'palette-list', role: 'listbox', id: 'palette-list', onclick: (e) => {
      const item = e.target.closest('[data-index]');
      if (item) this.choose(Number(item.dataset.index));
    } });
    this.dialog = h('dialog', { class: 'dialog palette-dialog', 'aria-labelledby': 'palette-title' },
      h('h2', { class: 'sr-only', id: 'palette-title' }, ''), this.input, this.list);
    this.dialog.addEventListener('click', (e) => { if (e.target === this.dialog) this.dialog.close(); });
    document.body.append(this.dialog);
  }

  open() {
    if (this.dialog.open) return;
    this.dialog.querySelector('#palette-title').textContent = t('commands.palette_title');
    this.input.setAttribute('aria-label', t('commands.palette_title'));
    this.input.placeholder = t('commands.palette_placeholder');
    this.input.value = '';
    this.remote = [];
    this.active = 0;
    this.render();
    showDialog(this.dialog);
    this.input.focus();
  }

  changed() {
    this.active = 0;
    this.render();
    clearTimeout(this.searchTimer);
    const q = this.input.value.trim();
    if (q.length < 2) {
      this.remote = [];
      return;
    }
    this.searchTimer = setTimeout(async () => {
      try {
        const page = await get('/conversations', { q, limit: 8 });
        if (this.input.value.trim() !== q) return;
        this.ctx.store.putConversations(page.items);
        this.remote = page.items.map((c) => c.id);
        this.render();
      } catch {
        /* the local matches stay */
      }
    }, 250);
  }

  collect() {
    const q = fold(this.input.value.trim());
    const actions = [];
    for (const command of registered()) {
      if (command.palette === false || (command.when && !command.when())) continue;
      const label = command.label();
      if (!label || (q && !fold(`${label} ${command.group ? command.group() : ''}`).includes(q))) continue;
      actions.push({ kind: 'action', group: command.group ? command.group() : t('commands.group_general'), label,
        keys: keysOf(command), id: command.id });
    }
    const conversations = [];
    if (q) {
      const seen = new Set();
      const push = (c) => {
        if (!c || seen.has(c.id)) return;
        seen.add(c.id);
        conversations.push({ kind: 'conversation', group: t('commands.group_conversations'), conversation: c,
          label: customerName(c) });
      };
      for (const id of this.remote) push(this.ctx.store.conversations.get(id));
      for (const c of this.ctx.store.conversations.values()) {
        if (conversations.length >= 8) break;
        if (fold(customerName(c)).includes(q)) push(c);
      }
    }
    return [...actions.slice(0, q ? 12 : 40), ...conversations.slice(0, 8)];
  }

  render() {
    this.items = this.collect();
    this.active = Math.min(this.active, Math.max(0, this.items.length - 1));
    let lastGroup = null;
    const nodes = [];
    this.items.forEach((item, index) => {
      if (item.group !== lastGroup) {
        nodes.push(h('li', { class: 'palette-group', role: 'presentation' }, item.group));
        lastGroup = item.group;
      }
      const c = item.conversation;
      nodes.push(h('li', { id: `palette-${index}`, role: 'option', class: ['palette-item', index === this.active && 'active'],
        'aria-selected': index === this.active ? 'true' : 'false', dataset: { index: String(index) } },
      c ? [avatar(item.label, `c${c.contact.id}`, 'sm'), h('span', { class: 'palette-label' }, item.label),
        h('span', { class: 'palette-meta' }, channelIcon(c.channel.kind), t(`kinds.${c.channel.kind}`), ' · ', t(`status.${c.status}`))]
        : [h('span', { class: 'palette-label' }, item.label), h('span', { class: 'palette-keys' }, item.keys.map(kbd))]));
    });
    if (!this.items.length) nodes.push(h('li', { class: 'palette-empty muted', role: 'presentation' }, t('commands.palette_empty')));
    replace(this.list, nodes);
    if (this.items.length) {
      this.input.setAttribute('aria-activedescendant', `palette-${this.active}`);
      const node = this.list.querySelector(`#palette-${this.active}`);
      if (node && node.scrollIntoView) node.scrollIntoView({ block: 'nearest' });
    } else {
      this.input.removeAttribute('aria-activedescendant');
    }
  }

  onKey(event) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const delta = event.key === 'ArrowDown' ? 1 : -1;
      this.active = (this.active + delta + this.items.length) % Math.max(1, this.items.length);
      this.render();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      this.choose(this.active);
    }
  }

  choose(index) {
    const item = this.items[index];
    if (!item) return;
    this.dialog.close();
    if (item.kind === 'conversation') navigate(`/conversations/${item.conversation.id}${location.search}`);
    else run(item.id);
  }
}

/** Register `?` and ⌘/Ctrl+K; returns a function that removes them. */
export function installPalette(ctx) {
  const sheet = new ShortcutSheet();
  const palette = new CommandPalette(ctx);
  const general = () => t('commands.group_general');
  const openSheet = () => sheet.open();
  window.addEventListener('helpline:shortcuts', openSheet);
  const off = [
    register({ id: 'app.shortcuts', keys: ['?'], group: general, label: () => t('commands.shortcuts'), run: openSheet }),
    register({ id: 'app.palette', keys: ['mod+k'], inEditable: true, group: general, label: () => t('commands.palette'),
      palette: false, run: () => palette.open() }),
    register({ id: 'app.inbox', keys: [], group: general, label: () => t('shell.inbox'), run: () => navigate('/') }),
    register({ id: 'app.preferences', keys: [], group: general, label: () => t('shell.preferences'), run: () => navigate('/preferences') }),
    // Switching language relabels the screen in place: selection, scroll and drafts stay.
    ...LOCALES.map((code) => register({ id: `app.language.${code}`, keys: [], group: general,
      label: () => t('commands.language', { language: t(`languages.${code}`) }), when: () => currentLocale() !== code,
      run: async () => {
        await setLocale(code);
        save({ locale: code }).catch(() => {});
      } })),
    ...['light', 'dark', 'system'].map((theme) => register({ id: `app.theme.${theme}`, keys: [], group: general,
      label: () => t(`commands.theme_${theme}`), when: () => (prefs.theme || 'system') !== theme,
      run: () => save({ theme }).catch(() => {}) })),
  ];
  return () => {
    off.forEach((fn) => fn());
    window.removeEventListener('helpline:shortcuts', openSheet);
    sheet.dialog.remove();
    palette.dialog.remove();
  };
}
