// The conversation's actions: take over, hand back, assign, resolve and next, reopen, snooze, event, tags,
// priority. Optimistic: the store changes at once and rolls back with a toast that says why (ui-guide §3, §7).

import { ApiError, get, patch, post } from '../api.js';
import * as commands from '../commands.js';
import { h, icon } from '../dom.js';
import { at, atWallClock, clockZone, full, wallClock } from '../format.js';
import { t } from '../i18n.js';
import { closePopover, openPopover, typeahead } from './popover.js';
import { windowOf } from './window.js';

let operatorsCache = null;
let eventsCache = null;

/** Why a write failed, in words. */
export function why(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  if (err.status === 0) return t('actions.err_network');
  if (err.status === 403) return t('actions.err_forbidden');
  if (err.status === 404) return t('actions.err_not_found');
  return err.message || t('actions.err_unknown');
}

/** Snooze presets: 1 h, tomorrow 09:00, next Monday 09:00 — on the operator's clock (their time zone preference,
 * else the browser's). */
export function snoozeTimes(now = new Date(), zone = clockZone()) {
  const hour = new Date(now.getTime() + 3600000);
  if (zone) {
    const today = wallClock(now, zone);
    const tomorrow = atWallClock({ ...today, day: today.day + 1, hour: 9, minute: 0 }, zone);
    const monday = atWallClock({ ...today, day: today.day + (((8 - today.weekday) % 7) || 7), hour: 9, minute: 0 }, zone);
    return { hour, tomorrow, monday };
  }
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const monday = new Date(now);
  monday.setDate(now.getDate() + (((8 - now.getDay()) % 7) || 7));
  monday.setHours(9, 0, 0, 0);
  return { hour, tomorrow, monday };
}

export class Actions {
  /** pane: {ctx, id, conversation(), composerDraft() → text, focusComposer()} */
  constructor(pane) {
    this.pane = pane;
    this.ctx = pane.ctx;
    const group = () => t('actions.group');
    const open = () => Boolean(this.c());
    const cmd = (id, keys, label, run, when = open) => commands.register({ id: `conversation.${id}`, keys, group, label, run, when });
    this.unregister = [
      cmd('reply', ['r'], () => t('actions.reply'), () => pane.focusComposer()),
      cmd('takeover', ['t'], () => t('actions.takeover'), () => this.takeover(this.button('takeover')),
        () => open() && this.c().handler === 'bot' && this.c().status !== 'resolved'),
      cmd('handback', ['b'], () => t('actions.handback'), () => this.handback(this.button('handback')),
        () => open() && this.c().handler === 'human' && this.c().status !== 'resolved'),
      cmd('assign_me', ['i'], () => t('actions.assign_me'), () => this.assign(this.ctx.me.id),
        () => open() && (!this.c().assignee || this.c().assignee.id !== this.ctx.me.id)),
      cmd('assign', ['a'], () => t('actions.assign'), () => this.assignPicker(this.button('assign'))),
      cmd('resolve', ['e'], () => t('actions.resolve_next'), () => (this.c().status === 'resolved' ? this.reopen() : this.resolve())),
      cmd('snooze', ['z'], () => t('actions.snooze'), () => this.snoozePicker(this.button('snooze')),
        () => open() && this.c().status !== 'resolved'),
      cmd('event', ['v'], () => t('actions.event'), () => this.eventPicker(this.button('more'))),
      cmd('tags', ['l'], () => t('actions.tags'), () => this.tagsPicker(this.button('more'))),
      cmd('priority', ['p'], () => t('actions.priority'), () => this.priorityPicker(this.button('more'))),
      cmd('undo', ['mod+z'], () => t('actions.undo'), () => this.undoLast(), () => open() && Boolean(this.lastUndo)),
    ];
  }

  c() { return this.pane.conversation(); }

  button(name) { return document.querySelector(`.conversation-actions [data-action="${name}"]`); }

