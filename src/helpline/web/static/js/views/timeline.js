// The timeline: a role=feed of articles, newest page first, older pages on scroll-up with the reading anchor held,
// at most ~300 articles in the DOM, day separators, the "Reply window closed" divider, live messages that follow
// only near the bottom, a separate polite live region, and mark-read after 1.5 s visible (ui-guide §2, §4, §5, §10).

import { ApiError, get, post } from '../api.js';
import { h, icon, replace, safeHref } from '../dom.js';
import { dayKey, dayLabel, time } from '../format.js';
import { currentLocale, t } from '../i18n.js';
import { authorName, placedAt, renderMessage, sameRun } from './message.js';
import { windowOf } from './window.js';

export const PAGE = 50;

/** "Mon, 9 Mar" in the operator's language, for sentences such as "Snoozed until Mon, 9 Mar 09:00". */
function shortDay(iso) {
  return new Intl.DateTimeFormat(currentLocale(), { weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(iso));
}
const MAX_DOM = 300;
const FOLLOW_PX = 80;

export function order(a, b) {
  if (!!a.pending !== !!b.pending) return a.pending ? 1 : -1;
  const at = placedAt(a), bt = placedAt(b);
  if (at !== bt) return at < bt ? -1 : 1;
  return String(a.id).localeCompare(String(b.id), 'en', { numeric: true });
}

export class Timeline {
  /** host = {ctx, conversation(), env() → extra renderMessage env (callbacks), onRead(conversation)} */
  constructor(host) {
    this.host = host;
    this.ctx = host.ctx;
    this.feed = h('div', { class: 'timeline', role: 'feed', 'aria-busy': 'false', tabindex: '0',
      'aria-label': t('timeline.label'), onscroll: () => this.onScroll(), onkeydown: (e) => this.onKey(e) });
    this.pill = h('button', { type: 'button', class: 'new-pill', hidden: true, onclick: () => this.toBottom(true) });
    this.live = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.lightbox = h('dialog', { class: 'lightbox', 'aria-label': t('lightbox.label') });
    this.el = h('div', { class: 'timeline-wrap' }, this.feed, this.pill, this.live, this.lightbox);
    this.items = [];
    this.start = 0;
    this.end = 0;
    this.cursor = null;
    this.unseen = 0;
    this.pendingAnnounce = [];
    this.lastAnnounce = 0;
    this.nodes = new Map();
    this.positions = new Map();
    this.newFrom = null;
  }

  conversation() { return this.host.conversation(); }

  /** Show the first page (newest 50) and pin to the bottom. */
  show(id, page) {
    // Each conversation remembers where the reader was (the article at the top of the viewport).
    if (this.id && this.id !== id && this.nodes.size) this.positions.set(this.id, this.nearBottom() ? null : this.anchorId());
    this.id = id;
    this.cursor = page.next_cursor;
    this.unseen = 0;
    this.pill.hidden = true;
    this.sync();
    this.end = this.items.length;
    this.start = Math.max(0, this.end - PAGE);
    this.newFrom = this.firstUnread();
    this.render();
    const remembered = this.positions.get(id);
    const target = (remembered && this.nodes.get(String(remembered))) || (this.newFrom && this.feed.querySelector('.new-divider'));
    if (target) this.feed.scrollTop += target.getBoundingClientRect().top - this.feed.getBoundingClientRect().top - 8;
    else this.feed.scrollTop = this.feed.scrollHeight;
    this.scheduleRead();
  }

  /** The first unread customer message (the last `unread_count` inbound ones), for the "New" divider. */
  firstUnread() {
    const c = this.conversation();
    const count = c ? c.unread_count : 0;
    if (!count) return null;
    const inbound = this.items.filter((m) => m.direction === 'inbound');
    const first = inbound[Math.max(0, inbound.length - count)];
    return first ? first.id : null;
  }

  /** Re-read the sorted messages of this conversation from the store. */
  sync() {
    this.items = [...this.ctx.store.messagesOf(this.id).values()].sort(order);
  }

  env() {
    const c = this.conversation();
    const bot = this.host.botState && this.host.botState();
    return {
      conversation: c,
      me: this.ctx.me,
      byId: (id) => this.ctx.store.messagesOf(this.id).get(id),
      jump: (id) => this.jump(id),
      openImage: (a) => this.openImage(a),
      channelName: c ? t(`kinds.${c.channel.kind}`) : '',
      when: (iso) => `${shortDay(iso)} ${time(iso)}`,
      escalation: (bot && bot.escalation) || (c && c.escalation) || null,
      identity: this.host.identity ? this.host.identity() : null,
      ...this.host.env(),
    };
  }

  /** Full render of items[start, end): day separators, author runs, the window-closed divider. */
  render({ anchor = null } = {}) {
    const env = this.env();
    const out = [];
    this.nodes = new Map();
    const c = this.conversation();
    const w = windowOf(c);
    const closedAt = w.state === 'closed' && w.expiresAt ? w.expiresAt.toISOString() : null;
    let dividerDone = !closedAt;
    let day = this.start > 0 ? dayKey(placedAt(this.items[this.start - 1])) : null;
    // A feed holds only articles (APG): hints and separators are visual; each article's name carries its date.
    if (this.start > 0 || this.cursor) out.push(h('p', { class: 'older-hint muted', 'aria-hidden': 'true' }, t('timeline.scroll_older')));
    else if (this.items.length) out.push(h('p', { class: 'older-hint muted', 'aria-hidden': 'true' }, t('timeline.beginning')));
    for (let i = this.start; i < this.end; i += 1) {
      const m = this.items[i];
      if (!dividerDone && placedAt(m) > closedAt && !m.pending) {
        out.push(this.closedDivider(w.expiresAt));
        dividerDone = true;
      }
      const key = dayKey(placedAt(m));
      if (key !== day) {
        day = key;
        out.push(h('div', { class: 'day-separator', 'aria-hidden': 'true' },
          h('span', {}, dayLabel(placedAt(m)))));
      }
      if (m.id === this.newFrom) out.push(h('div', { class: 'new-divider', 'aria-hidden': 'true' }, h('span', {}, t('timeline.new_divider'))));
      const prev = i > 0 ? this.items[i - 1] : null;
      const node = renderMessage(m, { ...env, header: !(prev && key === dayKey(placedAt(prev)) && sameRun(prev, m)) });
      this.nodes.set(String(m.id), node);
      out.push(node);
    }
    if (!dividerDone && this.end === this.items.length) out.push(this.closedDivider(w.expiresAt));
    if (!this.items.length) out.push(h('article', { class: 'empty muted', 'aria-label': t('timeline.empty') }, t('timeline.empty')));
    let offset = 0;
    if (anchor) {
      const before = this.feed.querySelector(`[data-id="${CSS.escape(String(anchor))}"]`);
      offset = before ? before.getBoundingClientRect().top - this.feed.getBoundingClientRect().top : 0;
    }
    replace(this.feed, out);
    if (anchor) {
      const after = this.nodes.get(String(anchor));
      if (after) this.feed.scrollTop += after.getBoundingClientRect().top - this.feed.getBoundingClientRect().top - offset;
    }
  }

  closedDivider(at) {
    return h('div', { class: 'window-divider', 'aria-hidden': 'true' }, icon('lock'),
      h('span', {}, t('timeline.window_closed', { time: time(at) })));
  }

  /** The first article whose top is inside the viewport: what the reader is looking at. */
  anchorId() {
    const top = this.feed.getBoundingClientRect().top;
    for (const [id, node] of this.nodes) {
      if (node.getBoundingClientRect().bottom > top + 4) return id;
    }
    return null;
  }

  nearBottom() {
    return this.feed.scrollHeight - this.feed.scrollTop - this.feed.clientHeight < FOLLOW_PX;
  }

  onScroll() {
    if (this.feed.scrollTop < 200 && !this.loadingOlder) this.older();
    if (this.nearBottom()) {
      if (this.end < this.items.length) this.newer();
      else if (this.unseen) {
        this.unseen = 0;
        this.pill.hidden = true;
      }
    }
  }

  async older() {
    if (this.start > 0) {
      const anchor = this.anchorId();
      this.start = Math.max(0, this.start - PAGE);
      if (this.end - this.start > MAX_DOM) this.end = this.start + MAX_DOM;
      this.render({ anchor });
      return;
    }
    if (!this.cursor) return;
    this.loadingOlder = true;
    this.feed.setAttribute('aria-busy', 'true');
    const id = this.id;
    try {
      const page = await get(`/conversations/${id}/messages`, { limit: PAGE, cursor: this.cursor });
      if (id !== this.id) return;
      const map = this.ctx.store.messagesOf(id);
      for (const m of page.items) if (!map.has(m.id)) map.set(m.id, m);
      this.cursor = page.next_cursor;
      const anchor = this.anchorId();
      const firstId = this.items[this.start] && this.items[this.start].id;
      this.sync();
      const index = this.items.findIndex((m) => m.id === firstId);
      const shift = index < 0 ? 0 : index - this.start;
      this.end += shift;
      this.start = Math.max(0, this.start + shift - PAGE);
      if (this.end - this.start > MAX_DOM) this.end = this.start + MAX_DOM;
      this.render({ anchor });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.ctx.shell.toast(t('timeline.older_failed'), { kind: 'error', action: { label: t('common.retry'), run: () => this.older() } });
    } finally {
      this.loadingOlder = false;
      this.feed.setAttribute('aria-busy', 'false');
    }
  }

  newer() {
    const anchor = this.anchorId();
    this.end = Math.min(this.items.length, this.end + PAGE);
    if (this.end - this.start > MAX_DOM) this.start = this.end - MAX_DOM;
    this.render({ anchor });
  }

  toBottom(focus = false) {
    if (this.end < this.items.length) {
      this.end = this.items.length;
      this.start = Math.max(0, this.end - PAGE);
      this.render();
    }
    this.feed.scrollTop = this.feed.scrollHeight;
    this.unseen = 0;
    this.pill.hidden = true;
    if (focus) {
      const last = [...this.nodes.values()].pop();
      if (last) last.focus({ preventScroll: true });
    }
  }

  /** A message arrived or changed in the store. */
  onMessage({ message, previous, removed }) {
    if (removed !== undefined || !message) {
      this.sync();
      this.end = Math.min(this.end, this.items.length);
      this.render({ anchor: this.anchorId() });
      return;
    }
    if (message.conversation_id !== this.id) return;
    const follow = this.nearBottom();
    const atNewest = this.end >= this.items.length;
    const wasPendingReplaced = message.client_id && !previous;
    this.sync();
    const node = this.nodes.get(String(message.id));
    if (previous && node) {
      const i = this.items.findIndex((m) => m.id === message.id);
      const prev = i > 0 ? this.items[i - 1] : null;
      const fresh = renderMessage(message, { ...this.env(), header: !(prev && dayKey(placedAt(prev)) === dayKey(placedAt(message)) && sameRun(prev, message)) });
      node.replaceWith(fresh);
      this.nodes.set(String(message.id), fresh);
      if (follow) this.feed.scrollTop = this.feed.scrollHeight;
      return;
    }
    if (previous) return; // changed, but not rendered: nothing to do
    if (atNewest) {
      this.end = this.items.length;
      if (this.end - this.start > MAX_DOM) this.start = this.end - MAX_DOM;
      this.render({ anchor: follow ? null : this.anchorId() });
    }
    const mine = message.pending || (message.author_kind === 'operator' && message.operator && message.operator.id === this.ctx.me.id);
    if (follow || mine) {
      this.toBottom();
    } else if (!wasPendingReplaced && message.content_type !== 'event') {
      this.unseen += 1;
      replace(this.pill, icon('arrow-down'), h('span', {}, t('timeline.new_messages', { count: this.unseen })));
      this.pill.hidden = false;
    }
    if (!mine && message.direction === 'inbound') {
      this.announce(message);
      this.scheduleRead();
    }
  }

  /** Polite announcement, at most one per 2 s; bursts are summarised ("3 new messages from Ana"). */
  announce(message) {
    this.pendingAnnounce.push(message);
    if (this.announceTimer) return;
    const wait = Math.max(0, 2000 - (Date.now() - this.lastAnnounce));
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      const batch = this.pendingAnnounce.splice(0);
      if (!batch.length) return;
      const who = authorName(batch[0], this.conversation(), this.ctx.me);
      const text = batch.length === 1
        ? t('timeline.announce_one', { author: who, text: String(batch[0].text || t('timeline.attachment')).slice(0, 140) })
        : t('timeline.announce_many', { author: who, count: batch.length });
      this.live.textContent = '';
      setTimeout(() => { this.live.textContent = text; }, 30);
      this.lastAnnounce = Date.now();
    }, wait);
  }

  /** Unread is team-wide: POST /read only after 1.5 s visible in a visible tab (never while j/k-flicking). */
  scheduleRead() {
    clearTimeout(this.readTimer);
    const id = this.id;
    this.readTimer = setTimeout(async () => {
      const c = this.conversation();
      if (!c || c.id !== id || !c.unread_count || document.visibilityState !== 'visible' || !this.feed.isConnected) return;
      try {
        const updated = await post(`/conversations/${id}/read`, {});
        if (updated && updated.id) this.ctx.store.putConversation(updated);
      } catch { /* unread stays; the next visit tries again */ }
    }, 1500);
  }

  /** Scroll to a message (reply-to quote), loading older pages until it is found (at most 10). */
  async jump(id) {
    for (let tries = 0; tries < 10; tries += 1) {
      const i = this.items.findIndex((m) => m.id === id);
      if (i >= 0) {
        if (i < this.start || i >= this.end) {
          this.start = Math.max(0, i - 20);
          this.end = Math.min(this.items.length, this.start + PAGE * 2);
          this.render();
        }
        const node = this.nodes.get(String(id));
        if (node) {
          node.scrollIntoView({ block: 'center' });
          node.focus({ preventScroll: true });
          node.classList.add('highlight');
          setTimeout(() => node.classList.remove('highlight'), 1600);
        }
        return;
      }
      if (!this.cursor) break;
      this.start = 0;
      await this.older();
    }
    this.ctx.shell.toast(t('timeline.quote_gone'));
  }

  /** APG feed: PageDown / PageUp move focus by article. */
  onKey(event) {
    if (event.key !== 'PageDown' && event.key !== 'PageUp') return;
    const articles = [...this.feed.querySelectorAll('article')];
    const current = document.activeElement && document.activeElement.closest('article');
    let i = articles.indexOf(current);
    i = event.key === 'PageDown' ? Math.min(articles.length - 1, i + 1) : Math.max(0, i < 0 ? articles.length - 1 : i - 1);
    if (articles[i]) {
      event.preventDefault();
      articles[i].focus();
      articles[i].scrollIntoView({ block: 'nearest' });
    }
  }

  openImage(a) {
    let zoom = 1;
    const href = safeHref(a.url);
    const img = h('img', { src: href, alt: a.filename, class: 'lightbox-img' });
    const setZoom = (z) => { zoom = Math.min(5, Math.max(1, z)); img.style.transform = `scale(${zoom})`; level.textContent = `${Math.round(zoom * 100)} %`; };
    const level = h('span', { class: 'muted' }, '100 %');
    replace(this.lightbox,
      h('div', { class: 'lightbox-bar' },
        h('span', { class: 'lightbox-name' }, a.filename),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': t('lightbox.zoom_out'), onclick: () => setZoom(zoom - 0.5) }, '−'),
        level,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': t('lightbox.zoom_in'), onclick: () => setZoom(zoom + 0.5) }, icon('plus')),
        href ? h('a', { class: 'icon-button', href, download: a.filename, 'aria-label': t('attachment.download', { name: a.filename }) }, icon('download')) : null,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': t('common.close'), autofocus: true, onclick: () => this.lightbox.close() }, icon('x'))),
      h('div', { class: 'lightbox-stage' }, img));
    this.lightbox.showModal();
  }

  relabel() {
    this.feed.setAttribute('aria-label', t('timeline.label'));
    this.render({ anchor: this.anchorId() });
  }

  /** After a resync: fetch what came after the newest message we hold. */
  async catchUp() {
    // By id, not by place: a message delivered late is listed further up but was stored after the others.
    const ids = this.items.filter((m) => !m.pending && typeof m.id === 'number').map((m) => m.id);
    if (!ids.length) return;
    const page = await get(`/conversations/${this.id}/messages`, { after: Math.max(...ids), limit: 200 });
    for (const m of page.items) this.ctx.store.putMessage(m);
  }

  destroy() {
    clearTimeout(this.readTimer);
    clearTimeout(this.announceTimer);
  }
}
