// The inbox screen: sidebar (views and filters), conversation list, and the open conversation, side by side
// (one pane at a time on a phone; the URL decides which). Registers the inbox's keyboard commands.

import { register } from '../commands.js';
import { h, icon, replace } from '../dom.js';
import { canonical, checkFilters, FILTER_KEYS, PRESETS, savedViewFilters, toSearch } from '../filters.js';
import { t } from '../i18n.js';
import { prefs } from '../prefs.js';
import { navigate } from '../router.js';
import { ConversationList } from './list.js';
import { ConversationPane } from './conversation.js';
import { Sidebar } from './sidebar.js';
import { ChannelNotices } from './channel_notices.js';
import { loadOptions } from './options.js';

export function mount(ctx, outlet, route) {
  const sidebarEl = h('nav', { class: 'sidebar' });
  const listEl = h('section', { class: 'list-pane', 'aria-labelledby': 'list-title' });
  const conversationEl = h('section', { class: 'conversation-pane' });
  const scrim = h('div', { class: 'scrim', onclick: () => sidebar.close() });
  const heading = h('h1', { class: 'sr-only', id: 'inbox-title' }, t('shell.inbox'));
  const layout = h('div', { class: 'inbox' }, heading, sidebarEl, scrim, listEl, conversationEl);
  const notices = new ChannelNotices(ctx);
  // URL filters the app does not know (a typo, a deleted operator, an API parameter name): dropped, and said.
  const filterNotice = h('div', { class: 'notice notice-neutral filter-notice', role: 'status', hidden: true });
  let ignoredFilters = [];
  replace(outlet, h('div', { class: 'inbox-screen' }, notices.el, filterNotice, layout));

  function showIgnored() {
    filterNotice.hidden = !ignoredFilters.length;
    const list = ignoredFilters.map(({ key, value }) => t('filters.ignored_item',
      { filter: FILTER_KEYS.includes(key) ? t(`filters.${key}`) : key, value }));
    replace(filterNotice, icon('info'),
      h('p', { class: 'notice-text' }, t('filters.ignored', { count: list.length, filters: list.join(', ') })),
      h('button', { type: 'button', class: 'icon-button small', 'aria-label': t('filters.ignored_dismiss'),
        title: t('common.dismiss'), onclick: () => { ignoredFilters = []; showIgnored(); document.getElementById('main')?.focus(); } },
      icon('x')));
  }

  /** The URL's valid filters; invalid ones are noted and the address bar rewritten without them. */
  function validFilters(where, known = null) {
    const { filters, ignored } = checkFilters(where.query, known);
    if (ignored.length) {
      const fresh = ignored.filter((item) => !ignoredFilters.some((o) => o.key === item.key && o.value === item.value));
      ignoredFilters = [...ignoredFilters, ...fresh];
      showIgnored();
      const path = where.params.id ? `/conversations/${where.params.id}` : '/';
      history.replaceState(history.state, '', path + toSearch(filters) + location.hash);
    }
    return filters;
  }

  const state = { filters: validFilters(route), selectedId: route.params.id ? Number(route.params.id) : null };
  // Ids (operators, profiles, events, channels) are checked once their lists are in.
  loadOptions().then((known) => {
    const filters = validFilters({ query: new URLSearchParams(location.search), params: { id: state.selectedId } }, known);
    if (canonical(filters) !== canonical(state.filters)) navigate(location.pathname + toSearch(filters), { replace: true });
  }).catch(() => {});
  const sidebar = new Sidebar(ctx, sidebarEl, state);
  const list = new ConversationList(ctx, listEl, state, { onOpenFilters: (opener) => sidebar.toggle(opener) });
  listEl.prepend(h('h2', { class: 'sr-only', id: 'list-title' }, t('inbox.list_label')));
  const resizer = listResizer(layout);
  listEl.append(resizer);
  const pane = new ConversationPane(ctx, conversationEl, state);

  const phone = () => window.matchMedia('(max-width: 767px)').matches;
  const typing = () => {
    const el = document.activeElement;
    return el && el.closest && el.closest('input, textarea, select, [contenteditable="true"]');
  };

  function title() {
    document.title = t('inbox.title');
  }

  function apply(where, { relabel = false } = {}) {
    const filters = validFilters(where);
    const filtersChanged = canonical(filters) !== canonical(state.filters);
    state.filters = filters;
    const selectedId = where.params.id ? Number(where.params.id) : null;
    const selectionChanged = selectedId !== state.selectedId;
    state.selectedId = selectedId;
    layout.dataset.pane = state.selectedId ? 'conversation' : 'list';
    if (relabel) {
      title();
      heading.textContent = t('shell.inbox');
      sidebar.build();
      list.relabel();
      listEl.querySelector('#list-title').textContent = t('inbox.list_label');
      resizer.setAttribute('aria-label', t('inbox.resize_list'));
      pane.relabel();
      notices.relabel();
      if (ignoredFilters.length) showIgnored();
      return;
    }
    if (filtersChanged) {
      sidebar.render();
      list.reload();
    } else if (selectionChanged) {
      sidebar.render();
      list.select(state.selectedId);
    }
    pane.open(state.selectedId);
    // Back on the list (phone back arrow, Esc): focus returns to the row the operator left.
    if (!state.selectedId && phone()) list.focus();
  }

  function goView(index) {
    sidebar.close();
    const saved = prefs.saved_views || [];
    const path = state.selectedId ? `/conversations/${state.selectedId}` : '/';
    if (index < PRESETS.length) {
      const preset = PRESETS[index];
      navigate(path + toSearch(preset.id === 'all' ? {} : { view: preset.id }));
    } else if (saved[index - PRESETS.length]) {
      navigate(path + toSearch(savedViewFilters(saved[index - PRESETS.length])));
    }
  }

  /** Enter on a row: the composer when I may reply (the conversation pane decides), else the heading. */
  function enterConversation() {
    const event = new CustomEvent('helpline:focus-composer', { cancelable: true });
    window.dispatchEvent(event);
    if (event.defaultPrevented) return;
    const target = conversationEl.querySelector('textarea:not([disabled])')
      || conversationEl.querySelector('h1[tabindex], h2[tabindex], [data-focus-heading]');
    if (target) target.focus();
  }

  /** Esc: close what is open, else back to the same row (on a phone: back to the list screen). */
  function escape() {
    if (sidebarEl.dataset.open === 'true') {
      sidebar.close();
      return;
    }
    if (phone() && state.selectedId) {
      navigate(`/${location.search}`);
      return;
    }
    list.focus();
  }

  const group = () => t('commands.group_inbox');
  const unregister = [
    register({ id: 'inbox.next', keys: ['j'], hint: ['arrowdown'], group, label: () => t('commands.next'), run: () => list.step(1) }),
    register({ id: 'inbox.previous', keys: ['k'], hint: ['arrowup'], group, label: () => t('commands.previous'), run: () => list.step(-1) }),
    register({ id: 'inbox.enter', keys: [], hint: ['Enter'], group, label: () => t('commands.enter'), run: enterConversation }),
    register({ id: 'inbox.escape', keys: ['escape'], inEditable: true, group, label: () => t('commands.escape'),
      run: (event) => {
        // A field with its own Esc (search, pickers) handles it first; the composer gives focus back to the list.
        if (typing() && !document.activeElement.closest('.conversation-pane')) return false;
        escape();
        return true;
      } }),
    register({ id: 'inbox.search', keys: ['/'], group, label: () => t('commands.search'), run: () => {
      if (phone() && state.selectedId) navigate(`/${location.search}`);
      const input = document.getElementById('list-search');
      if (input) { input.focus(); input.select(); }
    } }),
    register({ id: 'inbox.apply', keys: ['.'], group, label: () => t('commands.apply_updates'),
      run: () => list.applyPending({ focusList: true }) }),
    register({ id: 'inbox.panel', keys: [']'], group, label: () => t('commands.side_panel'), run: () => {
      layout.dataset.panel = layout.dataset.panel === 'hidden' ? 'shown' : 'hidden';
      window.dispatchEvent(new CustomEvent('helpline:toggle-panel', { detail: { hidden: layout.dataset.panel === 'hidden' } }));
    } }),
    register({ id: 'inbox.filters', keys: ['f'], group, label: () => t('commands.filters'),
      run: () => sidebar.toggle(document.activeElement) }),
    ...Array.from({ length: 9 }, (_, index) => register({
      id: `inbox.view.${index + 1}`, keys: [String(index + 1)], group: () => t('commands.group_views'),
      label: () => {
        if (index < PRESETS.length) return t(`presets.${PRESETS[index].id}`);
        const view = (prefs.saved_views || [])[index - PRESETS.length];
        return view ? view.name : '';
      },
      when: () => index < PRESETS.length || Boolean((prefs.saved_views || [])[index - PRESETS.length]),
      run: () => goView(index),
    })),
  ];
  const onEnter = () => enterConversation();
  window.addEventListener('helpline:enter-conversation', onEnter);

  title();
  layout.dataset.pane = state.selectedId ? 'conversation' : 'list';
  if (list.restore()) list.focus();
  else {
    list.reload().then(() => {
      if (!state.selectedId && document.activeElement === document.body) list.focus();
    });
  }
  pane.open(state.selectedId);
  return {
    update: apply,
    /** For other modules (palette, notifications): the list and the current filters. */
    list,
    unmount() {
      unregister.forEach((fn) => fn());
      window.removeEventListener('helpline:enter-conversation', onEnter);
      sidebar.destroy();
      list.destroy();
      pane.destroy();
      notices.destroy();
    },
  };
}

