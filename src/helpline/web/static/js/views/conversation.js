// The open conversation: header (contact, channel, handler, assignee, status, window chip, actions), the
// timeline, the composer, and the side panel with its Contact and Bot tabs (ui-guide §2–§7).

import { ApiError, get } from '../api.js';
import * as commands from '../commands.js';
import { avatar, h, icon, later, replace } from '../dom.js';
import { full, onTick, relative } from '../format.js';
import { t } from '../i18n.js';
import { customerName } from '../names.js';
import { Actions } from './actions.js';
import { BotPanel } from './bot_panel.js';
import { channelIcon } from './channels.js';
import { Composer } from './composer.js';
import { ContactPanel } from './contact_panel.js';
import { placedAt } from './message.js';
import { PAGE, Timeline } from './timeline.js';
import { TypingLine } from './typing.js';
import { threadSubject } from './email.js';
import { windowChip, windowOf } from './window.js';

const PANEL_KEY = 'helpline:side-panel';

export class ConversationPane {
  constructor(ctx, el, state) {
    this.ctx = ctx;
    this.el = el;
    this.state = state;
    this.id = undefined; // null = nothing selected; undefined = not rendered yet
    this.header = h('header', { class: 'conversation-header' });
    this.timeline = new Timeline({
      ctx, conversation: () => this.conversation(), botState: () => this.bot.state, identity: () => this.identity,
      env: () => ({
        retry: (m) => this.composer.retry(m), edit: (m) => this.composer.edit(m), discard: (m) => this.composer.discard(m),
        asTemplate: (m) => this.composer.asTemplate(m), templates: this.composer.templatesAvailable(),
        locked: windowOf(this.conversation()).locked,
      }),
    });
    this.composerEl = h('div', { class: 'composer-slot' });
    this.typing = new TypingLine({ ctx, conversationId: () => (this.loaded ? this.id : null),
      customer: () => customerName(this.conversation()) });
    this.actions = new Actions({ ctx, conversation: () => this.conversation(), composerDraft: () => this.composer.draft(),
      focusComposer: () => this.composer.focus() });
    this.composer = new Composer(ctx, this.composerEl, { actions: this.actions });
    this.bot = new BotPanel({ ctx, conversation: () => this.conversation(), insert: (text) => this.composer.insert(text),
      lastInbound: () => this.lastInbound(), lastBotStep: () => this.lastBotStep() });
    this.contact = new ContactPanel({ ctx, conversation: () => this.conversation(), editTags: (anchor) => this.actions.tagsPicker(anchor),
      onIdentities: (list) => this.setIdentities(list) });
    this.tab = null;
    this.panelBody = h('div', { class: 'panel-body', role: 'tabpanel', id: 'side-panel-body', tabindex: '0' });
    this.panelTabs = h('div', { class: 'panel-tabs', role: 'tablist', 'aria-label': t('panel.label') });
    this.panel = h('aside', { class: 'side-panel', 'aria-label': t('panel.label') }, this.panelTabs, this.panelBody);
    this.panelHidden = narrow() || localStorage.getItem(PANEL_KEY) === 'hidden';
    this.main = h('div', { class: 'conversation-main',
      ondragover: (event) => { if (event.dataTransfer && [...event.dataTransfer.types].includes('Files')) { event.preventDefault(); this.main.classList.add('dropping'); } },
      ondragleave: (event) => { if (!this.main.contains(event.relatedTarget)) this.main.classList.remove('dropping'); },
      ondrop: (event) => {
        this.main.classList.remove('dropping');
        if (event.dataTransfer && event.dataTransfer.files.length) { event.preventDefault(); this.composer.addFiles([...event.dataTransfer.files]); }
      } }, this.timeline.el, this.typing.el, this.composerEl);
    this.body = h('div', { class: 'conversation-body' }, this.main, this.panel);

    this.onMessage = (event) => {
      const detail = event.detail;
      const cid = detail.message ? detail.message.conversation_id : detail.conversation_id;
      if (cid !== this.id || !this.loaded) return;
      this.timeline.onMessage(detail);
      if (detail.message && !detail.previous) this.composer.noteOthers(detail.message);
    };
    this.onConversation = (event) => {
      if (event.detail.id !== this.id || !this.loaded) return;
      const before = this.lastShape;
      this.renderHeader();
      this.composer.refresh(event.detail);
      const shape = shapeOf(event.detail);
      if (before && before !== shape && this.tab === 'bot') this.bot.render();
      if (before && windowOf(event.detail).state !== this.lastWindow) this.timeline.render({ anchor: this.timeline.anchorId() });
      this.lastWindow = windowOf(event.detail).state;
      this.lastShape = shape;
    };
    this.onFrame = (event) => {
      const frame = event.detail;
      if (!this.loaded || frame.conversation_id !== this.id) return;
      if (frame.type === 'bot.progress' || frame.type === 'conversation.escalated') {
        clearTimeout(this.botTimer);
        this.botTimer = setTimeout(() => this.bot.load(this.id), 300);
        if (frame.type === 'conversation.escalated' && this.tab !== 'bot') this.selectTab('bot');
      }
    };
    this.onResync = () => this.resync();
    this.onFocusComposer = (event) => {
      if (this.loaded && this.composer.focus()) event.preventDefault();
    };
    // `]` (registered by the inbox) toggles; the pane owns the state, so the event's own guess is not used.
    this.onTogglePanel = () => { if (this.loaded) this.togglePanel(); };
    ctx.store.addEventListener('message', this.onMessage);
    ctx.store.addEventListener('conversation', this.onConversation);
    ctx.store.addEventListener('frame', this.onFrame);
    if (ctx.realtime) ctx.realtime.addEventListener('resync', this.onResync);
    window.addEventListener('helpline:focus-composer', this.onFocusComposer);
    window.addEventListener('helpline:toggle-panel', this.onTogglePanel);
    this.offTick = onTick(() => this.tick());
    this.unregister = [
      commands.register({ id: 'conversation.template', keys: ['T'], group: () => t('actions.group'),
        label: () => t('composer.choose_template'), when: () => Boolean(this.loaded && this.composer.templatesAvailable()),
        run: () => this.composer.picker.open() }),
    ];
  }

