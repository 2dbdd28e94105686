// The inbox screen: sidebar (views and filters), conversation list, and the open conversation, side by side
// (one pane at a time on a phone; the URL decides which).

import { h, replace } from '../dom.js';
import { fromQuery } from '../filters.js';
import { ConversationList } from './list.js';
import { ConversationPane } from './conversation.js';
import { Sidebar } from './sidebar.js';

export function mount(ctx, outlet, route) {
  const sidebarEl = h('nav', { class: 'sidebar', 'aria-label': null });
  const listEl = h('section', { class: 'list-pane' });
  const conversationEl = h('section', { class: 'conversation-pane' });
  const layout = h('div', { class: 'inbox' }, sidebarEl, listEl, conversationEl);
  replace(outlet, layout);

  const state = { filters: fromQuery(route.query), selectedId: route.params.id ? Number(route.params.id) : null };
  const sidebar = new Sidebar(ctx, sidebarEl, state);
  const list = new ConversationList(ctx, listEl, state);
  const pane = new ConversationPane(ctx, conversationEl, state);

  function apply(where, { relabel = false } = {}) {
    const filters = fromQuery(where.query);
    const filtersChanged = JSON.stringify(filters) !== JSON.stringify(state.filters);
    state.filters = filters;
    state.selectedId = where.params.id ? Number(where.params.id) : null;
    layout.dataset.pane = state.selectedId ? 'conversation' : 'list';
    if (relabel) {
      sidebar.render();
      list.relabel();
      pane.relabel();
      return;
    }
    sidebar.render();
    if (filtersChanged) list.reload();
    else list.select(state.selectedId);
    pane.open(state.selectedId);
  }

  layout.dataset.pane = state.selectedId ? 'conversation' : 'list';
  sidebar.render();
  list.reload();
  pane.open(state.selectedId);
  return {
    update: apply,
    unmount() {
      sidebar.destroy();
      list.destroy();
      pane.destroy();
    },
  };
}
