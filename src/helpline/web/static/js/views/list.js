// The conversation list: a windowed listbox (fixed 76 px rows), endless scroll over the cursor API, live updates
// from the store that never move a row under the operator's pointer.

import { ApiError, get } from '../api.js';
import { avatar, h, icon, replace } from '../dom.js';
import { matches, toApi } from '../filters.js';
import { duration, relative, onTick } from '../format.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { channelIcon } from './channels.js';

const ROW = 76;
const OVERSCAN = 10;
const PAGE = 50;

export class ConversationList {
  constructor(ctx, el, state) {
    this.ctx = ctx;
    this.el = el;
    this.state = state;
    this.ids = [];
    this.cursor = null;
    this.loading = false;
    this.error = null;
    this.pending = new Set();
    this.generation = 0;
    this.search = h('input', { type: 'search', id: 'list-search', class: 'search', 'aria-label': t('inbox.search'),
      placeholder: t('inbox.search_placeholder'), value: state.filters.q || '',
      onkeydown: (event) => { if (event.key === 'Enter') this.setQuery(event.target.value); } });
    this.pill = h('button', { type: 'button', class: 'updates-pill', hidden: true, onclick: () => this.applyPending() });
    this.viewport = h('div', { class: 'list-viewport', id: 'conversation-list', role: 'listbox', tabindex: '0',
      'aria-label': t('inbox.list_label'), onscroll: () => this.onScroll(), onkeydown: (e) => this.onKey(e) });
    this.spacer = h('div', { class: 'list-spacer' });
    this.viewport.append(this.spacer);
    this.status = h('div', { class: 'list-status' });
    replace(el, h('div', { class: 'list-head' }, this.search, this.pill), this.viewport, this.status);
    this.onConversation = (event) => this.live(event.detail);
    ctx.store.addEventListener('conversation', this.onConversation);
    this.untick = onTick(() => this.paint());
    this.onResync = () => this.reload({ keepScroll: true });
    ctx.realtime.addEventListener('resync', this.onResync);
  }

  setQuery(q) {
    const params = new URLSearchParams(location.search);
    if (q) params.set('q', q);
    else params.delete('q');
    const text = params.toString();
    navigate(location.pathname + (text ? `?${text}` : ''));
  }

  async reload({ keepScroll = false } = {}) {
    this.generation += 1;
    this.ids = [];
    this.cursor = null;
    this.done = false;
    this.pending.clear();
    this.pill.hidden = true;
    this.search.value = this.state.filters.q || '';
    if (!keepScroll) this.viewport.scrollTop = 0;
    await this.more();
  }

