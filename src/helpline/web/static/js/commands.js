// One registry of actions: keyboard shortcuts, the shortcut sheet (?) and the command palette (⌘/Ctrl+K) read it.
// A command: {id, keys: ['j'], label: () => text, group: () => text, run(event) → false to pass the key on,
//   when: () => bool, hint: ['Enter'] (keys shown in the sheet but handled elsewhere), inEditable: true (also
//   while typing, e.g. Escape), palette: false (keep out of the palette)}.
// Single keys act only outside editable fields and open menus, and only while shortcuts are on; matched on the
// produced character (`key`), so ABNT2 and AZERTY layouts work; never Alt+letter (it types accents on many
// layouts); dead keys, composition and auto-repeat are ignored.

import { prefs } from './prefs.js';

const commands = new Map();

export function register(command) {
  commands.set(command.id, command);
  return () => {
    if (commands.get(command.id) === command) commands.delete(command.id);
  };
}

/** Every command that applies now, in registration order. */
export function all() {
  return [...commands.values()].filter((command) => !command.when || command.when());
}

export const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || '');

/** How a key reads in the sheet: "⌘K" on macOS, "Ctrl+K" elsewhere; "↓", "Esc", "Shift+T". */
export function keyLabel(key) {
  const names = { arrowdown: '↓', arrowup: '↑', arrowleft: '←', arrowright: '→', escape: 'Esc', enter: 'Enter', ' ': 'Space' };
  const parts = key.split('+');
  const modded = parts.length > 1;
  return parts.map((part) => {
    if (part === 'mod') return isMac ? '⌘' : 'Ctrl';
    if (part === 'shift') return isMac ? '⇧' : 'Shift';
    if (names[part.toLowerCase()]) return names[part.toLowerCase()];
    if (part.length === 1 && part !== part.toLowerCase()) return isMac ? `⇧${part}` : `Shift+${part}`;
    return modded ? part.toUpperCase() : part;
  }).join(isMac ? '' : '+');
}

export function editable(target) {
  return target instanceof Element && Boolean(target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]')
    || target.closest('[role="menu"], [role="listbox"][data-typeahead], dialog[open] form'));
}

/** "mod+k" style key of an event: modifiers in a fixed order, then the produced character. */
export function keyOf(event) {
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push('mod');
  if (event.shiftKey && event.key.length > 1) parts.push('shift');
  parts.push(event.key.length === 1 ? event.key : event.key.toLowerCase());
  return parts.join('+');
}

/** Run a command by id (palette, buttons); false when it does not apply now. */
export function run(id, event) {
  const command = commands.get(id);
  if (!command || (command.when && !command.when())) return false;
  command.run(event);
  return true;
}

document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.isComposing || event.key === 'Dead' || event.key === 'Process' || event.altKey) return;
  const key = keyOf(event);
  const single = !key.includes('mod+');
  const typing = editable(event.target);
  if (single && prefs.shortcuts === false && key !== 'escape') return;
  if (event.repeat && single) return; // no auto-repeat for actions
  // An open dialog owns the keyboard (Esc closes it natively); the page behind it stays still.
  if (single && event.target instanceof Element && event.target.closest('dialog[open]')) return;
  if (single && document.querySelector('dialog[open]')) return;
  for (const command of all()) {
    if (!command.keys || !command.keys.includes(key)) continue;
    if (single && typing && !command.inEditable) continue;
    if (command.run(event) === false) continue;
    event.preventDefault();
    return;
  }
});

/** Every registered command, applicable now or not (the shortcut sheet lists them all). */
export function registered() {
  return [...commands.values()];
}