  conversation() {
    return this.id ? this.ctx.store.conversations.get(this.id) : null;
  }

  async open(id) {
    if (id === this.id) return;
    this.id = id;
    this.loaded = false;
    this.typing.reset();
    this.identity = null;
    this.identities = null;
    if (this.cancelSkeleton) this.cancelSkeleton();
    if (!id) {
      this.composer.detach();
      replace(this.el, h('div', { class: 'empty-pane' }, icon('inbox', { cls: 'empty-icon' }), h('p', {}, t('conversation.none_selected'))));
      return;
    }
    performance.mark('helpline:open-start');
    this.el.setAttribute('aria-busy', 'true');
    // Skeletons only after 150 ms, so fast loads never flash.
    this.cancelSkeleton = later(150, () => { if (this.id === id && !this.loaded) this.skeleton(); });
    try {
      const [conversation, page] = await Promise.all([
        get(`/conversations/${id}`), get(`/conversations/${id}/messages`, { limit: PAGE }),
      ]);
      if (this.id !== id) return;
      this.cancelSkeleton();
      this.ctx.store.conversations.set(conversation.id, conversation);
      const map = this.ctx.store.messagesOf(id);
      for (const message of page.items) map.set(message.id, message);
      this.loaded = true;
      this.lastWindow = windowOf(conversation).state;
      this.lastShape = shapeOf(conversation);
      replace(this.el, this.header, this.body);
      if (narrow()) this.panelHidden = true;
      this.applyPanelVisibility();
      this.renderHeader();
      this.timeline.show(id, page);
      this.composer.attach(conversation);
      this.el.removeAttribute('aria-busy');
      requestAnimationFrame(() => performance.measure('helpline:open', 'helpline:open-start'));
      this.tab = null;
      this.selectTab(conversation.handler === 'bot' || (this.escalated(conversation) && !conversation.assignee) ? 'bot' : 'contact', { focus: false });
      if (!this.identities) this.loadIdentities(conversation.contact.id, id);
    } catch (err) {
      if (this.id !== id) return;
      this.cancelSkeleton();
      this.el.removeAttribute('aria-busy');
      this.composer.detach();
      const gone = err instanceof ApiError && (err.status === 404 || err.status === 422 || err.status === 403);
      replace(this.el, h('div', { class: gone ? 'empty-pane' : 'empty-pane error-box', role: gone ? null : 'alert' },
        icon(gone ? 'lock' : 'circle-alert', { cls: 'empty-icon' }),
        h('h2', { id: 'conversation-title', tabindex: '-1' }, gone ? t('conversation.not_found') : t('conversation.load_failed')),
        gone ? h('a', { href: `/${location.search}`, class: 'button' }, icon('arrow-left'), h('span', {}, t('conversation.back'))) : [
          h('details', {}, h('summary', {}, t('conversation.details')), h('p', {}, err.message || String(err))),
          h('button', { type: 'button', class: 'button', onclick: () => { this.id = null; this.open(id); } }, icon('refresh-cw'), h('span', {}, t('common.retry')))]));
    }
  }