  /** The header's buttons: one primary by state, then the others; each names its key. */
  render() {
    const c = this.c();
    if (!c) return [];
    const btn = (name, label, iconName, key, run, primary = false) => h('button', {
      type: 'button', class: ['button', primary && 'primary'], dataset: { action: name }, 'aria-keyshortcuts': key || null,
      title: key ? t('actions.with_key', { action: label, key }) : label, onclick: (event) => run(event.currentTarget),
    }, icon(iconName), h('span', { class: 'action-label' }, label));
    const out = [];
    if (c.status === 'resolved') {
      out.push(btn('reopen', t('actions.reopen'), 'rotate-ccw', 'e', () => this.reopen(), true));
    } else {
      const mine = c.assignee && c.assignee.id === this.ctx.me.id;
      if (c.handler === 'bot') out.push(btn('takeover', t('actions.takeover'), 'hand', 't', (b) => this.takeover(b), true));
      else if (!mine) out.push(btn('assign_me', t('actions.assign_me'), 'user-check', 'i', () => this.assign(this.ctx.me.id), true));
      if (c.handler === 'human') out.push(btn('handback', t('actions.handback'), 'bot', 'b', (b) => this.handback(b)));
      out.push(btn('resolve', t('actions.resolve'), 'circle-check', 'e', () => this.resolve()));
      out.push(btn('snooze', t('actions.snooze'), 'alarm-clock', 'z', (b) => this.snoozePicker(b)));
    }
    out.push(btn('assign', t('actions.assign'), 'users', 'a', (b) => this.assignPicker(b)));
    out.push(h('button', { type: 'button', class: 'icon-button', dataset: { action: 'more' }, 'aria-label': t('actions.more'),
      title: t('actions.more'), 'aria-haspopup': 'dialog', onclick: (event) => this.morePicker(event.currentTarget) }, icon('ellipsis')));
    return out;
  }

  /** Apply `optimistic` to the store now, run `call`, keep the server's answer or roll back with a toast. */
  async change(optimistic, call, failKey) {
    const before = this.c();
    if (!before) return null;
    const id = before.id;
    if (optimistic) this.ctx.store.putConversation({ ...before, ...optimistic });
    try {
      const updated = await call(id);
      if (updated && updated.id) this.ctx.store.putConversation(updated);
      return updated;
    } catch (err) {
      const now = this.ctx.store.conversations.get(id);
      if (now) this.ctx.store.putConversation({ ...now, ...pick(before, Object.keys(optimistic || {})) });
      this.ctx.shell.toast(t(failKey, { reason: why(err) }), { kind: 'error', timeout: 9000 });
      return null;
    }
  }

  setUndo(label, run) {
    this.lastUndo = run;
    this.ctx.shell.toast(label, { action: { label: t('common.undo'), run: () => { this.lastUndo = null; run(); } } });
  }

  undoLast() {
    const run = this.lastUndo;
    this.lastUndo = null;
    if (run) run();
  }

  async takeover(anchor) {
    const c = this.c();
    if (!c) return;
    if (c.assignee && c.assignee.id !== this.ctx.me.id) {
      openPopover(anchor, {
        label: t('actions.takeover'),
        build: (close) => [
          h('p', {}, t('actions.takeover_other', { operator: c.assignee.name })),
          h('div', { class: 'popover-actions' },
            h('button', { type: 'button', class: 'button primary', autofocus: true, onclick: () => { close(); this.doTakeover(); } },
              t('actions.takeover')),
            h('button', { type: 'button', class: 'button', onclick: () => close() }, t('common.cancel'))),
        ],
      });
      return;
    }
    this.doTakeover();
  }

  async doTakeover() {
    const me = { id: this.ctx.me.id, name: this.ctx.me.name };
    const done = await this.change({ handler: 'human', assignee: me }, (id) => post(`/conversations/${id}/takeover`, {}),
      'actions.takeover_failed');
    if (done) this.setUndo(t('actions.takeover_done'), () => this.doHandback());
    return done;
  }

