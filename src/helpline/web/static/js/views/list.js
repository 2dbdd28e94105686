// The conversation list: a windowed listbox (fixed 76 px rows, overscan 10), endless scroll over the cursor API,
// live updates from the store that never move a row under the operator's pointer (ui-guide §2, §5).

import { ApiError, get } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { canonical, compareKeys, effective, matches, sortKey, toApi } from '../filters.js';
import { onTick } from '../format.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { FilterChips } from './chips.js';
import { ROW_HEIGHT as ROW, renderRow, skeletonRows } from './row.js';

const OVERSCAN = 10;
// Overscan rows built per frame beyond the visible ones: a fast wheel step brings a whole new window (30 rows),
// and building it in one frame made long tasks (bench/RESULTS.md); the rest follow in the next frames.
const OVERSCAN_BUILDS = 4;
const PAGE = 50;
const SKELETON_AFTER = 150;

// The list as the operator left it (filters, loaded ids, cursor, scroll), so coming back from another screen
// lands on the same rows instead of the top (ui-guide §2: list scroll and selection survive every navigation).
let snapshot = null;

export class ConversationList {
  constructor(ctx, el, state, { onOpenFilters } = {}) {
    this.ctx = ctx;
    this.el = el;
    this.state = state;
    this.ids = [];
    this.index = new Map(); // id → position in ids
    this.cursor = null;
    this.done = false;
    this.loading = false;
    this.error = null;
    this.pending = new Set(); // ids waiting for "N updated ↑"
    this.stale = new Set(); // rows that stopped matching: greyed until the operator moves on
    this.rows = new Map(); // id → {el, conversation, index, selected, stale, epoch}
    this.epoch = 0; // bumped when every row's text must be rebuilt (tick, language)
    this.generation = 0;
    this.frameQueued = false;
    this.pointerInside = false;

    this.search = h('input', { type: 'search', id: 'list-search', class: 'search', 'aria-label': t('inbox.search'),
      placeholder: t('inbox.search_placeholder'), value: state.filters.q || '', enterkeyhint: 'search', maxlength: 200,
      onkeydown: (event) => {
        if (event.key === 'Enter') this.setQuery(event.target.value.trim());
        if (event.key === 'Escape') { event.preventDefault(); this.focus(); }
      } });
    this.filtersButton = h('button', { type: 'button', class: 'icon-button filters-toggle', 'aria-label': t('inbox.open_filters'),
      title: t('inbox.open_filters'), onclick: () => onOpenFilters && onOpenFilters(this.filtersButton) }, icon('funnel'));
    this.chips = new FilterChips(ctx, state);
    this.pill = h('button', { type: 'button', class: 'updates-pill', hidden: true, 'aria-keyshortcuts': '.',
      onclick: () => this.applyPending({ focusList: true }) });
    this.viewport = h('div', {
      class: 'list-viewport', id: 'conversation-list', role: 'listbox', tabindex: '0', 'aria-label': t('inbox.list_label'),
      onscroll: () => this.onScroll(), onkeydown: (e) => this.onKey(e), onclick: (e) => this.onClick(e),
      onpointerenter: () => { this.pointerInside = true; },
      onpointerleave: () => { this.pointerInside = false; this.maybeCalm(); },
      onfocusout: () => setTimeout(() => this.maybeCalm(), 0),
    });
    this.spacer = h('div', { class: 'list-spacer' });
    this.viewport.append(this.spacer);
    this.status = h('div', { class: 'list-status' });
    replace(el,
      h('div', { class: 'list-head' },
        h('div', { class: 'search-row' }, this.filtersButton, h('span', { class: 'search-box' }, icon('search'), this.search)),
        this.chips.el, this.pill),
      this.viewport, this.status);

    this.onConversation = (event) => this.live(event.detail);
    ctx.store.addEventListener('conversation', this.onConversation);
    this.untick = onTick(() => { this.epoch += 1; this.schedule(); });
    this.onResync = () => this.resync();
    ctx.realtime.addEventListener('resync', this.onResync);
    this.resizer = new ResizeObserver(() => this.schedule());
    this.resizer.observe(this.viewport);
  }

  focus() {
    this.viewport.focus({ preventScroll: true });
  }

  setQuery(q) {
    const params = new URLSearchParams(location.search);
    if (q) params.set('q', q);
    else params.delete('q');
    const text = params.toString();
    navigate(location.pathname + (text ? `?${text}` : ''));
  }

