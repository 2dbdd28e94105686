// E-mail in the timeline: the subject on the message (and the thread's in the header), and "Show full message" —
// the whole text with the quoted history and signature the display cut, and the formatted (HTML) version.
// The HTML was sanitised on arrival (channels/email/html.py, nh3); here it is parsed inert and rebuilt node by node
// from an allow-list (never innerHTML into the page): no scripts, styles, forms or event handlers; images only
// from the mail's own inline parts (`cid:`), never remote (a tracking pixel tells the sender when it was read).

import { h, icon, safeHref } from '../dom.js';
import { t } from '../i18n.js';

const KEEP = new Set(['p', 'br', 'div', 'span', 'a', 'strong', 'b', 'em', 'i', 'u', 's', 'blockquote', 'ul', 'ol',
  'li', 'pre', 'code', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'caption', 'hr', 'img', 'sub', 'sup',
  'small', 'dl', 'dt', 'dd']);
// Headings would enter the page's outline: shown as bold paragraphs.
const AS_BOLD = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
// Dropped with everything inside; any other element not kept is unwrapped (its children stay).
const DROP = new Set(['script', 'style', 'head', 'title', 'iframe', 'frame', 'object', 'embed', 'form', 'input',
  'button', 'select', 'textarea', 'svg', 'math', 'template', 'noscript', 'link', 'meta', 'base', 'audio', 'video']);
const NUMBER = /^\d{1,4}$/;
const MAX_NODES = 5000; // a pathological mail is cut rather than freezing the tab

// Which messages show their full version (and which view), across timeline re-renders of this page.
const open = new Map(); // message id → 'text' | 'html'

/** The mail's fields from content.email, or null for other messages. */
export function emailOf(m) {
  const email = m && m.content && m.content.email;
  return email && typeof email === 'object' ? email : null;
}

/** The thread's subject for the conversation header: the first mail's, without reply/forward prefixes. */
export function threadSubject(messages) {
  const first = [...messages].filter((m) => emailOf(m) && emailOf(m).subject)
    .sort((a, b) => (a.id < b.id ? -1 : 1))[0];
  if (!first) return null;
  return String(emailOf(first).subject).replace(/^(\s*(re|fwd?|aw|res|enc|tr|wg|rv)\s*(\[\d+\])?\s*[:：]\s*)+/i, '').trim()
    || String(emailOf(first).subject);
}