  /** Skeletons in the real geometry: header, 6 bubbles, the composer. */
  skeleton() {
    replace(this.el, h('div', { class: 'skeleton', 'aria-hidden': 'true' },
      h('div', { class: 'skeleton-header' }, h('span', { class: 'sk sk-avatar' }), h('span', { class: 'sk sk-line' })),
      h('div', { class: 'skeleton-feed' }, [0, 1, 2, 3, 4, 5].map((i) => h('span', { class: ['sk', 'sk-bubble', i % 2 ? 'out' : 'in'] }))),
      h('div', { class: 'sk sk-composer' })),
    h('p', { class: 'sr-only', role: 'status' }, t('common.loading')));
  }

  async loadIdentities(contactId, id) {
    try {
      const list = await get(`/contacts/${contactId}/identities`);
      if (this.id === id) this.setIdentities(list);
    } catch { /* the header simply shows no identity */ }
  }

  setIdentities(list) {
    const c = this.conversation();
    if (!c) return;
    this.identities = list;
    const match = list.find((i) => String(i.kind).split(':')[0] === c.channel.kind) || list[0];
    const identity = match ? formatIdentity(match) : null;
    if (identity !== this.identity) {
      this.identity = identity;
      this.renderHeader();
      this.timeline.render({ anchor: this.timeline.anchorId() });
    }
  }