  get sort() {
    return effective(this.state.filters).sort || 'recent';
  }

  setIds(ids) {
    this.ids = ids;
    this.index = new Map(ids.map((id, i) => [id, i]));
  }

  /** Back from another screen with the same filters: the rows and scroll as they were, then a quiet resync. */
  restore() {
    const key = canonical(this.state.filters);
    if (!snapshot || snapshot.key !== key || !snapshot.ids.every((id) => this.ctx.store.conversations.has(id))) return false;
    this.setIds(snapshot.ids);
    this.cursor = snapshot.cursor;
    this.done = snapshot.done;
    this.chips.render();
    this.paint();
    this.viewport.scrollTop = snapshot.scrollTop;
    this.paint();
    performance.mark('helpline:list-ready');
    this.catchUp();
    return true;
  }

  /** What changed while the list was away: new or moved rows wait behind the pill; nothing jumps. */
  async catchUp() {
    const generation = this.generation;
    try {
      const page = await get('/conversations', { ...toApi(this.state.filters), limit: PAGE });
      if (generation !== this.generation) return;
      this.ctx.store.putConversations(page.items);
      for (const item of page.items) {
        if (!this.index.has(item.id) || this.wouldMove(item.id)) this.pending.add(item.id);
      }
      this.epoch += 1;
      this.showPill();
      this.paint();
    } catch {
      /* the restored rows stay; the next frame or resync brings the rest */
    }
  }

  /** A new filter set: start over from the first page (scroll to the top). */
  async reload() {
    this.generation += 1;
    this.setIds([]);
    this.cursor = null;
    this.done = false;
    this.loading = false;
    this.error = null;
    this.pending.clear();
    this.stale.clear();
    this.pill.hidden = true;
    this.search.value = this.state.filters.q || '';
    this.chips.render();
    this.viewport.scrollTop = 0;
    this.clearRows();
    await this.more();
  }

  /** After a `resync` frame: the first page again, keeping selection and scroll (never a reload). */
  async resync() {
    const generation = ++this.generation;
    try {
      const page = await get('/conversations', { ...toApi(this.state.filters), limit: Math.max(PAGE, Math.min(200, this.ids.length)) });
      if (generation !== this.generation) return;
      this.ctx.store.putConversations(page.items);
      this.setIds(page.items.map((item) => item.id));
      this.cursor = page.next_cursor;
      this.done = !page.next_cursor;
      this.viewport.scrollTop = Math.min(this.viewport.scrollTop, Math.max(0, this.ids.length * ROW - this.viewport.clientHeight));
      this.pending.clear();
      this.stale.clear();
      this.pill.hidden = true;
      this.loading = false;
      this.error = null;
    } catch (err) {
      if (generation !== this.generation) return;
      this.error = err;
    }
    this.epoch += 1;
    this.showStatus();
    this.paint();
  }

  async more() {
    if (this.loading || this.done) return;
    this.loading = true;
    const generation = this.generation;
    const first = !this.ids.length;
    const cancelSkeleton = first ? this.skeletonSoon() : null;
    if (!first) this.showStatus('loading-more');
    try {
      const page = await get('/conversations', { ...toApi(this.state.filters), cursor: this.cursor, limit: PAGE });
      if (generation !== this.generation) return;
      this.ctx.store.putConversations(page.items);
      const ids = [...this.ids];
      for (const item of page.items) if (!this.index.has(item.id)) ids.push(item.id);
      this.setIds(ids);
      this.cursor = page.next_cursor;
      this.done = !page.next_cursor;
      this.error = null;
      if (first) performance.mark('helpline:list-ready');
    } catch (err) {
      if (generation !== this.generation) return;
      this.error = err;
    } finally {
      if (cancelSkeleton) cancelSkeleton();
      if (generation === this.generation) this.loading = false;
    }
    this.showStatus();
    this.paint();
    // A tall screen may show the whole first page: keep loading until the viewport is filled.
    if (!this.error && !this.done && this.ids.length * ROW < this.viewport.clientHeight + ROW * OVERSCAN) this.more();
  }

  skeletonSoon() {
    const timer = setTimeout(() => {
      if (this.ids.length) return;
      this.clearRows();
      this.viewport.setAttribute('aria-busy', 'true');
      replace(this.spacer, skeletonRows());
      this.spacer.style.height = `${8 * ROW}px`;
    }, SKELETON_AFTER);
    return () => {
      clearTimeout(timer);
      this.viewport.removeAttribute('aria-busy');
      this.spacer.querySelectorAll('.skeleton').forEach((node) => node.remove());
    };
  }

