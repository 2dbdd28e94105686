// The safe Markdown subset the bot and operators write in (what the website chat shows too): **bold**, *italic*,
// `code`, [text](url), bare links, "- " / "1. " lists, ``` code blocks, line breaks. Output is built from DOM
// nodes whose text is set as text — never innerHTML — so `<img onerror>` in a message stays literal characters.

import { neutralise } from './bidi.js';
import { safeHref } from './dom.js';

// Element names the renderer may create (and nothing else): the allow-list a test holds it to.
export const ALLOWED_TAGS = Object.freeze(['p', 'br', 'strong', 'em', 'code', 'pre', 'a', 'ul', 'ol', 'li']);
export const LINK_REL = 'noopener noreferrer nofollow';

// The widget's inline grammar (channels/widget/static/widget.js), so a reply reads the same on both sides:
// [label](url) · bare http(s)/mailto link · **bold** · `code` · *italic* — here bold may also hold *italic*.
const INLINE = /\[([^\]\n]{1,300})\]\(([^)\s]{1,2000})\)|((?:https?:\/\/|mailto:)[^\s<>"']+[^\s<>"'.,;:!?)\]])|\*\*((?:[^*\n]|\*(?!\*))+)\*\*|`([^`\n]+)`|\*([^*\s][^*\n]*)\*/g;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const FENCE = /^\s{0,3}```/;
// Bold and italic may hold links or code (nesting); deeper than this is shown as typed.
const MAX_DEPTH = 3;

function el(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}

function inline(text, parent, options, depth = 0) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) parent.append(text.slice(last, match.index));
    const [whole, label, target, bare, bold, code, italic] = match;
    if (label !== undefined || bare !== undefined) {
      // Only absolute http(s)/mailto/tel links; anything else (javascript:, data:, relative) stays as typed.
      const absolute = /^(https?:|mailto:|tel:)/i.test(bare ?? target);
      const href = absolute ? safeHref(bare ?? target) : null;
      if (href) {
        const a = el('a', label ?? bare);
        a.href = href;
        a.target = '_blank';
        a.rel = LINK_REL;
        parent.append(a);
        // A customer's [label](url) could dress one site as another: their links also show where they go.
        if (options.revealTargets && label !== undefined) parent.append(` (${new URL(href).host || href})`);
      } else {
        parent.append(whole);
      }
    } else if (code !== undefined) {
      parent.append(el('code', code));
    } else {
      const node = el(bold !== undefined ? 'strong' : 'em');
      const inner = bold ?? italic;
      if (depth < MAX_DEPTH) inline(inner, node, options, depth + 1);
      else node.textContent = inner;
      parent.append(node);
    }
    last = match.index + whole.length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function paragraph(lines, options) {
  const p = el('p');
  lines.forEach((line, i) => {
    if (i) p.append(el('br'));
    inline(line, p, options);
  });
  return p;
}

/**
 * `text` (any string) → a DocumentFragment of the allowed elements; every character of `text` arrives as text.
 * Options: revealTargets (append the link's host after a [label](url) link — for what customers write).
 */
export function renderMarkdown(text, options = {}) {
  const fragment = document.createDocumentFragment();
  // A direction override in what someone typed would reverse their words on screen (bidi.js): shown as U+FFFD.
  const lines = neutralise(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  let prose = [];
  let list = null;
  const flush = () => {
    if (prose.length) fragment.append(paragraph(prose, options));
    prose = [];
    list = null;
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (FENCE.test(line)) {
      flush();
      const code = [];
      for (i += 1; i < lines.length && !FENCE.test(lines[i]); i += 1) code.push(lines[i]);
      const pre = el('pre');
      pre.append(el('code', code.join('\n')));
      fragment.append(pre);
      continue;
    }
    const bullet = line.match(BULLET);
    const numbered = bullet ? null : line.match(NUMBERED);
    if (bullet || numbered) {
      const kind = bullet ? 'ul' : 'ol';
      if (!list || list.localName !== kind) {
        if (prose.length) fragment.append(paragraph(prose, options));
        prose = [];
        list = el(kind);
        if (numbered && numbered[1] !== '1') list.setAttribute('start', String(Number(numbered[1])));
        fragment.append(list);
      }
      const item = el('li');
      inline(bullet ? bullet[1] : numbered[2], item, options);
      list.append(item);
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    if (list) list = null;
    prose.push(line);
  }
  flush();
  return fragment;
}

/** The words of `text` without the Markdown marks, for one-line previews ("**Ana**: - item" → "Ana: item"). */
export function plainText(text, depth = 0) {
  const lines = String(text ?? '').split('\n').map((line) => line.replace(BULLET, '$1').replace(NUMBERED, '$1. $2')
    .replace(FENCE, ''));
  return lines.join('\n').replace(INLINE, (whole, label, target, bare, bold, code, italic) => {
    if (label !== undefined) return label;
    if (bare !== undefined) return bare;
    if (code !== undefined) return code;
    const inner = bold ?? italic;
    return depth < MAX_DEPTH ? plainText(inner, depth + 1) : inner;
  });
}