  handback(anchor) {
    const c = this.c();
    if (!c) return;
    if (c.status === 'resolved') {
      this.ctx.shell.toast(t('actions.reopen_first'));
      return;
    }
    const w = windowOf(c);
    const draft = this.pane.composerDraft();
    openPopover(anchor, {
      label: t('actions.handback'),
      className: 'handback-popover',
      build: (close) => [
        h('h3', {}, t('actions.handback_title')),
        h('ul', { class: 'consequences' },
          h('li', {}, t('actions.handback_bot')),
          c.assignee ? h('li', {}, c.assignee.id === this.ctx.me.id ? t('actions.handback_unassign_me')
            : t('actions.handback_unassign', { operator: c.assignee.name })) : null,
          h('li', {}, t('actions.handback_pending')),
          draft ? h('li', { class: 'warn' }, icon('triangle-alert'), t('actions.handback_draft')) : null,
          w.state === 'closed' ? h('li', { class: 'warn' }, icon('lock'), t('actions.handback_window')) : null),
        h('div', { class: 'popover-actions' },
          h('button', { type: 'button', class: 'button primary', autofocus: true, onclick: () => { close(); this.doHandback(); } },
            icon('bot'), t('actions.handback')),
          h('button', { type: 'button', class: 'button', onclick: () => close() }, t('common.cancel'))),
      ],
    });
  }

  async doHandback() {
    const done = await this.change({ handler: 'bot', assignee: null, status: 'pending' },
      (id) => post(`/conversations/${id}/handback`, {}), 'actions.handback_failed');
    if (done) this.ctx.shell.toast(t('actions.handback_done'));
    return done;
  }

  async assign(operatorId, name) {
    const c = this.c();
    const assignee = operatorId === null ? null : { id: operatorId, name: name || (operatorId === this.ctx.me.id ? this.ctx.me.name : '') };
    const previous = c && c.assignee;
    const done = await this.change({ assignee }, (id) => post(`/conversations/${id}/assign`, { operator_id: operatorId }),
      'actions.assign_failed');
    if (done) {
      const label = operatorId === null ? t('actions.unassigned_done')
        : operatorId === this.ctx.me.id ? t('actions.assigned_me_done') : t('actions.assigned_done', { operator: assignee.name });
      this.setUndo(label, () => this.assign(previous ? previous.id : null, previous && previous.name));
    }
  }

  async assignPicker(anchor) {
    if (!operatorsCache) {
      try {
        operatorsCache = (await get('/operators')).filter((o) => o.active);
      } catch (err) {
        this.ctx.shell.toast(t('actions.operators_failed', { reason: why(err) }), { kind: 'error' });
        return;
      }
    }
    const c = this.c();
    if (!c) return;
    const items = operatorsCache
      .filter((o) => o.role !== 'agent' || (o.channel_ids || []).includes(c.channel.id))
      .map((o) => ({ id: o.id, label: o.id === this.ctx.me.id ? t('actions.me', { name: o.name }) : o.name, name: o.name,
        detail: c.assignee && c.assignee.id === o.id ? t('actions.current') : t(`roles.${o.role}`) }));
    if (c.assignee) items.push({ id: null, label: t('actions.unassign'), name: '' });
    openPopover(anchor, {
      label: t('actions.assign'),
      className: 'assign-popover',
      build: (close) => [
        h('h3', {}, t('actions.assign_title')),
        typeahead({ label: t('actions.assign_search'), placeholder: t('actions.assign_search'), items,
          empty: t('actions.no_operator'), onPick: (item) => { close(); this.assign(item.id, item.name); } }),
      ],
    });
  }