  showStatus(kind) {
    if (kind === 'loading-more') {
      replace(this.status, h('p', { class: 'list-more muted', role: 'status' }, t('inbox.loading_more')));
      return;
    }
    if (this.error) {
      const err = this.error;
      const message = err instanceof ApiError && err.status === 422
        ? t('filters.refused', { reason: err.message || err.code }) : err instanceof ApiError && err.status >= 400 && err.status < 500 ? t('inbox.load_failed_status')
          : t('inbox.load_failed');
      replace(this.status, h('div', { class: 'error-box', role: 'alert' },
        h('p', {}, message),
        h('button', { type: 'button', class: 'button small', onclick: () => { this.error = null; this.more(); } }, icon('refresh-cw'),
          t('common.retry')),
        h('details', {}, h('summary', {}, t('common.details')),
          h('p', { class: 'muted' }, `${err.status || ''} ${err.code || ''}: ${err.message || ''}`.trim()))));
      return;
    }
    if (!this.ids.length && !this.loading) {
      replace(this.status, this.emptyState());
      return;
    }
    replace(this.status);
  }

  emptyState() {
    const me = this.ctx.me;
    if (me.role === 'agent' && !(me.channel_ids || []).length) {
      const admins = (me.admins || []).map((a) => (typeof a === 'string' ? a : a.name)).filter(Boolean);
      const box = h('div', { class: 'empty' }, icon('users'),
        h('p', {}, admins.length ? t('inbox.empty.no_channels_named', { admins: listFormat(admins) }) : t('inbox.empty.no_channels')));
      if (!admins.length) {
        // Older servers: name the admins from the team list every operator may read.
        get('/operators').then((operators) => {
          const names = (Array.isArray(operators) ? operators : []).filter((o) => o.role === 'admin' && o.active !== false)
            .map((o) => o.name);
          if (names.length && box.isConnected) {
            replace(box, icon('users'), h('p', {}, t('inbox.empty.no_channels_named', { admins: listFormat(names) })));
          }
        }).catch(() => {});
      }
      return box;
    }
    const f = this.state.filters;
    const own = Object.keys(f).filter((key) => key !== 'view' && key !== 'sort');
    if (own.length) {
      return h('div', { class: 'empty' }, icon('funnel'), h('p', {}, t('inbox.empty.filtered')),
        h('button', { type: 'button', class: 'button small', onclick: () => this.chips.clearAll() }, t('filters.clear')));
    }
    const text = {
      waiting: t('inbox.empty.waiting'), mine: t('inbox.empty.mine'), bot: t('inbox.empty.bot'),
      closing: t('inbox.empty.closing'), snoozed: t('inbox.empty.snoozed'), resolved: t('inbox.empty.resolved'),
    }[f.view] || t('inbox.empty.none');
    return h('div', { class: 'empty' }, icon('circle-check'), h('p', {}, text));
  }

  onScroll() {
    if (!this.scrollMark) {
      performance.mark('helpline:list-scroll-start');
      this.scrollMark = true;
    }
    this.schedule();
    if (this.viewport.scrollTop + this.viewport.clientHeight > this.ids.length * ROW - ROW * 5) this.more();
    this.maybeCalm();
  }

