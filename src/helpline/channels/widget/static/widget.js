// Helpline's website chat widget: <script src="{base}/widget.js" data-channel="ID" async></script>
// A launcher and a chat panel in a shadow root (the host page's CSS cannot reach in, ours cannot leak out),
// talking to the visitor API of the Helpline server the script came from. No dependencies, no build step.
// Optional attributes: data-locale="en|pt", data-user-id + data-user-hash (identity verification, see
// docs/channels/widget.md). Everything a reply contains is shown through text nodes; links only http(s)/mailto.
(() => {
  'use strict';

  const script = document.currentScript || document.querySelector('script[data-channel][src*="widget.js"]');
  if (!script || !script.dataset.channel || window.__helplineWidget) return;
  window.__helplineWidget = true;

  const BASE = new URL(script.src, location.href).origin;
  const CHANNEL = String(script.dataset.channel).replace(/[^0-9]/g, '');
  const API = `${BASE}/api/v1/widget/${CHANNEL}`;
  const STORE_KEY = `helpline-widget:${BASE}:${CHANNEL}`;
  const USER_ID = script.dataset.userId || null;
  const USER_HASH = script.dataset.userHash || null;
  const TYPING_EVERY_MS = 2000;
  const BOT_TYPING_MS = 10000;

  const CATALOGUE = {
    en: {
      open: 'Open chat', close: 'Close chat', send: 'Send', placeholder: 'Type your message…', message: 'Message',
      attach: 'Attach a file', human: 'Talk to a person', human_text: "I'd like to talk to a person, please.",
      prechat: 'Before we start, tell us who you are (optional).',
      prechat_required: 'Before we start, please tell us your name and e-mail.', name: 'Name', email: 'E-mail',
      start: 'Start chat', step: 'Step {k} of {n}', last_step: 'Last step ({k} of {n})', done: 'All done',
      typing: 'Typing…', you: 'You', assistant: 'Assistant', team: 'Support',
      joined: '{name} joined the chat',
      seen: 'Seen', failed: 'Your message could not be sent. Please try again.',
      slow: 'You are sending messages too fast. Try again in {s} seconds.', reconnecting: 'Reconnecting…',
      announce: 'New message from {who}: {text}', unread: '{n} new messages', file_large: 'Files may be up to {size}.',
      file_type: 'Please send an image or a PDF.', suggestions: 'Suggested answers', messages: 'Messages',
      file: 'File: {name}', invalid_email: 'Please enter a valid e-mail address.',
    },
    pt: {
      open: 'Abrir o chat', close: 'Fechar o chat', send: 'Enviar', placeholder: 'Escreva a sua mensagem…',
      message: 'Mensagem', attach: 'Anexar um arquivo', human: 'Falar com uma pessoa',
      human_text: 'Quero falar com uma pessoa, por favor.',
      prechat: 'Antes de começar, diga-nos quem é você (opcional).',
      prechat_required: 'Antes de começar, diga-nos o seu nome e e-mail.', name: 'Nome', email: 'E-mail',
      start: 'Iniciar conversa', step: 'Passo {k} de {n}', last_step: 'Último passo ({k} de {n})', done: 'Concluído',
      typing: 'Digitando…', you: 'Você', assistant: 'Assistente', team: 'Atendimento',
      joined: '{name} entrou na conversa',
      seen: 'Visto', failed: 'Não foi possível enviar a sua mensagem. Tente novamente.',
      slow: 'Você está enviando mensagens rápido demais. Tente de novo em {s} segundos.',
      reconnecting: 'Reconectando…', announce: 'Nova mensagem de {who}: {text}', unread: '{n} mensagens novas',
      file_large: 'Os arquivos podem ter até {size}.', file_type: 'Envie uma imagem ou um PDF.',
      suggestions: 'Respostas sugeridas', messages: 'Mensagens', file: 'Arquivo: {name}',
      invalid_email: 'Digite um e-mail válido.',
    },
  };

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
/* Inherited properties still flow in from the host element: reset them all, then set ours. */
.root { all: initial; display: block; --accent: #1f6feb; --on-accent: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; text-align: left;
  position: fixed; bottom: 20px; z-index: 2147483000; }
.root.right { right: 20px; } .root.left { left: 20px; }
.sr { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; border: 0; }
button, input, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.launcher { width: 58px; height: 58px; border-radius: 50%; border: 0; background: var(--accent); color: var(--on-accent);
  box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; position: relative; }
.launcher svg { width: 28px; height: 28px; fill: currentColor; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; border-radius: 11px; padding: 0 6px;
  background: #c62828; color: #fff; font-size: 12px; font-weight: 700; display: grid; place-items: center; }
.panel { position: absolute; bottom: 74px; width: 370px; height: min(600px, calc(100vh - 110px)); background: #fff;
  border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.28); display: flex; flex-direction: column; overflow: hidden; }
.right .panel { right: 0; } .left .panel { left: 0; }
.panel[hidden], [hidden] { display: none !important; }
header { background: var(--accent); color: var(--on-accent); padding: 12px 14px; display: flex; align-items: center; gap: 10px; }
header img { width: 34px; height: 34px; border-radius: 50%; object-fit: cover; background: rgba(255,255,255,.3); }
header h2 { font-size: 16px; margin: 0; flex: 1; font-weight: 650; }
.close { background: transparent; border: 0; color: inherit; width: 36px; height: 36px; border-radius: 8px; font-size: 22px; line-height: 1; }
.progress { padding: 8px 14px; background: #f3f5f8; border-bottom: 1px solid #e3e7ec; font-size: 13px; }
.bar { height: 6px; background: #dde3ea; border-radius: 3px; margin-top: 4px; overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--accent); }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 8px; background: #fafbfc; }
.msg { max-width: 82%; padding: 8px 12px; border-radius: 14px; background: #eef1f5; word-wrap: break-word; overflow-wrap: anywhere; }
.msg p { margin: 0 0 6px; } .msg p:last-child { margin: 0; }
.msg.visitor { align-self: flex-end; background: var(--accent); color: var(--on-accent); border-bottom-right-radius: 4px; }
.msg.visitor a { color: inherit; }
.msg.reply { align-self: flex-start; border-bottom-left-radius: 4px; }
.msg code { font-family: ui-monospace, monospace; background: rgba(0,0,0,.07); padding: 0 3px; border-radius: 4px; }
.who { display: block; font-size: 12px; font-weight: 650; opacity: .75; margin-bottom: 2px; }
.meta { display: block; font-size: 11px; opacity: .7; margin-top: 2px; text-align: right; }
.msg img { max-width: 100%; border-radius: 8px; display: block; margin-top: 4px; }
.note { align-self: center; font-size: 13px; color: #4a5561; text-align: center; padding: 2px 8px; }
.typing { padding: 0 14px 6px; font-size: 13px; color: #4a5561; background: #fafbfc; }
.quick { display: flex; flex-wrap: wrap; gap: 6px; padding: 6px 14px; background: #fafbfc; }
.quick button { border: 1px solid var(--accent); color: #1b1f24; background: #fff; border-radius: 16px; padding: 5px 12px; }
.composer { display: flex; align-items: flex-end; gap: 6px; padding: 8px 10px; border-top: 1px solid #e3e7ec; }
textarea { flex: 1; resize: none; border: 1px solid #c5cdd6; border-radius: 10px; padding: 8px 10px; min-height: 40px;
  max-height: 120px; background: #fff; }
.icon { width: 40px; height: 40px; border-radius: 10px; border: 0; background: #eef1f5; display: grid; place-items: center; }
.icon svg { width: 20px; height: 20px; fill: currentColor; }
.send { background: var(--accent); color: var(--on-accent); }
.actions { padding: 0 10px 10px; display: flex; }
.human { flex: 1; border: 1px solid #c5cdd6; background: #fff; border-radius: 10px; padding: 7px; font-size: 14px; }
.prechat { padding: 14px; display: flex; flex-direction: column; gap: 8px; border-top: 1px solid #e3e7ec; }
.prechat label { font-size: 13px; font-weight: 600; display: flex; flex-direction: column; gap: 3px; }
.prechat input { border: 1px solid #c5cdd6; border-radius: 8px; padding: 7px 9px; font-weight: 400; }
.primary { background: var(--accent); color: var(--on-accent); border: 0; border-radius: 10px; padding: 9px; font-weight: 650; }
.error { color: #b3261e; font-size: 13px; padding: 0 14px 6px; }
@media (max-width: 480px) {
  .root.right, .root.left { right: 12px; left: auto; bottom: 12px; }
  .root.left { left: 12px; right: auto; }
  .panel { position: fixed; inset: 0; width: 100vw; height: 100%; border-radius: 0; bottom: 0; }
  .root.open .launcher { display: none; }
}
@media (prefers-reduced-motion: no-preference) { .panel { animation: rise .18s ease-out; } }
@keyframes rise { from { transform: translateY(12px); opacity: 0; } to { transform: none; opacity: 1; } }
`;

  const ICONS = {
    chat: 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z',
    send: 'M3 20l18-8L3 4v6l12 2-12 2z',
    clip: 'M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z',
  };

  // ------------------------------------------------------------------ small helpers

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(name) {
    const ns = 'http://www.w3.org/2000/svg';
    const root = document.createElementNS(ns, 'svg');
    root.setAttribute('viewBox', '0 0 24 24');
    root.setAttribute('aria-hidden', 'true');
    root.setAttribute('focusable', 'false');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', ICONS[name]);
    root.append(path);
    return root;
  }

  // The visitor's language: the page's data-locale, else the widget's setting, else the browser's. The bot
  // answers in it when a message ("ok", "?") shows none; the widget's own labels exist in en and pt.
  function visitorLocale(configured) {
    return (script.dataset.locale || (configured && configured !== 'auto' ? configured : '') || navigator.language || 'en')
      .toLowerCase();
  }

  function pickLocale(configured) {
    return visitorLocale(configured).startsWith('pt') ? 'pt' : 'en';
  }

  let strings = CATALOGUE.en;
  function t(key, values = {}) {
    return String(strings[key] ?? CATALOGUE.en[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
  }

  function safeHref(raw) {
    try {
      const url = new URL(raw);
      return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
    } catch {
      return null;
    }
  }

  // Markdown-ish: **bold**, *italic*, `code`, [text](url), bare http(s) and mailto links. HTML stays text.
  const INLINE = /\[([^\]\n]{1,300})\]\(([^)\s]{1,2000})\)|((?:https?:\/\/|mailto:)[^\s<>"']+[^\s<>"'.,;:!?)\]])|\*\*([^*\n]+)\*\*|`([^`\n]+)`|\*([^*\s][^*\n]*)\*/g;

  function inline(text, parent) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) parent.append(text.slice(last, match.index));
      const [whole, label, target, bare, bold, code, italic] = match;
      if (label !== undefined || bare !== undefined) {
        const href = safeHref(bare ?? target);
        parent.append(href
          ? el('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, label ?? bare)
          : whole);
      } else if (bold !== undefined) {
        parent.append(el('strong', {}, bold));
      } else if (code !== undefined) {
        parent.append(el('code', {}, code));
      } else {
        parent.append(el('em', {}, italic));
      }
      last = match.index + whole.length;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  function richText(text) {
    const fragment = document.createDocumentFragment();
    for (const block of String(text).split(/\n{2,}/)) {
      const p = el('p');
      block.split('\n').forEach((line, i) => {
        if (i) p.append(el('br'));
        inline(line, p);
      });
      fragment.append(p);
    }
    return fragment;
  }

  function onAccent(hex) {
    const n = parseInt(hex.slice(1), 16);
    const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.35 ? '#111' : '#fff';
  }

  function newId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function loadSession() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
      if (!saved || !saved.token) return null;
      // A page that names a signed-in user wants that user's session, not an earlier one.
      if (USER_ID && saved.user_id !== USER_ID) return null;
      return saved;
    } catch {
      return null;
    }
  }

  function saveSession(value) {
    try {
      if (value) localStorage.setItem(STORE_KEY, JSON.stringify(value));
      else localStorage.removeItem(STORE_KEY);
    } catch { /* storage disabled: the session lasts as long as the page */ }
  }

  class HttpError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.status = status;
      this.code = body && body.error && body.error.code;
      this.retryAfter = retryAfter;
    }
  }

  async function call(method, path, { json, form, token } = {}) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    const response = await fetch(API + path, { method, headers, body, credentials: 'omit', mode: 'cors' });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new HttpError(response.status, data, Number(response.headers.get('Retry-After')) || null);
    return data;
  }

  // ------------------------------------------------------------------ the widget

  async function boot() {
    const config = await call('GET', '/config');
    strings = CATALOGUE[pickLocale(config.locale)];
    // A custom element name: the page's own `div { … }` rules do not even match the host.
    const host = el('helpline-chat', { 'data-helpline': 'widget' });
    const shadow = host.attachShadow({ mode: 'open' });
    if ('adoptedStyleSheets' in shadow && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      shadow.append(el('style', {}, CSS));
    }
    const accent = /^#[0-9a-f]{6}$/i.test(config.theme_color) ? config.theme_color : '#1f6feb';
    const root = el('div', { class: `root ${config.position === 'left' ? 'left' : 'right'}`, lang: pickLocale(config.locale) });
    root.style.setProperty('--accent', accent);
    root.style.setProperty('--on-accent', onAccent(accent));
    shadow.append(root);
    document.body.append(host);
    new Widget(config, root).start();
  }

  class Widget {
    constructor(config, root) {
      this.config = config;
      this.root = root;
      this.session = loadSession();
      this.messages = new Map(); // id → {data, node}
      this.handler = null;
      this.unread = 0;
      this.socket = null;
      this.retry = 0;
      this.lastTyping = 0;
      this.botTimer = null;
      this.build();
    }

    build() {
      const c = this.config;
      this.badge = el('span', { class: 'badge', hidden: true, 'aria-hidden': 'true' });
      this.launcher = el('button', {
        class: 'launcher', type: 'button', 'aria-label': t('open'), 'aria-expanded': 'false',
        'aria-controls': 'hl-panel', onclick: () => this.toggle(),
      }, svg('chat'), this.badge);
      const avatar = c.avatar_url && safeHref(c.avatar_url) ? el('img', { src: safeHref(c.avatar_url), alt: '' }) : null;
      this.closeButton = el('button', { class: 'close', type: 'button', 'aria-label': t('close'), onclick: () => this.toggle(false) }, '×');
      this.progressText = el('span');
      this.progressFill = el('span');
      this.progressBar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0' }, this.progressFill);
      this.progress = el('div', { class: 'progress', hidden: true }, this.progressText, this.progressBar);
      this.log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': t('messages'), tabindex: '0' });
      if (c.greeting) this.log.append(el('div', { class: 'msg reply greeting' }, richText(c.greeting)));
      this.typing = el('div', { class: 'typing', hidden: true }, t('typing'));
      this.quick = el('div', { class: 'quick', role: 'group', 'aria-label': t('suggestions'), hidden: true });
      this.error = el('div', { class: 'error', role: 'alert', hidden: true });
      this.input = el('textarea', {
        id: 'hl-input', rows: '1', placeholder: t('placeholder'), maxlength: String(c.max_message_chars),
        onkeydown: (e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
        },
        oninput: () => this.typed(),
      });
      this.file = el('input', {
        type: 'file', class: 'sr', tabindex: '-1', 'aria-hidden': 'true', accept: (c.upload_types || []).join(','),
        onchange: () => this.upload(),
      });
      this.composer = el('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); this.submit(); } },
        el('label', { for: 'hl-input', class: 'sr' }, t('message')),
        this.input,
        el('button', { type: 'button', class: 'icon attach', 'aria-label': t('attach'), onclick: () => this.file.click() }, svg('clip')),
        this.file,
        el('button', { type: 'submit', class: 'icon send', 'aria-label': t('send') }, svg('send')));
      this.humanButton = el('button', { type: 'button', class: 'human', onclick: () => this.askForHuman() }, t('human'));
      this.actions = el('div', { class: 'actions' }, this.humanButton);
      this.prechat = this.buildPrechat();
      this.announcer = el('div', { class: 'sr', role: 'status', 'aria-live': 'polite' });
      this.panel = el('section', {
        class: 'panel', id: 'hl-panel', role: 'dialog', 'aria-labelledby': 'hl-title', hidden: true,
        onkeydown: (e) => { if (e.key === 'Escape') { e.stopPropagation(); this.toggle(false); } },
      },
      el('header', {}, avatar, el('h2', { id: 'hl-title' }, c.title), this.closeButton),
      this.progress, this.log, this.typing, this.quick, this.error, this.prechat, this.composer, this.actions);
      this.root.append(this.panel, this.launcher, this.announcer);
    }

    buildPrechat() {
      const required = this.config.pre_chat_form === 'required';
      this.nameInput = el('input', { type: 'text', name: 'name', autocomplete: 'name', maxlength: '200', required });
      this.emailInput = el('input', { type: 'email', name: 'email', autocomplete: 'email', maxlength: '320', required });
      return el('form', { class: 'prechat', hidden: true, novalidate: true, onsubmit: (e) => { e.preventDefault(); this.startFromForm(); } },
        el('p', {}, t(required ? 'prechat_required' : 'prechat')),
        el('label', {}, t('name'), this.nameInput),
        el('label', {}, t('email'), this.emailInput),
        el('button', { type: 'submit', class: 'primary' }, t('start')));
    }

    start() {
      if (this.session) this.resume();
    }

    get needsForm() {
      return !this.session && this.config.pre_chat_form !== 'off';
    }

    toggle(open = this.panel.hidden) {
      this.panel.hidden = !open;
      this.root.classList.toggle('open', open);
      this.launcher.setAttribute('aria-expanded', String(open));
      this.launcher.setAttribute('aria-label', t(open ? 'close' : 'open'));
      if (open) {
        this.unread = 0;
        this.showBadge();
        const form = this.needsForm;
        this.prechat.hidden = !form;
        this.composer.hidden = form;
        this.actions.hidden = form;
        (form ? this.nameInput : this.input).focus();
        this.scrollDown();
        this.markRead();
      } else {
        this.launcher.focus();
      }
    }

    showBadge() {
      this.badge.hidden = this.unread === 0;
      this.badge.textContent = this.unread > 9 ? '9+' : String(this.unread);
      this.launcher.setAttribute('aria-label', this.unread ? `${t('open')} (${t('unread', { n: this.unread })})` : t(this.panel.hidden ? 'open' : 'close'));
    }

    showError(text) {
      this.error.hidden = !text;
      this.error.textContent = text || '';
    }

    problem(error) {
      if (error instanceof HttpError && error.status === 429) return t('slow', { s: error.retryAfter || 30 });
      if (error instanceof HttpError && (error.status === 422 || error.status === 413)) return error.message;
      return t('failed');
    }

    // -------------------------------------------------------------- session

    async ensureSession(extra = {}) {
      if (this.session) return this.session;
      const body = { ...extra, locale: visitorLocale(this.config.locale) };
      if (USER_ID) { body.user_id = USER_ID; body.user_hash = USER_HASH; }
      const started = await call('POST', '/sessions', { json: body });
      this.session = { token: started.token, session_id: started.session_id, user_id: USER_ID, verified: started.verified };
      saveSession(this.session);
      this.connect();
      return this.session;
    }

    async startFromForm() {
      const name = this.nameInput.value.trim();
      const email = this.emailInput.value.trim();
      if (this.config.pre_chat_form === 'required' && (!name || !email)) {
        this.showError(t('prechat_required'));
        (name ? this.emailInput : this.nameInput).focus();
        return;
      }
      if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        this.showError(t('invalid_email'));
        this.emailInput.focus();
        return;
      }
      try {
        await this.ensureSession({ name: name || null, email: email || null });
      } catch (error) {
        this.showError(this.problem(error));
        return;
      }
      this.showError('');
      this.prechat.hidden = true;
      this.composer.hidden = false;
      this.actions.hidden = false;
      this.input.focus();
    }

    async resume() {
      await this.loadHistory();
      this.connect();
    }

    get path() {
      return `/sessions/${encodeURIComponent(this.session.session_id)}`;
    }

    async loadHistory() {
      if (!this.session) return;
      try {
        const data = await call('GET', `${this.path}/messages`, { token: this.session.token });
        this.setHandler(data.handler);
        for (const message of data.messages) this.upsert(message, { quiet: true });
        this.afterChange();
      } catch (error) {
        if (error instanceof HttpError && error.status === 404) this.forget();
      }
    }

    forget() {
      // The server no longer knows this session (another widget, a new secret key): start afresh.
      this.session = null;
      saveSession(null);
      if (this.socket) this.socket.close();
    }

    // -------------------------------------------------------------- live socket

    connect() {
      if (!this.session || this.socket) return;
      const url = `${BASE.replace(/^http/, 'ws')}/api/v1/widget/${CHANNEL}/socket`;
      const socket = new WebSocket(url);
      this.socket = socket;
      socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'auth', token: this.session.token })));
      socket.addEventListener('message', (event) => {
        let frame;
        try { frame = JSON.parse(event.data); } catch { return; }
        this.onFrame(frame);
      });
      socket.addEventListener('close', (event) => {
        this.socket = null;
        if (event.code === 4404) { this.forget(); return; }
        if (event.code === 4403 || !this.session) return;
        const wait = Math.min(30000, 1000 * 2 ** this.retry++);
        setTimeout(() => this.connect(), wait);
      });
    }

    onFrame(frame) {
      if (frame.type === 'hello') {
        this.retry = 0;
        // Whatever happened while the socket was away is in the history.
        this.loadHistory();
      } else if (frame.type === 'message' && frame.message) {
        this.upsert(frame.message);
        this.afterChange();
      } else if (frame.type === 'escalation') {
        // No note of our own: the bot's hand-over message (or a case's closing message) already says it.
        this.setHandler('human');
      } else if (frame.type === 'handler') {
        this.setHandler(frame.handler);
      } else if (frame.type === 'joined' && frame.name) {
        this.setHandler('human');
        this.note(t('joined', { name: frame.name }));
      } else if (frame.type === 'typing') {
        this.showTyping(6000);
      } else if (frame.type === 'read') {
        this.markSeen();
      } else if (frame.type === 'resync') {
        this.loadHistory();
      }
    }

    setHandler(handler) {
      // With a person: no "Talk to a person" button (it is one already); back with the bot, it returns.
      this.handler = handler;
      const hide = handler === 'human';
      // A hidden button drops the keyboard focus out of the panel (and Escape with it): hand it to the composer.
      if (hide && this.root.getRootNode().activeElement === this.humanButton) this.input.focus();
      this.humanButton.hidden = hide;
    }

    // -------------------------------------------------------------- messages

    authorName(message) {
      if (message.from === 'visitor') return t('you');
      if (message.from === 'bot') return t('assistant');
      if (message.from === 'operator') return message.author || t('team');
      return this.config.title;
    }

    render(message) {
      const mine = message.from === 'visitor';
      const node = el('div', { class: `msg ${mine ? 'visitor' : 'reply'}`, 'data-id': String(message.id) },
        el('span', { class: mine ? 'sr' : 'who' }, this.authorName(message)));
      if (message.text) node.append(richText(message.text));
      for (const file of message.attachments || []) {
        const href = safeHref(file.url);
        if (!href) continue;
        const image = /^image\/(png|jpeg|gif|webp)$/.test(file.content_type);
        node.append(el('a', { href, target: '_blank', rel: 'noopener noreferrer' },
          image ? el('img', { src: href, alt: file.filename }) : t('file', { name: file.filename })));
      }
      if (mine) node.append(el('span', { class: 'meta', hidden: message.state !== 'read' }, t('seen')));
      return node;
    }

    upsert(message, { quiet = false } = {}) {
      const known = this.messages.get(message.id);
      const node = this.render(message);
      if (known) {
        known.node.replaceWith(node);
        known.data = message;
        known.node = node;
        return;
      }
      this.messages.set(message.id, { data: message, node });
      const later = [...this.messages.values()].filter((m) => m.data.id > message.id).sort((a, b) => a.data.id - b.data.id)[0];
      if (later) this.log.insertBefore(node, later.node); else this.log.append(node);
      if (message.from !== 'visitor') {
        this.stopBotTyping();
        if (!quiet) this.arrived(message);
      }
    }

    arrived(message) {
      if (this.panel.hidden || document.visibilityState === 'hidden') {
        this.unread += 1;
        this.showBadge();
        this.announcer.textContent = t('announce', { who: this.authorName(message), text: (message.text || '').slice(0, 200) });
      } else {
        this.markRead();
      }
    }

    note(text) {
      this.log.append(el('div', { class: 'note' }, text));
      this.scrollDown();
    }

    markSeen() {
      for (const { data, node } of this.messages.values()) {
        if (data.from === 'visitor') {
          data.state = 'read';
          const meta = node.querySelector('.meta');
          if (meta) meta.hidden = true;
        }
      }
      const mine = [...this.messages.values()].filter((m) => m.data.from === 'visitor').pop();
      const meta = mine && mine.node.querySelector('.meta');
      if (meta) meta.hidden = false;
    }

    markRead() {
      const replies = [...this.messages.values()].filter((m) => m.data.from !== 'visitor' && m.data.state !== 'read');
      if (!replies.length || !this.socket || this.socket.readyState !== WebSocket.OPEN || this.panel.hidden) return;
      const upTo = Math.max(...replies.map((m) => m.data.id));
      for (const m of replies) m.data.state = 'read';
      this.socket.send(JSON.stringify({ type: 'read', message_id: upTo }));
    }

    scrollDown() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    afterChange() {
      const ordered = [...this.messages.values()].map((m) => m.data).sort((a, b) => a.id - b.id);
      const last = ordered[ordered.length - 1];
      // The bot's script progress, while its latest question is the conversation's latest message.
      const progress = last && last.from === 'bot' ? last.progress : null;
      this.progress.hidden = !progress;
      if (progress) {
        const k = progress.completed ? progress.total : progress.step;
        this.progressText.textContent = progress.completed ? t('done')
          : t(progress.final ? 'last_step' : 'step', { k, n: progress.total });
        this.progressBar.setAttribute('aria-valuemax', String(progress.total));
        this.progressBar.setAttribute('aria-valuenow', String(progress.completed ? progress.total : k - 1));
        this.progressBar.setAttribute('aria-label', this.progressText.textContent);
        this.progressFill.style.width = `${Math.round((100 * (progress.completed ? progress.total : k - 1)) / progress.total)}%`;
      }
      const choices = last && last.from === 'bot' ? last.quick_replies || [] : [];
      this.quick.replaceChildren(...choices.map((choice) => el('button', {
        type: 'button', onclick: () => this.send(choice, { quickReply: true }),
      }, choice)));
      this.quick.hidden = !choices.length;
      this.scrollDown();
    }

    startBotTyping() {
      if (this.handler === 'human' || (this.handler === null && !this.config.bot)) return;
      this.showTyping(BOT_TYPING_MS);
    }

    showTyping(ms) {
      this.typing.hidden = false;
      clearTimeout(this.botTimer);
      this.botTimer = setTimeout(() => this.stopBotTyping(), ms);
    }

    stopBotTyping() {
      clearTimeout(this.botTimer);
      this.typing.hidden = true;
    }

    // -------------------------------------------------------------- sending

    typed() {
      const now = Date.now();
      if (this.socket && this.socket.readyState === WebSocket.OPEN && now - this.lastTyping > TYPING_EVERY_MS) {
        this.lastTyping = now;
        this.socket.send(JSON.stringify({ type: 'typing' }));
      }
    }

    async submit() {
      const text = this.input.value.trim();
      if (!text) return;
      if (await this.send(text)) this.input.value = '';
    }

    async send(text, { quickReply = false } = {}) {
      this.showError('');
      this.quick.hidden = true;
      try {
        await this.ensureSession();
        const data = await call('POST', `${this.path}/messages`, {
          token: this.session.token, json: { text, client_id: newId(), quick_reply: quickReply, locale: visitorLocale(this.config.locale) },
        });
        if (data.message) this.upsert(data.message);
        // A sent message ends the typing burst: the next keystroke announces a new one at once, not up to 2 s
        // later (the operator's view hides "typing…" when the message lands).
        this.lastTyping = 0;
        this.afterChange();
        this.startBotTyping();
        return true;
      } catch (error) {
        this.showError(this.problem(error));
        this.afterChange();
        return false;
      }
    }

    askForHuman() {
      this.send(t('human_text'));
    }

    async upload() {
      const file = this.file.files && this.file.files[0];
      this.file.value = '';
      if (!file) return;
      const limit = this.config.max_upload_bytes;
      if (file.size > limit) {
        this.showError(t('file_large', { size: `${Math.floor(limit / 1048576) || 1} MB` }));
        return;
      }
      if (!(this.config.upload_types || []).includes(file.type)) {
        this.showError(t('file_type'));
        return;
      }
      this.showError('');
      try {
        await this.ensureSession();
        const form = new FormData();
        form.append('file', file, file.name);
        form.append('client_id', newId());
        const caption = this.input.value.trim();
        if (caption) form.append('text', caption);
        const data = await call('POST', `${this.path}/attachments`, { token: this.session.token, form });
        this.input.value = '';
        if (data.message) this.upsert(data.message);
        this.afterChange();
      } catch (error) {
        this.showError(this.problem(error));
      }
    }
  }

  const go = () => boot().catch(() => { /* a widget that cannot load stays out of the page's way */ });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go); else go();
})();