/** `html` (sanitised server-side) → a DocumentFragment of allow-listed elements; `inline` maps cid → URL. */
export function rebuildHtml(html, inline = {}) {
  const doc = new DOMParser().parseFromString(String(html || ''), 'text/html');
  const out = document.createDocumentFragment();
  let budget = MAX_NODES;
  const walk = (from, to) => {
    for (const node of from.childNodes) {
      if (budget-- <= 0) return;
      if (node.nodeType === Node.TEXT_NODE) {
        to.append(node.textContent);
        continue;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = node.localName;
      if (DROP.has(tag)) continue;
      if (!KEEP.has(tag) && !AS_BOLD.has(tag)) {
        walk(node, to);
        continue;
      }
      const el = copyOf(node, tag, inline);
      if (!el) continue;
      to.append(el);
      walk(node, el.localName === 'p' && AS_BOLD.has(tag) ? el.firstChild : el);
    }
  };
  walk(doc.body, out);
  return out;
}

function copyOf(node, tag, inline) {
  if (AS_BOLD.has(tag)) {
    const p = document.createElement('p');
    p.append(document.createElement('strong'));
    return p;
  }
  const el = document.createElement(tag);
  if (tag === 'a') {
    const href = safeHref(node.getAttribute('href') || '');
    if (href && /^(https?:|mailto:|tel:)/i.test(node.getAttribute('href') || '')) {
      el.href = href;
      el.target = '_blank';
      el.rel = 'noopener noreferrer nofollow';
    }
  } else if (tag === 'img') {
    const src = node.getAttribute('src') || '';
    const cid = src.toLowerCase().startsWith('cid:') ? src.slice(4).replace(/^<|>$/g, '') : null;
    const url = cid && inline[cid];
    if (!url) return null; // remote images stay blocked; their count is shown above the mail
    el.src = url;
    el.alt = node.getAttribute('alt') || '';
    el.loading = 'lazy';
    for (const name of ['width', 'height']) {
      const value = node.getAttribute(name);
      if (value && NUMBER.test(value)) el.setAttribute(name, value);
    }
  } else if (tag === 'td' || tag === 'th') {
    for (const name of ['colspan', 'rowspan']) {
      const value = node.getAttribute(name);
      if (value && NUMBER.test(value)) el.setAttribute(name, value);
    }
  }
  return el;
}

/** cid → attachment URL, from content.email.inline (cid → file name) and the message's stored attachments. */
function inlineUrls(m, email) {
  const urls = {};
  const byName = new Map((m.attachments || []).filter((a) => a.url).map((a) => [a.filename, a.url]));
  for (const [cid, name] of Object.entries(email.inline || {})) {
    const url = byName.get(name) && safeHref(byName.get(name));
    if (url && new URL(url).origin === location.origin) urls[cid] = url;
  }
  return urls;
}

/** The subject line shown above an e-mail's text. */
export function subjectLine(m) {
  const email = emailOf(m);
  if (!email || !email.subject) return null;
  return h('p', { class: 'email-subject' }, icon('mail'),
    h('span', { class: 'sr-only' }, t('email.subject_label')), h('span', {}, String(email.subject)));
}

// What the formatted version has that the displayed text cannot show.
const RICH = 'table, img, ul, ol, strong, b, em, i, u, s, blockquote, pre, code, hr, sub, sup, dl';
const letters = (text) => String(text || '').replace(/\s+/g, '');

/**
 * Which versions are worth offering: {text, html} — the full text only when it has more than the display (quoted
 * history, signature), the formatted one only when it has formatting, inline images, links with their own words or
 * other text. A plain mail whose HTML part repeats the same words offers nothing ("Show full message" would repeat
 * the body).
 */
export function versionsOf(m, email = emailOf(m)) {
  if (!email) return { text: false, html: false };
  const shown = letters(m.text);
  const text = Boolean(email.full_text) && letters(email.full_text) !== shown;
  let html = false;
  if (email.html) {
    const holder = document.createElement('div');
    holder.append(rebuildHtml(email.html, inlineUrls(m, email)));
    const linked = [...holder.querySelectorAll('a[href]')]
      .some((a) => letters(a.textContent) !== letters(a.getAttribute('href').replace(/^(mailto|tel):/i, '')));
    html = Boolean(holder.querySelector(RICH)) || linked || letters(holder.textContent) !== shown;
  }
  return { text, html };
}

/** "Show full message" and, once opened, the full text or the formatted HTML; null when nothing was cut. */
export function fullMessage(m) {
  const email = emailOf(m);
  if (!email || (!email.full_text && !email.html)) return null;
  const versions = versionsOf(m, email);
  if (!versions.text && !versions.html) return null;
  const both = versions.text && versions.html;
  const regionId = `msg-${m.id}-full`;
  const region = h('div', { class: 'email-full', id: regionId });
  const toggle = h('button', { type: 'button', class: 'button small ghost', 'aria-controls': regionId });
  const views = h('div', { class: 'email-views', role: 'group', 'aria-label': t('email.views') });
  const render = () => {
    const view = open.get(m.id) || null;
    toggle.setAttribute('aria-expanded', view ? 'true' : 'false');
    toggle.replaceChildren(icon(view ? 'chevron-down' : 'chevron-right'), h('span', {}, t(view ? 'email.hide_full' : 'email.show_full')));
    region.hidden = !view;
    views.hidden = !view || !both;
    views.replaceChildren(...(both ? ['text', 'html'].map((name) => h('button', { type: 'button',
      class: ['button', 'small', name === view && 'selected'], 'aria-pressed': name === view ? 'true' : 'false',
      onclick: () => { open.set(m.id, name); render(); } }, t(`email.view_${name}`))) : []));
    if (!view) {
      region.replaceChildren();
      return;
    }
    const blocked = Number(email.remote_images_blocked) || 0;
    if (view === 'html') {
      region.replaceChildren(
        blocked ? h('p', { class: 'email-blocked muted' }, icon('image'), h('span', {}, t('email.images_blocked', { count: blocked }))) : null,
        h('div', { class: 'email-html' }, rebuildHtml(email.html, inlineUrls(m, email))));
    } else {
      region.replaceChildren(h('pre', { class: 'email-text' }, String(email.full_text || m.text || '')));
    }
  };
  toggle.addEventListener('click', () => {
    if (open.has(m.id)) open.delete(m.id);
    else open.set(m.id, versions.text ? 'text' : 'html');
    render();
  });
  render();
  return h('div', { class: 'email-original' }, h('div', { class: 'email-actions' }, toggle, views), region);
}