  renderHeader() {
    const c = this.conversation();
    if (!c) return;
    const name = customerName(c);
    const subject = c.channel.kind === 'email' ? threadSubject(this.ctx.store.messagesOf(c.id).values()) : null;
    const mine = c.assignee && c.assignee.id === this.ctx.me.id;
    // Re-rendering must not drop keyboard focus: remember which control had it and give it back.
    const focused = this.header.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused ? (focused.id ? `#${focused.id}` : focused.dataset.action ? `[data-action="${focused.dataset.action}"]`
      : focused.classList.contains('panel-toggle') ? '.panel-toggle' : '.conversation-actions .button') : null;
    replace(this.header,
      h('a', { class: 'icon-button back', href: `/${location.search}`, 'aria-label': t('conversation.back') }, icon('arrow-left')),
      avatar(name, `c${c.contact.id}`),
      h('div', { class: 'conversation-title title-line' },
        h('h2', { id: 'conversation-title', tabindex: '-1', title: name }, name),
        subject ? h('span', { class: 'fact thread-subject', title: subject }, icon('mail'),
          h('span', { class: 'sr-only' }, t('email.subject_label')), h('span', {}, subject)) : null,
        h('span', { class: 'fact channel-fact' }, channelIcon(c.channel.kind),
          h('span', {}, t('conversation.channel', { kind: t(`kinds.${c.channel.kind}`), name: c.channel.name })))),
      h('div', { class: 'conversation-actions', role: 'toolbar', 'aria-label': t('actions.label') }, this.actions.render(),
        h('button', { type: 'button', class: 'icon-button panel-toggle', 'aria-label': t('panel.toggle'), title: t('panel.toggle_key'),
          'aria-expanded': this.panelHidden ? 'false' : 'true', 'aria-controls': 'side-panel-body', 'aria-keyshortcuts': ']',
          onclick: () => this.togglePanel() }, icon('panel-right'))),
      h('p', { class: 'conversation-facts' },
        h('span', { class: `status-chip status-${c.status}` }, c.status === 'snoozed' && c.snoozed_until
          ? t('conversation.snoozed_until', { when: relative(c.snoozed_until) }) : t(`status.${c.status}`)),
        h('span', { class: 'handler-chip' }, icon(c.handler === 'bot' ? 'bot' : 'user'), t(`conversation.handler_${c.handler}`)),
        h('span', { class: 'fact' }, icon('user-check'), mine ? t('conversation.assigned_to_me')
          : c.assignee ? t('conversation.assigned_to', { operator: c.assignee.name }) : t('conversation.unassigned')),
        windowChip(c),
        c.event ? h('span', { class: 'chip' }, icon('calendar'), h('span', {}, c.event.name)) : null,
        c.priority && c.priority !== 'none' ? h('span', { class: `chip priority-${c.priority}` }, icon('flag'), h('span', {}, t(`priority.${c.priority}`))) : null,
        c.tags.length ? h('span', { class: 'chip' }, icon('tag'), h('span', {}, c.tags.join(', '))) : null));
    if (focusKey !== null) {
      const again = this.header.querySelector(focusKey) || this.header.querySelector('.conversation-actions .button')
        || document.getElementById('conversation-title');
      if (again) again.focus();
    }
  }

