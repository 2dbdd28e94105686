// The composer: auto-growing text (Enter sends, Shift+Enter new line, Ctrl/⌘+Enter too), files by picker, drop
// and paste with refusals shown before upload, a character counter near the channel's limit, optimistic bubbles
// with a client id, per-conversation drafts, the collision guard, suggested replies, and the locked state with
// the template picker when the reply window is closed (ui-guide §2, §3, §5, §6).

import { ApiError, api, get, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { bytes, duration, number, relative } from '../format.js';
import { t } from '../i18n.js';
import { authorName } from './message.js';
import { TemplatePicker } from './templates.js';
import { windowOf } from './window.js';

const DRAFT_KEY = 'helpline:draft:';
// Until GET /channels/{id}/limits answers: what the providers refuse today (Messenger 2,000, Instagram 1,000).
const FALLBACK_TEXT_LIMIT = { whatsapp: 4096, messenger: 2000, instagram: 1000 };
const limitsCache = new Map();

export function draftOf(id) {
  try { return localStorage.getItem(DRAFT_KEY + id) || ''; } catch { return ''; }
}

function saveDraft(id, text) {
  try {
    if (text) localStorage.setItem(DRAFT_KEY + id, text);
    else localStorage.removeItem(DRAFT_KEY + id);
  } catch { /* private mode: drafts live only in memory */ }
}

export function newClientId() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `web-${Date.now().toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

async function limitsOf(channel) {
  if (limitsCache.has(channel.id)) return limitsCache.get(channel.id);
  let limits = { max_text_length: FALLBACK_TEXT_LIMIT[channel.kind] || null, attachment_rules: [], max_attachment_bytes: null,
    max_files: 10 };
  try {
    limits = { ...limits, ...(await get(`/channels/${channel.id}/limits`)) };
  } catch { /* older server: fall back to what we know */ }
  limitsCache.set(channel.id, limits);
  return limits;
}

/** Why a file would be refused before upload (type, size, count), or null. */
export function fileProblem(file, limits, index) {
  if (limits.max_files && index >= limits.max_files) return t('composer.too_many_files', { count: limits.max_files });
  const type = (file.type || 'application/octet-stream').toLowerCase();
  const rules = limits.attachment_rules || [];
  if (rules.length) {
    const rule = rules.find((r) => r.content_types.some((p) => p === '*/*' || p === type || (p.endsWith('/*') && type.startsWith(p.slice(0, -1)))));
    if (!rule) return t('composer.file_type', { type });
    if (file.size > rule.max_bytes) return t('composer.file_size', { max: bytes(rule.max_bytes) });
  }
  if (limits.max_attachment_bytes && file.size > limits.max_attachment_bytes) {
    return t('composer.file_size', { max: bytes(limits.max_attachment_bytes) });
  }
  return null;
}

export class Composer {
  /** host = {ctx, actions, timeline} */
  constructor(ctx, el, host = {}) {
    this.ctx = ctx;
    this.el = el;
    this.host = host;
    this.conversation = null;
    this.files = [];
    this.collision = null;
    this.limits = {};
    this.picker = new TemplatePicker(ctx, this);
  }

  attach(conversation) {
    const switched = !this.conversation || this.conversation.id !== conversation.id;
    if (switched && this.conversation && this.text) saveDraft(this.conversation.id, this.text.value);
    this.conversation = conversation;
    if (switched) {
      this.files = [];
      this.collision = null;
      this.picker.close({ silent: true });
      this.limits = { max_text_length: FALLBACK_TEXT_LIMIT[conversation.channel.kind] || null };
      limitsOf(conversation.channel).then((limits) => {
        if (this.conversation && this.conversation.id === conversation.id) {
          this.limits = limits;
          this.renderFiles();
          this.count();
        }
      });
    }
    this.render({ keepText: !switched });
  }

  detach() {
    if (this.conversation && this.text) saveDraft(this.conversation.id, this.text.value);
    this.conversation = null;
    this.picker.close({ silent: true });
    replace(this.el);
  }

  /** A conversation update (window, handler, assignee): re-render the hint and lock without losing the text. */
  refresh(conversation) {
    this.conversation = conversation;
    const locked = windowOf(conversation).locked;
    if (locked !== this.locked) this.render({ keepText: true });
    else this.renderHint();
  }

  draft() { return this.text ? this.text.value.trim() : ''; }

  render({ keepText = false } = {}) {
    const c = this.conversation;
    if (!c) return;
    const previous = keepText && this.text ? this.text.value : draftOf(c.id);
    const w = windowOf(c);
    this.locked = w.locked;
    this.hint = h('p', { class: 'composer-hint', id: 'composer-hint' });
    this.text = h('textarea', {
      id: 'composer-text', rows: '1', 'aria-label': t('composer.label'), 'aria-describedby': 'composer-hint composer-count',
      placeholder: t('composer.placeholder'), value: previous, readonly: w.locked ? true : null,
      oninput: () => this.onInput(), onkeydown: (event) => this.onKey(event),
      onpaste: (event) => {
        const files = [...(event.clipboardData ? event.clipboardData.files : [])];
        if (files.length) {
          event.preventDefault();
          this.addFiles(files);
        }
      },
    });
    this.counter = h('span', { class: 'char-count', id: 'composer-count', 'aria-live': 'polite' });
    // Hidden (out of the accessibility tree): the paperclip button opens it.
    this.fileInput = h('input', { type: 'file', id: 'composer-files', multiple: true, hidden: true, tabindex: '-1',
      onchange: (event) => { this.addFiles([...event.target.files]); event.target.value = ''; } });
    this.fileList = h('ul', { class: 'file-chips', 'aria-label': t('composer.files') });
    this.collisionEl = h('p', { class: 'collision', role: 'status', hidden: true });
    this.suggestionsEl = h('div', { class: 'suggestions', hidden: true });
    this.sendButton = h('button', { type: 'submit', class: 'button primary send' }, icon('send'), h('span', {}, t('composer.send')));
    const templated = this.templatesAvailable();
    const tools = h('div', { class: 'composer-tools' },
      h('button', { type: 'button', class: 'icon-button', 'aria-label': t('composer.attach'), title: t('composer.attach'),
        onclick: () => this.fileInput.click(), disabled: w.locked }, icon('paperclip')),
      this.fileInput,
      h('button', { type: 'button', class: 'button ghost small', onclick: () => this.toggleSuggestions(), 'aria-expanded': 'false',
        id: 'suggestions-toggle', disabled: w.locked }, icon('sparkles'), h('span', {}, t('composer.suggestions'))),
      templated ? h('button', { type: 'button', class: 'button ghost small', 'aria-keyshortcuts': 'Shift+T',
        onclick: () => this.picker.open() }, icon('layout-template'), h('span', {}, t('composer.template'))) : null,
      h('span', { class: 'spacer' }), this.counter, w.locked ? null : this.sendButton);
    const form = h('form', { class: ['composer', w.locked && 'locked'], onsubmit: (event) => { event.preventDefault(); this.submit(); } },
      this.hint, this.collisionEl, this.suggestionsEl,
      w.locked ? this.lockedBox(w) : null,
      this.text, this.fileList, w.locked ? null : tools);
    replace(this.el, this.picker.el, form);
    this.renderHint();
    this.renderFiles();
    this.grow();
    this.count();
  }

  templatesAvailable() {
    const c = this.conversation;
    return Boolean(c && (this.limits.templates_available ?? c.channel.kind === 'whatsapp'));
  }

  lockedBox(w) {
    const c = this.conversation;
    const since = w.expiresAt ? duration(Date.now() - w.expiresAt.getTime()) : null;
    const last = c.last_inbound_at ? duration(Date.now() - new Date(c.last_inbound_at).getTime()) : null;
    if (w.templates || this.templatesAvailable()) {
      return h('div', { class: 'locked-box', role: 'note' }, icon('lock'),
        h('div', {}, h('p', {}, since && last ? t('composer.locked_templates', { since, last, channel: t(`kinds.${c.channel.kind}`) })
          : t('composer.locked_templates_short', { channel: t(`kinds.${c.channel.kind}`) })),
        this.draft() ? h('p', { class: 'muted' }, t('composer.draft_kept')) : null,
        h('button', { type: 'button', class: 'button primary', id: 'choose-template', onclick: () => this.picker.open() },
          icon('layout-template'), h('span', {}, t('composer.choose_template')))));
    }
    return h('div', { class: 'locked-box', role: 'note' }, icon('lock'), h('p', {}, t('composer.locked_nothing')));
  }

  /** One hint line: window caption, then who the send affects. */
  renderHint() {
    const c = this.conversation;
    if (!c || !this.hint) return;
    const w = windowOf(c);
    const parts = [];
    if (w.state === 'closing') parts.push(h('span', { class: 'hint-closing' }, icon('clock-alert'), t('composer.closing', { left: duration(w.left) })));
    if (w.state === 'human') parts.push(h('span', { class: 'hint-human' }, icon('user'), t('reply_window.human_caption')));
    if (!w.locked) {
      if (c.handler === 'bot') parts.push(h('span', {}, icon('hand'), t('composer.takes_over')));
      else if (!c.assignee) parts.push(h('span', {}, icon('user-check'), t('composer.assigns')));
    }
    replace(this.hint, parts);
    this.hint.hidden = !parts.length;
  }

  focus() {
    if (!this.conversation) return false;
    const target = this.locked ? this.el.querySelector('#choose-template') : this.text;
    if (target) target.focus();
    return Boolean(target);
  }

  onInput() {
    this.grow();
    this.count();
    clearTimeout(this.saveTimer);
    const id = this.conversation && this.conversation.id;
    // "Typing…" for the customer where the channel shows it (the website chat): one signal every 3 s at most.
    const now = Date.now();
    if (id && this.text && this.text.value.trim() && now - (this.typedAt || 0) > 3000) {
      this.typedAt = now;
      post(`/conversations/${id}/typing`).catch(() => { /* a lost typing signal is harmless */ });
    }
    this.saveTimer = setTimeout(() => { if (id && this.conversation && this.conversation.id === id) saveDraft(id, this.text.value); }, 300);
  }

  grow() {
    if (!this.text) return;
    this.text.style.height = 'auto';
    const max = Math.max(80, Math.round((this.el.parentElement ? this.el.parentElement.clientHeight : 600) * 0.4));
    this.text.style.height = `${Math.min(max, Math.max(40, this.text.scrollHeight + 2))}px`;
  }

  /** The counter shows within 20 % of the channel's limit and blocks Send past it. */
  count() {
    if (!this.counter) return;
    const max = this.limits.max_text_length;
    const length = Array.from(this.text.value.trim()).length;
    const over = Boolean(max) && length > max;
    this.counter.hidden = !max || length < max * 0.8;
    this.counter.textContent = max ? t('composer.count', { count: number(length), max: number(max) }) : '';
    this.counter.classList.toggle('over', over);
    this.sendButton.disabled = over;
    this.sendButton.title = over ? t('composer.too_long', { max: number(max) }) : '';
    this.text.setAttribute('aria-invalid', over ? 'true' : 'false');
  }

  onKey(event) {
    if (event.key !== 'Enter' || event.isComposing) return;
    if (event.shiftKey && !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    this.submit();
  }

  addFiles(files) {
    if (!this.conversation || this.locked) return;
    for (const file of files) this.files.push({ file, problem: null });
    this.renderFiles();
    this.text.focus();
  }

  renderFiles() {
    if (!this.fileList) return;
    this.files.forEach((item, index) => { item.problem = fileProblem(item.file, this.limits, index); });
    replace(this.fileList, this.files.map((item, index) => h('li', { class: ['file-chip', item.problem && 'refused'] },
      icon(item.problem ? 'circle-alert' : item.file.type.startsWith('image/') ? 'image' : 'file'),
      h('span', { class: 'file-name', title: item.file.name }, item.file.name),
      h('span', { class: 'muted' }, bytes(item.file.size)),
      item.problem ? h('span', { class: 'file-problem' }, item.problem) : null,
      h('button', { type: 'button', class: 'icon-button small', 'aria-label': t('composer.remove_file', { name: item.file.name }),
        onclick: () => { this.files.splice(index, 1); this.renderFiles(); } }, icon('x')))));
  }

  /** Another operator's or the bot's message landed while I have a draft: say so; the next Enter asks. */
  noteOthers(message) {
    if (!this.conversation || message.conversation_id !== this.conversation.id || !this.draft()) return;
    if (message.direction !== 'outbound' || message.content_type === 'event' || message.pending) return;
    if (message.author_kind === 'operator' && message.operator && message.operator.id === this.ctx.me.id) return;
    if (message.author_kind === 'system') return;
    this.collision = { who: authorName(message, this.conversation, this.ctx.me), at: message.created_at, confirm: false };
    this.renderCollision();
  }

  renderCollision() {
    const col = this.collision;
    if (!this.collisionEl) return;
    this.collisionEl.hidden = !col;
    if (!col) return;
    replace(this.collisionEl, icon('triangle-alert'), h('span', {}, t('composer.collision', { who: col.who, when: relative(col.at) })),
      col.confirm ? h('span', { class: 'collision-ask' }, t('composer.collision_ask')) : null);
  }

  async submit() {
    const c = this.conversation;
    if (!c || this.locked) return;
    const text = this.text.value.trim();
    if (!text && !this.files.length) return;
    if (this.files.some((item) => item.problem)) {
      this.ctx.shell.announce(t('composer.fix_files'), { assertive: true });
      return;
    }
    if (this.limits.max_text_length && Array.from(text).length > this.limits.max_text_length) return;
    if (this.collision && !this.collision.confirm) {
      this.collision.confirm = true;
      this.renderCollision();
      const review = (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          this.collision = null;
          this.renderCollision();
          this.text.removeEventListener('keydown', review);
        }
      };
      this.text.addEventListener('keydown', review);
      return;
    }
    this.collision = null;
    this.renderCollision();
    const files = this.files.map((item) => item.file);
    // Escalated and unassigned: the UI assigns, then sends (ui-guide §1 workflow 2).
    if (c.handler === 'human' && !c.assignee && this.host.actions) await this.host.actions.assign(this.ctx.me.id);
    const clientId = newClientId();
    this.text.value = '';
    this.files = [];
    this.renderFiles();
    this.grow();
    this.count();
    saveDraft(c.id, '');
    await this.send(c.id, { text, files, clientId });
  }

  /** Optimistic bubble now; the server's message (or the frame that beats it) replaces it by client id. */
  async send(conversationId, { text, files = [], clientId, template = null }) {
    const store = this.ctx.store;
    const pendingId = `pending:${clientId}`;
    const now = new Date().toISOString();
    const optimistic = {
      id: pendingId, conversation_id: conversationId, direction: 'outbound', author_kind: 'operator',
      operator: { id: this.ctx.me.id, name: this.ctx.me.name }, text: template ? template.preview : text || null,
      content_type: template ? 'template' : files.length ? 'attachment' : 'text',
      content: template ? { template: { name: template.name, language: { code: template.language } } } : {},
      attachments: files.map((file, i) => ({ id: `${pendingId}:${i}`, filename: file.name, content_type: file.type, size: file.size,
        state: 'uploading', url: '' })),
      delivery_state: 'queued', error_code: null, error_reason: null, reply_to_id: null, client_id: clientId,
      created_at: now, updated_at: now, pending: true, request: { text, files, template },
    };
    store.putMessage(optimistic);
    try {
      let message;
      if (template) {
        message = await post(`/conversations/${conversationId}/messages`, {
          template: { name: template.name, language: template.language, parameters: template.parameters }, client_id: clientId });
      } else if (files.length) {
        const form = new FormData();
        if (text) form.append('text', text);
        form.append('client_id', clientId);
        for (const file of files) form.append('files', file, file.name);
        message = await api('POST', `/conversations/${conversationId}/messages`, { form });
      } else {
        message = await post(`/conversations/${conversationId}/messages`, { text, client_id: clientId });
      }
      const map = store.messagesOf(conversationId);
      if (map.has(pendingId)) store.removeMessage(conversationId, pendingId);
      if (!map.has(message.id)) store.putMessage(message);
      return message;
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      const failed = { ...store.messagesOf(conversationId).get(pendingId) || optimistic, failed: true,
        retryable: status === 0 || status >= 500 || status === 429,
        windowClosed: status === 409,
        failure: status === 0 ? t('composer.unknown') : t('composer.failed', { reason: err.message || String(err) }) };
      store.putMessage(failed);
      this.ctx.shell.announce(failed.failure, { assertive: true });
      return null;
    }
  }

  /** Failure actions on an optimistic bubble. */
  retry(m) {
    this.ctx.store.removeMessage(m.conversation_id, m.id);
    this.send(m.conversation_id, { ...m.request, clientId: m.client_id });
  }

  edit(m) {
    if (m.pending) this.ctx.store.removeMessage(m.conversation_id, m.id);
    if (!this.text || this.locked) return;
    this.text.value = m.request ? m.request.text || '' : m.text || '';
    if (m.request && m.request.files) this.addFiles(m.request.files);
    this.onInput();
    this.text.focus();
  }

  discard(m) {
    this.ctx.store.removeMessage(m.conversation_id, m.id);
  }

  asTemplate(m) {
    if (m.pending) this.ctx.store.removeMessage(m.conversation_id, m.id);
    this.picker.open({ text: (m.request && m.request.text) || m.text || '' });
  }

  /** Put a suggestion in the composer for editing — never sends. */
  insert(text) {
    if (!this.text || this.locked) return;
    const current = this.text.value;
    this.text.value = current.trim() ? `${current.replace(/\s+$/u, '')}\n${text}` : text;
    this.onInput();
    this.text.focus();
  }

  async toggleSuggestions() {
    const toggle = this.el.querySelector('#suggestions-toggle');
    if (!this.suggestionsEl.hidden) {
      this.suggestionsEl.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      return;
    }
    this.suggestionsEl.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    replace(this.suggestionsEl, h('p', { class: 'muted' }, t('common.loading')));
    const id = this.conversation.id;
    try {
      const list = await get(`/conversations/${id}/suggestions`);
      if (!this.conversation || this.conversation.id !== id) return;
      replace(this.suggestionsEl, list.length ? h('ul', { class: 'suggestion-list' }, list.map((s) => suggestionItem(s, (text) => {
        this.insert(text);
        this.suggestionsEl.hidden = true;
        toggle.setAttribute('aria-expanded', 'false');
      }))) : h('p', { class: 'muted' }, t('composer.no_suggestions')));
    } catch (err) {
      replace(this.suggestionsEl, h('p', { class: 'form-error' }, t('composer.suggestions_failed', { reason: err.message })));
    }
  }

  relabel() {
    if (this.conversation) this.render({ keepText: true });
    this.picker.relabel();
  }
}

/** One suggested reply with its source and an Insert button (also used by the bot panel). */
export function suggestionItem(s, onInsert) {
  return h('li', { class: 'suggestion' },
    h('p', { class: 'suggestion-text' }, String(s.text)),
    h('div', { class: 'suggestion-foot' }, h('span', { class: 'muted' }, t(`composer.source_${s.source}`)),
      h('button', { type: 'button', class: 'button small', onclick: () => onInsert(String(s.text)) }, icon('plus'),
        h('span', {}, t('composer.insert')))));
}
