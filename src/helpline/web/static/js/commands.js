// One registry of actions: keyboard shortcuts, the shortcut sheet (?) and the command palette read it.
// A command: {id, keys: ['j'], label: () => text, group: () => text, run(event), when: () => bool}.
// Single keys act only outside editable fields and open menus; matched on the produced character (`key`),
// so ABNT2 and AZERTY layouts work; never Alt+letter (it types accents on many layouts).

import { prefs } from './prefs.js';

const commands = new Map();

export function register(command) {
  commands.set(command.id, command);
  return () => {
    if (commands.get(command.id) === command) commands.delete(command.id);
  };
}

export function all() {
  return [...commands.values()].filter((command) => !command.when || command.when());
}

function editable(target) {
  return target instanceof Element && (target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]')
    || target.closest('[role="menu"], [role="listbox"][data-typeahead], dialog[open] form'));
}

/** "ctrl+k" style key of an event: modifiers in a fixed order, then the produced character. */
export function keyOf(event) {
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push('mod');
  if (event.shiftKey && event.key.length > 1) parts.push('shift');
  parts.push(event.key.length === 1 ? event.key : event.key.toLowerCase());
  return parts.join('+');
}

document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.isComposing || event.key === 'Dead' || event.repeat || event.altKey) return;
  const key = keyOf(event);
  const single = !key.includes('mod+');
  if (single && (editable(event.target) || prefs.shortcuts === false)) return;
  for (const command of all()) {
    if (command.keys && command.keys.includes(key)) {
      event.preventDefault();
      command.run(event);
      return;
    }
  }
});
