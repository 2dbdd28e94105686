// A small non-modal popover anchored under a header button: a native <dialog> opened with show(), Esc and an
// outside click close it, focus goes to its first field and back to the opener (or the heading) when it closes.

import { h, replace } from '../dom.js';

let current = null;

export function closePopover() {
  if (current) current.close();
}

/**
 * openPopover(anchor, {label, build(close) → nodes, className, onKey(event, close)}) → {close}.
 * `anchor` is the button that opened it; the popover is placed under it, inside the viewport.
 */
export function openPopover(anchor, { label, build, className = '', onKey }) {
  closePopover();
  const dialog = h('dialog', { class: ['popover', className], 'aria-label': label });
  const opener = anchor || document.activeElement;
  let closed = false;
  const close = ({ restore = true } = {}) => {
    if (closed) return;
    closed = true;
    document.removeEventListener('pointerdown', outside, true);
    dialog.close();
    dialog.remove();
    if (current && current.dialog === dialog) current = null;
    if (restore) {
      const target = opener && opener.isConnected ? opener : document.getElementById('conversation-title');
      if (target) target.focus();
    }
  };
  const outside = (event) => {
    if (!dialog.contains(event.target) && event.target !== opener && !(opener && opener.contains(event.target))) close({ restore: false });
  };
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close();
      return;
    }
    if (onKey) onKey(event, close);
  });
  replace(dialog, build(close));
  document.body.append(dialog);
  dialog.show();
  place(dialog, opener);
  document.addEventListener('pointerdown', outside, true);
  const first = dialog.querySelector('[autofocus], input, select, textarea, button:not([disabled])');
  if (first) first.focus();
  current = { dialog, close };
  return current;
}

function place(dialog, anchor) {
  const margin = 8;
  const box = anchor && anchor.getBoundingClientRect ? anchor.getBoundingClientRect() : { left: 16, bottom: 64, right: 16 };
  const width = dialog.offsetWidth;
  let left = Math.min(box.right - width, window.innerWidth - width - margin);
  left = Math.max(margin, left);
  const top = Math.min(box.bottom + 4, window.innerHeight - dialog.offsetHeight - margin);
  dialog.style.left = `${left}px`;
  dialog.style.top = `${Math.max(margin, top)}px`;
}

/**
 * A type-ahead listbox inside a popover: input + options; arrows move, Enter picks.
 * items: [{id, label, detail?}], onPick(item). Returns the nodes.
 */
export function typeahead({ label, placeholder, items, onPick, empty }) {
  const list = h('ul', { class: 'typeahead-list', role: 'listbox', id: 'typeahead-list', 'aria-label': label });
  let shown = [];
  let active = 0;
  const input = h('input', { type: 'search', class: 'typeahead-input', role: 'combobox', 'aria-expanded': 'true',
    'aria-controls': 'typeahead-list', 'aria-autocomplete': 'list', 'aria-label': label, placeholder, autocomplete: 'off',
    oninput: () => { active = 0; draw(); },
    onkeydown: (event) => {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        active = Math.max(0, Math.min(shown.length - 1, active + (event.key === 'ArrowDown' ? 1 : -1)));
        draw();
      } else if (event.key === 'Enter') {
        event.preventDefault();
        if (shown[active]) onPick(shown[active]);
      }
    } });
  function draw() {
    const q = input.value.trim().toLocaleLowerCase();
    shown = items.filter((item) => !q || `${item.label} ${item.detail || ''}`.toLocaleLowerCase().includes(q));
    replace(list, shown.length ? shown.map((item, i) => h('li', {
      role: 'option', id: `ta-${i}`, class: ['typeahead-option', i === active && 'active'], 'aria-selected': i === active ? 'true' : 'false',
      onpointerdown: (event) => event.preventDefault(), onclick: () => onPick(item),
    }, item.icon || null, h('span', {}, item.label), item.detail ? h('span', { class: 'muted' }, item.detail) : null))
      : h('li', { class: 'muted typeahead-empty' }, empty));
    input.setAttribute('aria-activedescendant', shown.length ? `ta-${active}` : '');
  }
  draw();
  return [input, list];
}
