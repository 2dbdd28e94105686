// The open conversation: header with its actions, the timeline (a feed of messages), and the composer.

import { ApiError, get, post } from '../api.js';
import { avatar, h, icon, replace } from '../dom.js';
import { dayKey, dayLabel, full, time } from '../format.js';
import { t } from '../i18n.js';
import { channelIcon } from './channels.js';
import { Composer } from './composer.js';

const PAGE = 50;

export class ConversationPane {
  constructor(ctx, el, state) {
    this.ctx = ctx;
    this.el = el;
    this.state = state;
    this.id = undefined; // null = nothing selected; undefined = not rendered yet
    this.header = h('header', { class: 'conversation-header' });
    this.feed = h('div', { class: 'timeline', role: 'feed', 'aria-busy': 'false' });
    this.composerEl = h('div', { class: 'composer-slot' });
    this.composer = new Composer(ctx, this.composerEl);
    this.onMessage = (event) => this.liveMessage(event.detail);
    this.onConversation = (event) => { if (event.detail.id === this.id) this.renderHeader(); };
    ctx.store.addEventListener('message', this.onMessage);
    ctx.store.addEventListener('conversation', this.onConversation);
  }

  async open(id) {
    if (id === this.id) return;
    this.id = id;
    if (!id) {
      replace(this.el, h('div', { class: 'empty-pane' }, h('p', {}, t('conversation.none_selected'))));
      return;
    }
    performance.mark('helpline:open-start');
    replace(this.el, this.header, this.feed, this.composerEl);
    replace(this.header);
    replace(this.feed, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const [conversation, page] = await Promise.all([
        get(`/conversations/${id}`), get(`/conversations/${id}/messages`, { limit: PAGE }),
      ]);
      if (this.id !== id) return;
      this.ctx.store.conversations.set(conversation.id, conversation);
      const map = this.ctx.store.messagesOf(id);
      for (const message of page.items) map.set(message.id, message);
      this.cursor = page.next_cursor;
      this.renderHeader();
      this.renderTimeline();
      this.composer.attach(conversation);
      this.feed.scrollTop = this.feed.scrollHeight;
      requestAnimationFrame(() => performance.measure('helpline:open', 'helpline:open-start'));
    } catch (err) {
      if (this.id !== id) return;
      replace(this.header);
      const gone = err instanceof ApiError && (err.status === 404 || err.status === 422);
      replace(this.feed, h('div', { class: gone ? 'empty' : 'error-box', role: gone ? null : 'alert' },
        h('p', {}, gone ? t('conversation.not_found') : t('conversation.load_failed')),
        gone ? null : h('button', { type: 'button', class: 'button small', onclick: () => { this.id = null; this.open(id); } },
          t('common.retry'))));
      this.composer.detach();
    }
  }

  conversation() {
    return this.ctx.store.conversations.get(this.id);
  }

  renderHeader() {
    const c = this.conversation();
    if (!c) return;
    const name = c.contact.name || t('contact.unnamed');
    const action = (label, iconName, run, key) => h('button', { type: 'button', class: 'button', 'aria-keyshortcuts': key,
      onclick: () => this.act(run) }, icon(iconName), h('span', {}, label));
    const actions = [];
    if (c.status === 'resolved') actions.push(action(t('actions.reopen'), 'rotate-ccw', 'reopen'));
    else {
      if (c.handler === 'bot') actions.push(action(t('actions.takeover'), 'hand', 'takeover', 't'));
      else actions.push(action(t('actions.handback'), 'bot', 'handback', 'b'));
      actions.push(action(t('actions.resolve'), 'circle-check', 'resolve', 'e'));
    }
    replace(this.header,
      h('a', { class: 'icon-button back', href: `/${location.search}`, 'aria-label': t('conversation.back') }, icon('arrow-left')),
      avatar(name, `c${c.contact.id}`),
      h('div', { class: 'conversation-title' },
        h('h2', { id: 'conversation-title', tabindex: '-1' }, name),
        h('p', { class: 'muted' }, channelIcon(c.channel.kind), h('span', {}, `${t(`kinds.${c.channel.kind}`)} · ${c.channel.name}`),
          h('span', { class: `status-chip status-${c.status}` }, t(`status.${c.status}`)),
          h('span', { class: 'handler-chip' }, icon(c.handler === 'bot' ? 'bot' : 'user'), t(`handler.${c.handler}`)))),
      h('div', { class: 'conversation-actions' }, actions));
  }

  async act(action) {
    try {
      const updated = await post(`/conversations/${this.id}/${action}`, {});
      if (updated && updated.id) this.ctx.store.putConversation(updated);
    } catch (err) {
      this.ctx.shell.toast(t('actions.failed', { reason: err.message }), { kind: 'error' });
    }
  }

  renderTimeline() {
    const messages = [...this.ctx.store.messagesOf(this.id).values()].sort(order);
    const items = [];
    let day = null;
    for (const message of messages) {
      const key = dayKey(message.created_at);
      if (key !== day) {
        day = key;
        items.push(h('div', { class: 'day-separator', role: 'separator' }, h('span', {}, dayLabel(message.created_at))));
      }
      items.push(this.bubble(message));
    }
    replace(this.feed, items);
  }

  bubble(m) {
    const c = this.conversation();
    const author = m.author_kind === 'contact' ? (c?.contact.name || t('contact.unnamed'))
      : m.author_kind === 'bot' ? t('author.bot')
        : m.author_kind === 'operator' ? (m.operator?.id === this.ctx.me.id ? t('author.you') : m.operator?.name || t('author.operator'))
          : t('author.system');
    const when = m.created_at;
    return h('article', { class: ['message', `from-${m.author_kind}`, m.direction], 'aria-label': t('message.label',
      { author, time: full(when) }), dataset: { id: String(m.id) } },
    h('div', { class: 'message-meta' }, h('span', { class: 'message-author' }, author),
      h('time', { datetime: when, title: full(when) }, time(when))),
    m.text ? h('p', { class: 'message-text' }, m.text) : null,
    m.attachments.length ? h('ul', { class: 'attachments' }, m.attachments.map((a) => h('li', {},
      h('a', { href: a.url, download: a.filename }, icon('paperclip'), a.filename)))) : null,
    m.direction === 'outbound' ? h('span', { class: `ticks state-${m.delivery_state}` }, t(`delivery.${m.delivery_state}`)) : null);
  }

  liveMessage({ message }) {
    if (!message || message.conversation_id !== this.id) return;
    const nearBottom = this.feed.scrollHeight - this.feed.scrollTop - this.feed.clientHeight < 80;
    this.renderTimeline();
    if (nearBottom) this.feed.scrollTop = this.feed.scrollHeight;
  }

  relabel() {
    if (!this.id) {
      const id = this.id;
      this.id = undefined;
      this.open(id);
      return;
    }
    this.renderHeader();
    this.renderTimeline();
    this.composer.relabel();
  }

  destroy() {
    this.ctx.store.removeEventListener('message', this.onMessage);
    this.ctx.store.removeEventListener('conversation', this.onConversation);
  }
}

function order(a, b) {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id;
}
