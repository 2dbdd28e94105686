// DOM building without HTML strings: every text goes through textContent, so customer strings render literally,
// isolated (bidi.js) so that one holding bidi controls or right-to-left letters cannot reorder the text around it.

import { isolate, neutralise } from './bidi.js';

// Attributes the browser shows or speaks (tooltips, accessible names): a direction override in them is shown too.
const SHOWN_ATTRIBUTES = new Set(['title', 'aria-label', 'alt', 'placeholder']);

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
    else if (key === 'text') el.textContent = isolate(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') throw new Error('inline styles are not allowed (CSP); use a class');
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden') el[key] = !!value;
    else el.setAttribute(key, value === true ? '' : SHOWN_ATTRIBUTES.has(key) ? neutralise(value) : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(isolate(child)));
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
  // Cloned from one built element per name and class: a list row has several icons, and building each from
  // scratch (two elements, five attributes) was a visible part of a fast scroll's frame.
  const key = `${name} ${cls || ''}`;
  let model = icons.get(key);
  if (!model) {
    model = document.createElementNS(SVG_NS, 'svg');
    model.setAttribute('class', cls ? `icon ${cls}` : 'icon');
    model.setAttribute('aria-hidden', 'true');
    model.setAttribute('focusable', 'false');
    const use = document.createElementNS(SVG_NS, 'use');
    use.setAttribute('href', `${SPRITE}#${name}`);
    model.append(use);
    icons.set(key, model);
  }
  const svg = model.cloneNode(true);
  if (label) {
    svg.removeAttribute('aria-hidden');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  }
  return svg;
}
const icons = new Map(); // "name cls" → the element icon() clones

// Markup-looking tags ("<b>"), invisible format characters (bidi controls, zero-width joiners on their own) and
// leading punctuation are not part of a name's initials.
const TAGS = /<\/?[a-z][^<>]*>/giu;
const FORMAT = /\p{Cf}/gu;
const INITIAL = /^[\p{L}\p{N}]|^\p{Extended_Pictographic}/u;
// One segmenter for every call: constructing one per word was a visible part of a fast scroll's frames.
let segmenter = null;
const graphemes = (text) => {
  if (!Intl.Segmenter) return Array.from(text);
  segmenter = segmenter || new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return [...segmenter.segment(text)].map((s) => s.segment);
};

/**
 * Initials for an avatar: "Ana Souza" → "AS", "<b>Ana" → "A", "🌻 Flor" → "🌻F", "Website visitor #12" → "WV"
 * (words that start with a letter, digit or emoji; failing those, the first such character anywhere); "?" if none.
 */
export function initials(name) {
  const text = String(name || '').replace(TAGS, ' ').replace(/\u200D(?!\p{Extended_Pictographic})/gu, '')
    .replace(/[\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u206F\uFEFF\u061C]/gu, '');
  const first = (word) => graphemes(word).find((g) => INITIAL.test(g.replace(FORMAT, '') || g)) || '';
  const words = text.trim().split(/\s+/u).filter((word) => INITIAL.test(word));
  if (!words.length) return first(text).toUpperCase() || '?';
  const head = first(words[0]);
  const tail = words.length > 1 ? first(words[words.length - 1]) : '';
  return (head + tail).toUpperCase();
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