  async more() {
    if (this.loading || this.done) return;
    this.loading = true;
    const generation = this.generation;
    this.showStatus(this.ids.length ? 'loading-more' : 'loading');
    try {
      const page = await get('/conversations', { ...toApi(this.state.filters), cursor: this.cursor, limit: PAGE });
      if (generation !== this.generation) return;
      this.ctx.store.putConversations(page.items);
      for (const item of page.items) if (!this.ids.includes(item.id)) this.ids.push(item.id);
      this.cursor = page.next_cursor;
      this.done = !page.next_cursor;
      this.error = null;
      performance.mark('helpline:list-ready');
    } catch (err) {
      if (generation !== this.generation) return;
      this.error = err;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
    this.showStatus();
    this.paint();
  }

  showStatus(kind) {
    if (kind === 'loading') replace(this.status, h('p', { class: 'muted' }, t('common.loading')));
    else if (kind === 'loading-more') replace(this.status);
    else if (this.error) {
      const message = this.error instanceof ApiError && this.error.status === 422
        ? t('inbox.bad_filter', { reason: this.error.message }) : t('inbox.load_failed');
      replace(this.status, h('div', { class: 'error-box', role: 'alert' }, h('p', {}, message),
        h('button', { type: 'button', class: 'button small', onclick: () => this.more() }, t('common.retry'))));
    } else if (!this.ids.length) {
      const noChannels = this.ctx.me.role === 'agent' && !(this.ctx.me.channel_ids || []).length;
      replace(this.status, h('div', { class: 'empty' },
        h('p', {}, noChannels ? t('inbox.empty.no_channels') : Object.keys(this.state.filters).length
          ? t('inbox.empty.filtered') : t('inbox.empty.none'))));
    } else replace(this.status);
  }

  onScroll() {
    this.paint();
    if (this.viewport.scrollTop + this.viewport.clientHeight > this.ids.length * ROW - ROW * 5) this.more();
    if (this.viewport.scrollTop < ROW && this.pending.size && !this.viewport.matches(':hover')) this.applyPending();
  }

  /** Render only the rows in view (plus overscan): 10,000 conversations cost the same as 50. */
  paint() {
    const total = this.ids.length;
    this.spacer.style.height = `${total * ROW}px`;
    this.viewport.setAttribute('aria-setsize', this.done ? String(total) : '-1');
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(total, Math.ceil((this.viewport.scrollTop + (this.viewport.clientHeight || 800)) / ROW) + OVERSCAN);
    const rows = [];
    for (let index = first; index < last; index += 1) {
      const conversation = this.ctx.store.conversations.get(this.ids[index]);
      if (conversation) rows.push(this.row(conversation, index));
    }
    replace(this.spacer, rows);
    const selected = this.state.selectedId;
    if (selected && this.ids.includes(selected)) this.viewport.setAttribute('aria-activedescendant', `row-${selected}`);
    else this.viewport.removeAttribute('aria-activedescendant');
  }

  row(c, index) {
    const selected = c.id === this.state.selectedId;
    const name = c.contact.name || t('contact.unnamed');
    const preview = previewText(c, this.ctx.me);
    const chips = [];
    if (c.waiting_since || c.escalation) {
      chips.push(h('span', { class: 'chip warn' }, icon('hand'),
        c.escalation ? t(`escalation.${c.escalation.reason}`, {}) : t('inbox.waiting')));
    }
    const windowChip = windowLabel(c);
    if (windowChip) chips.push(h('span', { class: `chip window-${c.window.state}` }, icon(windowChip.icon), windowChip.text));
    if (c.event) chips.push(h('span', { class: 'chip' }, c.event.logo_url
      ? h('img', { src: c.event.logo_url, alt: '', class: 'logo16', width: 16, height: 16, loading: 'lazy' }) : icon('calendar'),
    c.event.name.length > 14 ? `${c.event.name.slice(0, 13)}…` : c.event.name));
    if (c.assignee) chips.push(h('span', { class: 'chip' }, icon('user'), c.assignee.name));
    if (c.priority === 'high' || c.priority === 'urgent') chips.push(h('span', { class: `chip priority-${c.priority}` }, icon('flag'),
      t(`priority.${c.priority}`)));
    const when = c.last_activity_at;
    const label = [name, t(`kinds.${c.channel.kind}`), c.unread_count ? t('inbox.unread', { count: c.unread_count }) : null,
      c.escalation ? t('inbox.waiting') : null, windowChip ? windowChip.text : null, c.event ? c.event.name : null,
      preview, relative(when)].filter(Boolean).join(', ');
    const row = h('div', {
      id: `row-${c.id}`, role: 'option', class: ['row', selected && 'selected', c.unread_count && 'unread',
        (c.waiting_since || c.escalation) && 'waiting'],
      'aria-selected': selected ? 'true' : 'false', 'aria-posinset': String(index + 1), 'aria-label': label,
      dataset: { id: String(c.id) }, onclick: () => this.open(c.id),
    },
    h('div', { class: 'row-line' }, h('span', { class: 'row-avatar' }, avatar(name, `c${c.contact.id}`), channelIcon(c.channel.kind)),
      h('span', { class: 'row-name' }, name),
      h('time', { class: 'row-time', datetime: when, title: new Date(when).toLocaleString() }, relative(when))),
    h('div', { class: 'row-line' }, h('span', { class: 'row-preview' }, preview),
      c.unread_count ? h('span', { class: 'badge' }, c.unread_count > 99 ? '99+' : String(c.unread_count)) : null),
    h('div', { class: 'row-line chips' }, chips));
    row.style.transform = `translateY(${index * ROW}px)`;
    return row;
  }

  open(id) {
    navigate(`/conversations/${id}${location.search}`);
  }

  select(id) {
    this.state.selectedId = id;
    this.paint();
  }

  onKey(event) {
    if (!['ArrowDown', 'ArrowUp', 'Enter', 'Home', 'End'].includes(event.key)) return;
    event.preventDefault();
    const index = this.ids.indexOf(this.state.selectedId);
    if (event.key === 'Enter') {
      window.dispatchEvent(new CustomEvent('helpline:focus-composer'));
      return;
    }
    let next = index;
    if (event.key === 'ArrowDown') next = Math.min(this.ids.length - 1, index + 1);
    if (event.key === 'ArrowUp') next = Math.max(0, index - 1);
    if (event.key === 'Home') next = 0;
    if (event.key === 'End') next = this.ids.length - 1;
    if (next >= 0 && this.ids[next] !== undefined) {
      this.open(this.ids[next]);
      this.scrollIntoView(next);
    }
  }

  /** Move to the next/previous conversation (j/k), opening it. */
  step(delta) {
    const index = this.ids.indexOf(this.state.selectedId);
    const next = Math.min(this.ids.length - 1, Math.max(0, index + delta));
    if (this.ids[next] !== undefined) {
      this.open(this.ids[next]);
      this.scrollIntoView(next);
    }
  }

  scrollIntoView(index) {
    const top = index * ROW;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + ROW > this.viewport.scrollTop + this.viewport.clientHeight) {
      this.viewport.scrollTop = top + ROW - this.viewport.clientHeight;
    }
  }