  selectTab(tab, { focus = true } = {}) {
    const c = this.conversation();
    if (!c) return;
    const changed = tab !== this.tab;
    this.tab = tab;
    replace(this.panelTabs, ['contact', 'bot'].map((name) => h('button', { type: 'button', role: 'tab', id: `tab-${name}`,
      class: 'panel-tab', 'aria-selected': name === tab ? 'true' : 'false', 'aria-controls': 'side-panel-body', tabindex: name === tab ? '0' : '-1',
      onclick: () => this.selectTab(name),
      onkeydown: (event) => {
        if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
          event.preventDefault();
          this.selectTab(name === 'contact' ? 'bot' : 'contact');
        }
      } }, icon(name === 'bot' ? 'bot' : 'user'), h('span', {}, t(`panel.${name}`)))));
    this.panelBody.setAttribute('aria-labelledby', `tab-${tab}`);
    if (this.panelHidden) return;
    if (tab === 'bot') {
      replace(this.panelBody, this.bot.el);
      if (changed || this.bot.id !== c.id) this.bot.load(c.id);
    } else {
      replace(this.panelBody, this.contact.el);
      this.contact.load(c.contact.id);
    }
    if (focus) this.panelTabs.querySelector(`#tab-${tab}`).focus();
  }

  applyPanelVisibility() {
    this.panel.hidden = this.panelHidden;
    this.body.classList.toggle('panel-hidden', this.panelHidden);
  }

  togglePanel(hidden) {
    this.panelHidden = hidden === undefined ? !this.panelHidden : hidden;
    // Below 1280 px the panel is an overlay drawer: it starts closed and its state is not remembered.
    if (!narrow()) {
      try { localStorage.setItem(PANEL_KEY, this.panelHidden ? 'hidden' : 'shown'); } catch { /* ignore */ }
    }
    this.applyPanelVisibility();
    const toggle = this.header.querySelector('.panel-toggle');
    if (toggle) toggle.setAttribute('aria-expanded', this.panelHidden ? 'false' : 'true');
    if (!this.panelHidden && this.loaded) {
      const tab = this.tab;
      this.tab = null;
      this.selectTab(tab || 'contact', { focus: false });
    }
  }

  /** A hand-off happened (api-inbox's `escalation`, else the escalation notice in the loaded messages). */
  escalated(c) {
    if (c.escalation) return true;
    if (c.handler !== 'human') return false;
    return [...this.ctx.store.messagesOf(c.id).values()].some((m) => (m.content_type === 'event' && m.content.event === 'escalated')
      || (m.content && m.content.bot && m.content.bot.kind === 'handoff'));
  }

  lastInbound() {
    return [...this.ctx.store.messagesOf(this.id).values()].filter((m) => m.direction === 'inbound' && m.text)
      .sort((a, b) => (placedAt(a) < placedAt(b) ? -1 : 1)).slice(-3).map((m) => String(m.text).slice(0, 200));
  }

  lastBotStep() {
    const bots = [...this.ctx.store.messagesOf(this.id).values()].filter((m) => m.author_kind === 'bot' && m.content && m.content.bot && m.content.bot.step)
      .sort((a, b) => (placedAt(a) < placedAt(b) ? -1 : 1));
    return bots.length ? bots[bots.length - 1].content.bot.step : null;
  }

  tick() {
    if (!this.loaded) return;
    const c = this.conversation();
    if (!c) return;
    const state = windowOf(c).state;
    this.renderHeader();
    this.composer.refresh(c);
    if (state !== this.lastWindow) {
      this.lastWindow = state;
      this.timeline.render({ anchor: this.timeline.anchorId() });
    }
  }

  async resync() {
    if (!this.loaded) return;
    const id = this.id;
    try {
      const conversation = await get(`/conversations/${id}`);
      if (this.id !== id) return;
      this.ctx.store.putConversation(conversation);
      await this.timeline.catchUp();
      if (this.tab === 'bot') this.bot.load(id);
    } catch { /* the next frame or visit catches up */ }
  }

  relabel() {
    if (!this.loaded) {
      const id = this.id;
      this.id = undefined;
      this.open(id);
      return;
    }
    this.panel.setAttribute('aria-label', t('panel.label'));
    this.panelTabs.setAttribute('aria-label', t('panel.label'));
    this.renderHeader();
    this.timeline.relabel();
    this.composer.relabel();
    const tab = this.tab;
    this.tab = null;
    this.selectTab(tab || 'contact', { focus: false });
  }

  destroy() {
    this.ctx.store.removeEventListener('message', this.onMessage);
    this.ctx.store.removeEventListener('conversation', this.onConversation);
    this.ctx.store.removeEventListener('frame', this.onFrame);
    if (this.ctx.realtime) this.ctx.realtime.removeEventListener('resync', this.onResync);
    window.removeEventListener('helpline:focus-composer', this.onFocusComposer);
    window.removeEventListener('helpline:toggle-panel', this.onTogglePanel);
    this.offTick();
    this.actions.destroy();
    this.timeline.destroy();
    this.typing.destroy();
    this.composer.detach();
    for (const off of this.unregister) off();
  }
}

const narrow = () => window.matchMedia('(max-width: 1279px)').matches;

function shapeOf(c) {
  return `${c.handler}|${c.status}|${c.assignee ? c.assignee.id : ''}|${c.escalation ? c.escalation.reason : ''}`;
}

// Provider ids that mean nothing to a person (a page-scoped id, a website visitor's token, another system's id)
// are never shown beside the customer's name; the Contact tab lists them for whoever needs them.
const OPAQUE_IDS = new Set(['messenger', 'instagram', 'widget', 'api']);

/** "+55 11 9…" for phones, e-mail addresses as given; null for opaque provider ids. */
export function formatIdentity(identity) {
  const id = String(identity.provider_id || '');
  const kind = String(identity.kind).split(':')[0];
  if (OPAQUE_IDS.has(kind)) return null;
  if (kind === 'whatsapp' && /^\+?\d{8,15}$/u.test(id)) return id.startsWith('+') ? id : `+${id}`;
  return id;
}