const WIDTH_KEY = 'helpline.list-width';
const MIN_WIDTH = 320;
const MAX_WIDTH = 480;

/** The list's width on wide screens (≥ 1440 px): drag or arrow keys, 320–480 px, remembered in this browser. */
function listResizer(layout) {
  let width = 360;
  try { width = Number(localStorage.getItem(WIDTH_KEY)) || 360; } catch { /* private mode */ }
  const handle = h('div', { class: 'list-resizer', role: 'separator', tabindex: '0', 'aria-orientation': 'vertical',
    'aria-label': t('inbox.resize_list'), 'aria-valuemin': String(MIN_WIDTH), 'aria-valuemax': String(MAX_WIDTH) });
  const set = (value, store = true) => {
    width = Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, value)));
    layout.style.setProperty('--list-width', `${width}px`);
    handle.setAttribute('aria-valuenow', String(width));
    if (store) {
      try { localStorage.setItem(WIDTH_KEY, String(width)); } catch { /* private mode */ }
    }
  };
  set(width, false);
  handle.addEventListener('keydown', (event) => {
    const step = { ArrowLeft: -16, ArrowRight: 16, Home: -Infinity, End: Infinity }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    set(Number.isFinite(step) ? width + step : step < 0 ? MIN_WIDTH : MAX_WIDTH);
  });
  handle.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    const startX = event.clientX;
    const startWidth = width;
    const move = (e) => set(startWidth + e.clientX - startX, false);
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      set(width);
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  });
  return handle;
}