  async resolve() {
    const c = this.c();
    if (!c) return;
    const wasStatus = c.status;
    const done = await this.change({ status: 'resolved' }, (id) => post(`/conversations/${id}/resolve`, {}), 'actions.resolve_failed');
    if (done) {
      const id = c.id;
      this.setUndo(t('actions.resolved_done'), () => this.change({ status: wasStatus },
        () => post(`/conversations/${id}/reopen`, {}), 'actions.reopen_failed'));
      // Resolve and next: the list opens the next row and keeps focus (its `j` command).
      if (typeof commands.run === 'function' && commands.run('inbox.next')) {
        const list = document.querySelector('[role="listbox"]');
        if (list) list.focus();
      }
    }
  }

  reopen() {
    return this.change({ status: 'open' }, (id) => post(`/conversations/${id}/reopen`, {}), 'actions.reopen_failed');
  }

  async snooze(until) {
    const done = await this.change({ status: 'snoozed', snoozed_until: until.toISOString() },
      (id) => post(`/conversations/${id}/snooze`, { until: until.toISOString() }), 'actions.snooze_failed');
    if (done) {
      const id = done.id;
      this.setUndo(t('actions.snoozed_done', { until: full(until) }),
        () => this.change({ status: 'open' }, () => post(`/conversations/${id}/reopen`, {}), 'actions.reopen_failed'));
    }
  }

  snoozePicker(anchor) {
    const times = snoozeTimes();
    const options = [
      ['1', t('actions.snooze_hour'), times.hour],
      ['2', t('actions.snooze_tomorrow'), times.tomorrow],
      ['3', t('actions.snooze_monday'), times.monday],
    ];
    const custom = h('input', { type: 'datetime-local', id: 'snooze-custom', 'aria-describedby': 'snooze-error',
      min: localInput(new Date(Date.now() + 60000)) });
    const error = h('p', { class: 'form-error', id: 'snooze-error' });
    openPopover(anchor, {
      label: t('actions.snooze'),
      className: 'snooze-popover',
      onKey: (event, close) => {
        const hit = options.find(([key]) => key === event.key);
        if (hit && event.target.tagName !== 'INPUT') { event.preventDefault(); close(); this.snooze(hit[2]); }
        if (event.key === '4' && event.target.tagName !== 'INPUT') { event.preventDefault(); custom.focus(); }
      },
      build: (close) => [
        h('h3', {}, t('actions.snooze_title')),
        h('ul', { class: 'menu-list' }, options.map(([key, label, when]) => h('li', {},
          h('button', { type: 'button', class: 'menu-item', onclick: () => { close(); this.snooze(when); } },
            h('kbd', {}, key), h('span', {}, label), h('span', { class: 'muted', title: full(when) }, at(when)))))),
        h('form', { class: 'snooze-custom', onsubmit: (event) => {
          event.preventDefault();
          const when = custom.value ? new Date(custom.value) : null;
          if (!when || Number.isNaN(when.getTime()) || when.getTime() <= Date.now()) {
            custom.setAttribute('aria-invalid', 'true');
            error.textContent = t('actions.snooze_future');
            return;
          }
          close();
          this.snooze(when);
        } },
        h('label', { for: 'snooze-custom' }, h('kbd', {}, '4'), ' ', t('actions.snooze_custom')), custom, error,
        h('button', { type: 'submit', class: 'button small' }, t('actions.snooze'))),
      ],
    });
  }

  morePicker(anchor) {
    openPopover(anchor, {
      label: t('actions.more'),
      build: (close) => h('ul', { class: 'menu-list' },
        [['v', 'calendar', t('actions.event'), () => this.eventPicker(anchor)],
          ['l', 'tag', t('actions.tags'), () => this.tagsPicker(anchor)],
          ['p', 'flag', t('actions.priority'), () => this.priorityPicker(anchor)]].map(([key, ic, label, run]) => h('li', {},
          h('button', { type: 'button', class: 'menu-item', onclick: () => { close({ restore: false }); run(); } },
            icon(ic), h('span', {}, label), h('kbd', {}, key))))),
    });
  }