  schedule() {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      this.paint();
      if (this.scrollMark) {
        this.scrollMark = false;
        performance.measure('helpline:list-scroll', 'helpline:list-scroll-start');
        if (performance.getEntriesByName('helpline:list-scroll').length > 500) performance.clearMeasures('helpline:list-scroll');
      }
      if (this.frameMark) {
        this.frameMark = false;
        performance.measure('helpline:frame-row', 'helpline:frame');
      }
    });
  }

  clearRows() {
    for (const entry of this.rows.values()) entry.el.remove();
    this.rows.clear();
  }

  /** Render only the rows in view plus overscan, reusing unchanged row nodes: 10,000 cost the same as 50.
   * The rows in view are always built at once; overscan rows at most OVERSCAN_BUILDS a frame, nearest first. */
  paint() {
    const total = this.ids.length;
    this.spacer.style.height = `${total * ROW}px`;
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 800;
    const seenFirst = Math.min(total, Math.floor(top / ROW));
    const seenLast = Math.min(total, Math.ceil((top + height) / ROW));
    const first = Math.max(0, seenFirst - OVERSCAN);
    const last = Math.min(total, seenLast + OVERSCAN);
    const order = [];
    for (let i = seenFirst; i < seenLast; i += 1) order.push(i);
    for (let d = 1; d <= OVERSCAN; d += 1) {
      if (seenLast - 1 + d < last) order.push(seenLast - 1 + d);
      if (seenFirst - d >= first) order.push(seenFirst - d);
    }
    const setsize = this.done ? String(total) : '-1';
    const wanted = new Set();
    const now = Date.now();
    let budget = OVERSCAN_BUILDS;
    let deferred = false;
    for (const i of order) {
      const id = this.ids[i];
      const conversation = this.ctx.store.conversations.get(id);
      if (!conversation) continue;
      const selected = id === this.state.selectedId;
      const stale = this.stale.has(id);
      const entry = this.rows.get(id);
      if (entry && entry.conversation === conversation && entry.selected === selected && entry.stale === stale
          && entry.epoch === this.epoch) {
        wanted.add(id);
        if (entry.index !== i) {
          entry.el.style.transform = `translateY(${i * ROW}px)`;
          entry.el.setAttribute('aria-posinset', String(i + 1));
          entry.index = i;
        }
        if (entry.setsize !== setsize) { entry.el.setAttribute('aria-setsize', setsize); entry.setsize = setsize; }
        continue;
      }
      if (i < seenFirst || i >= seenLast) {
        if (budget <= 0) {
          deferred = true;
          if (entry && entry.index === i) wanted.add(id); // an outdated row off screen may wait a frame
          continue;
        }
        budget -= 1;
      }
      wanted.add(id);
      const el = renderRow(conversation, this.ctx.me, { index: i, selected, stale, now });
      el.setAttribute('aria-setsize', setsize);
      if (entry) entry.el.replaceWith(el);
      else this.spacer.append(el);
      this.rows.set(id, { el, conversation, index: i, selected, stale, epoch: this.epoch, setsize });
    }
    for (const [id, entry] of this.rows) {
      if (!wanted.has(id)) {
        entry.el.remove();
        this.rows.delete(id);
      }
    }
    const selected = this.state.selectedId;
    if (selected && this.rows.has(selected)) this.viewport.setAttribute('aria-activedescendant', `row-${selected}`);
    else this.viewport.removeAttribute('aria-activedescendant');
    if (deferred) this.schedule();
  }

  onClick(event) {
    const row = event.target.closest('.row[data-id]');
    if (row) this.open(Number(row.dataset.id));
  }

  open(id) {
    if (id !== this.state.selectedId) this.movedOn(id);
    navigate(`/conversations/${id}${location.search}`);
  }

  /** The operator moved to another row: rows that stopped matching may now go. */
  movedOn(nextId) {
    if (!this.stale.size) return;
    const keep = this.ids.filter((id) => !this.stale.has(id) || id === nextId);
    this.stale = new Set([...this.stale].filter((id) => id === nextId));
    this.setIds(keep);
    this.epoch += 1;
    this.schedule();
  }

  select(id) {
    this.state.selectedId = id;
    if (id && this.index.has(id)) this.scrollIntoView(this.index.get(id));
    this.paint();
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const keys = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity, PageDown: 8, PageUp: -8 };
    if (event.key in keys) {
      event.preventDefault();
      event.stopPropagation();
      this.step(keys[event.key]);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      event.stopPropagation();
      if (!this.state.selectedId && this.ids.length) this.step(1);
      else window.dispatchEvent(new CustomEvent('helpline:enter-conversation'));
    }
  }

  /** Move to the next/previous conversation (j/k, arrows), opening it; ±Infinity = last/first. */
  step(delta) {
    if (!this.ids.length) return;
    const index = this.index.has(this.state.selectedId) ? this.index.get(this.state.selectedId) : -1;
    let next = index < 0 && delta > 0 ? 0 : index + delta;
    if (delta === -Infinity) next = 0;
    if (delta === Infinity) next = this.ids.length - 1;
    next = Math.min(this.ids.length - 1, Math.max(0, next));
    const id = this.ids[next];
    if (id === undefined || id === this.state.selectedId) return;
    this.open(id);
    this.scrollIntoView(this.index.has(id) ? this.index.get(id) : next);
    if (next > this.ids.length - 5) this.more();
  }

  scrollIntoView(index) {
    const top = index * ROW;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + ROW > this.viewport.scrollTop + this.viewport.clientHeight) {
      this.viewport.scrollTop = top + ROW - this.viewport.clientHeight;
    }
  }

  /** At the top, with neither pointer nor focus in the list: reordering cannot surprise anyone. */
  calm() {
    return this.viewport.scrollTop < ROW && !this.pointerInside && !this.viewport.contains(document.activeElement);
  }

  maybeCalm() {
    if (this.pending.size && this.calm() && !this.state.filters.q) this.applyPending();
  }

  /** A frame changed a conversation: update in place; reorder only when calm, else count it in the pill. */
  live(conversation) {
    const id = conversation.id;
    const present = this.index.has(id);
    const fits = matches(conversation, this.state.filters, this.ctx.me);
    if (!present && fits === false) return;
    performance.mark('helpline:frame-list');
    this.frameMark = performance.getEntriesByName('helpline:frame').length > 0;
    if (present) {
      if (fits === false) {
        if (!this.stale.has(id)) this.stale.add(id);
      } else {
        this.stale.delete(id);
        if (this.wouldMove(id)) this.pending.add(id);
      }
    } else {
      this.pending.add(id);
    }
    if (this.pending.size && this.calm() && !this.state.filters.q) this.applyPending();
    else this.showPill();
    this.schedule();
  }

  /** Would this row sit elsewhere under the current sort? */
  wouldMove(id) {
    const i = this.index.get(id);
    const store = this.ctx.store.conversations;
    const key = sortKey(store.get(id), this.sort);
    const before = i > 0 && store.get(this.ids[i - 1]);
    const after = i < this.ids.length - 1 && store.get(this.ids[i + 1]);
    return Boolean((before && compareKeys(sortKey(before, this.sort), key) > 0)
      || (after && compareKeys(key, sortKey(after, this.sort)) > 0));
  }

  showPill() {
    this.pill.hidden = !this.pending.size;
    if (this.pending.size) {
      replace(this.pill, icon('arrow-up'), t('inbox.updates', { count: this.pending.size }));
      this.pill.setAttribute('aria-label', t('inbox.updates_label', { count: this.pending.size }));
    }
  }

  /** Apply the counted updates (pill, `.`): new rows come in and moved rows take their place in the sort. */
  applyPending({ focusList = false } = {}) {
    if (!this.pending.size && !this.stale.size) return;
    if (this.state.filters.q) {
      // A text search cannot be evaluated here: ask the server for the first page again.
      this.pending.clear();
      this.pill.hidden = true;
      if (focusList) { this.viewport.scrollTop = 0; this.focus(); }
      this.resync();
      return;
    }
    const store = this.ctx.store.conversations;
    const sort = this.sort;
    const keep = this.ids.filter((id) => !this.stale.has(id) || id === this.state.selectedId);
    const ids = [...new Set([...keep, ...this.pending])].filter((id) => store.has(id));
    const keyed = ids.map((id) => [sortKey(store.get(id), sort), id]);
    keyed.sort((a, b) => compareKeys(a[0], b[0]));
    // Rows past the loaded pages would belong further down: stop at the last loaded row's key.
    this.setIds(keyed.map(([, id]) => id));
    this.stale = new Set([...this.stale].filter((id) => id === this.state.selectedId));
    this.pending.clear();
    this.pill.hidden = true;
    if (focusList) {
      this.viewport.scrollTop = 0;
      this.focus();
    }
    this.showStatus();
    this.schedule();
  }

  relabel() {
    this.search.setAttribute('aria-label', t('inbox.search'));
    this.search.placeholder = t('inbox.search_placeholder');
    this.filtersButton.setAttribute('aria-label', t('inbox.open_filters'));
    this.filtersButton.title = t('inbox.open_filters');
    this.viewport.setAttribute('aria-label', t('inbox.list_label'));
    this.chips.render();
    this.showPill();
    this.showStatus();
    this.epoch += 1;
    this.paint();
  }

  destroy() {
    snapshot = this.ids.length ? { key: canonical(this.state.filters), ids: this.ids.filter((id) => !this.stale.has(id)),
      cursor: this.cursor, done: this.done, scrollTop: this.viewport.scrollTop } : null;
    this.ctx.store.removeEventListener('conversation', this.onConversation);
    this.ctx.realtime.removeEventListener('resync', this.onResync);
    this.resizer.disconnect();
    this.chips.destroy();
    this.untick();
  }
}

function listFormat(names) {
  try {
    return new Intl.ListFormat(document.documentElement.lang || 'en', { type: 'conjunction' }).format(names);
  } catch {
    return names.join(', ');
  }
}
