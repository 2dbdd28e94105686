// DOM building without HTML strings: every text goes through textContent, so customer strings render literally.

const SPRITE = new URL('../icons.svg', import.meta.url).pathname;
const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * h('button', {class: 'primary', type: 'button', onclick: fn, 'aria-label': '…'}, 'text', childNode, …)
 * Props: `class`, `text`, `dataset` (object), `style` is refused (CSP keeps inline styles out), `on*` functions
 * become listeners, booleans set/unset attributes, other values become attributes. Children: nodes, strings
 * (text nodes), arrays, null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') throw new Error('inline styles are not allowed (CSP); use a class');
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden') el[key] = !!value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A sprite icon; decorative unless `label` is given (then it is the accessible name). */
export function icon(name, { label, cls } = {}) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', cls ? `icon ${cls}` : 'icon');
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
  }
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `${SPRITE}#${name}`);
  svg.append(use);
  return svg;
}

/** Initials for an avatar: "Ana Souza" → "AS"; anything odd → "?". */
export function initials(name) {
  // Words that start with a letter or digit: "Website visitor #12" → "WV", not "W#".
  const parts = String(name || '').trim().split(/\s+/u).filter((part) => /^[\p{L}\p{N}]/u.test(part));
  if (!parts.length) return '?';
  const first = Array.from(parts[0])[0] || '';
  const last = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] || '' : '';
  return (first + last).toUpperCase();
}

/** A stable tint class (0–7) from a string, for avatars. */
export function tint(seed) {
  let hash = 0;
  for (const ch of String(seed)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `tint-${hash % 8}`;
}

export function avatar(name, seed, size = 'md') {
  return h('span', { class: ['avatar', `avatar-${size}`, tint(seed ?? name)], 'aria-hidden': 'true' }, initials(name));
}

/** Links are only ever built for these schemes (customer text never becomes javascript: or data: URLs). */
export function safeHref(url) {
  try {
    const parsed = new URL(url, location.href);
    return ['http:', 'https:', 'mailto:', 'tel:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Run `fn` after `ms` unless cancelled; used for "show skeletons only after 150 ms". */
export function later(ms, fn) {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
}