  async eventPicker(anchor) {
    if (!eventsCache) {
      try {
        eventsCache = await get('/events');
      } catch (err) {
        this.ctx.shell.toast(t('actions.events_failed', { reason: why(err) }), { kind: 'error' });
        return;
      }
    }
    const c = this.c();
    if (!c) return;
    const items = eventsCache.filter((e) => e.active !== false).map((e) => ({ id: e.id, label: e.name,
      detail: c.event && c.event.id === e.id ? t('actions.current') : null }));
    if (c.event) items.push({ id: null, label: t('actions.no_event') });
    openPopover(anchor, {
      label: t('actions.event'),
      build: (close) => [h('h3', {}, t('actions.event_title')),
        typeahead({ label: t('actions.event_search'), placeholder: t('actions.event_search'), items, empty: t('actions.no_events'),
          onPick: (item) => { close(); this.update({ event_id: item.id }, { event: item.id ? { id: item.id, name: item.label } : null }); } })],
    });
  }

  tagsPicker(anchor) {
    const c = this.c();
    if (!c) return;
    let tags = [...c.tags];
    const chips = h('ul', { class: 'tag-chips' });
    const input = h('input', { type: 'text', id: 'tag-input', autocomplete: 'off', maxlength: '50', 'aria-describedby': 'tag-help' });
    const draw = () => chips.replaceChildren(...tags.map((tag) => h('li', { class: 'chip' }, icon('tag'), h('span', {}, tag),
      h('button', { type: 'button', class: 'icon-button small', 'aria-label': t('actions.remove_tag', { tag }),
        onclick: () => { tags = tags.filter((x) => x !== tag); draw(); input.focus(); } }, icon('x')))));
    draw();
    openPopover(anchor, {
      label: t('actions.tags'),
      build: (close) => h('form', { class: 'tags-form', onsubmit: (event) => {
        event.preventDefault();
        const value = input.value.trim().toLowerCase();
        if (value) {
          if (!tags.includes(value)) tags.push(value);
          input.value = '';
          draw();
          return;
        }
        close();
        if (tags.join('\n') !== c.tags.join('\n')) this.update({ tags }, { tags });
      } },
      h('h3', {}, t('actions.tags_title')), chips,
      h('label', { for: 'tag-input' }, t('actions.add_tag')), input,
      h('p', { class: 'muted small', id: 'tag-help' }, t('actions.tags_help')),
      h('div', { class: 'popover-actions' }, h('button', { type: 'submit', class: 'button primary' }, t('common.save')),
        h('button', { type: 'button', class: 'button', onclick: () => close() }, t('common.cancel')))),
    });
  }

  priorityPicker(anchor) {
    const c = this.c();
    if (!c) return;
    const levels = ['urgent', 'high', 'medium', 'low', 'none'];
    openPopover(anchor, {
      label: t('actions.priority'),
      build: (close) => [h('h3', {}, t('actions.priority_title')),
        h('ul', { class: 'menu-list', role: 'group' }, levels.map((level) => h('li', {},
          h('button', { type: 'button', class: ['menu-item', `priority-${level}`], 'aria-pressed': c.priority === level ? 'true' : 'false',
            onclick: () => { close(); if (level !== c.priority) this.update({ priority: level }, { priority: level }); } },
          icon(level === 'none' ? 'x' : 'flag'), h('span', {}, t(`priority.${level}`)), c.priority === level ? icon('check') : null))))],
    });
  }

  update(body, optimistic) {
    return this.change(optimistic, (id) => patch(`/conversations/${id}`, body), 'actions.update_failed');
  }

  destroy() {
    closePopover();
    for (const off of this.unregister) off();
  }
}

function pick(object, keys) {
  const out = {};
  for (const key of keys) out[key] = object[key];
  return out;
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