  /** A frame changed a conversation: update in place; reorder only when nobody is looking at the list. */
  live(conversation) {
    const present = this.ids.includes(conversation.id);
    const fits = matches(conversation, this.state.filters, this.ctx.me);
    if (!present && !fits) return;
    if (present) {
      const calm = this.viewport.scrollTop < ROW && !this.viewport.matches(':hover') && !this.viewport.contains(document.activeElement);
      if (calm && (this.state.filters.sort || 'recent') === 'recent' && fits) {
        this.ids = [conversation.id, ...this.ids.filter((id) => id !== conversation.id)];
      }
      this.paint();
      return;
    }
    this.pending.add(conversation.id);
    const calm = this.viewport.scrollTop < ROW && !this.viewport.matches(':hover') && !this.viewport.contains(document.activeElement)
      && !this.state.filters.q;
    if (calm) this.applyPending();
    else {
      this.pill.hidden = false;
      this.pill.textContent = t('inbox.updates', { count: this.pending.size });
    }
  }

  applyPending() {
    const fresh = [...this.pending].filter((id) => !this.ids.includes(id));
    this.ids = [...fresh.sort((a, b) => b - a), ...this.ids];
    this.pending.clear();
    this.pill.hidden = true;
    this.showStatus();
    this.paint();
  }

  relabel() {
    this.search.setAttribute('aria-label', t('inbox.search'));
    this.search.placeholder = t('inbox.search_placeholder');
    this.viewport.setAttribute('aria-label', t('inbox.list_label'));
    this.showStatus();
    this.paint();
  }

  destroy() {
    this.ctx.store.removeEventListener('conversation', this.onConversation);
    this.ctx.realtime.removeEventListener('resync', this.onResync);
    this.untick();
  }
}

/** "Bot: …", "You: …", "Maria: …", nothing for the customer. */
export function previewText(c, me) {
  const text = c.last_message.preview || '';
  const kind = c.last_message.author_kind;
  if (kind === 'bot') return t('inbox.preview.bot', { text });
  if (kind === 'operator') {
    const name = c.last_message.author_name;
    if (c.last_message.author_id === me.id || !name) return t('inbox.preview.you', { text });
    return t('inbox.preview.operator', { name, text });
  }
  return text;
}

/** Window chip text from the server's state (never a threshold of our own). */
export function windowLabel(c) {
  if (!c.window) return null;
  if (c.window.state === 'closed') return { icon: 'lock', text: t('window.closed') };
  const left = new Date(c.window.expires_at).getTime() - Date.now();
  return { icon: c.window.state === 'closing' ? 'clock-alert' : 'clock', text: duration(left) };
}
