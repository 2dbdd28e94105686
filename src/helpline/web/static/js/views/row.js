// One conversation list row (ui-guide §2 "List row"): three lines in a fixed 76 px box, and the one-sentence
// accessible name a screen reader reads for it. Pure functions of (conversation, me, flags): no fetching.

import { avatar, h, icon } from '../dom.js';
import { full, relative } from '../format.js';
import { t } from '../i18n.js';
import { plainText } from '../markdown.js';
import { customerName, reasonText } from '../names.js';
import { channelIcon } from './channels.js';

export const ROW_HEIGHT = 76;

/** "Bot: …", "You: …", "Maria: …", nothing for the customer; "No messages yet" when there is none. */
export function previewText(c, me) {
  const last = c.last_message || {};
  // Bot and operator replies may carry Markdown, which the timeline renders: the one-line preview shows its words.
  const text = last.preview ? (last.author_kind === 'contact' ? last.preview : plainText(last.preview)) : '';
  if (!text) return t('inbox.preview.empty');
  const kind = last.author_kind;
  if (kind === 'bot') return t('inbox.preview.bot', { text });
  if (kind === 'operator') {
    const name = last.author_name || (c.assignee && c.assignee.name);
    if (last.author_id === me.id || !name || name === me.name) return t('inbox.preview.you', { text });
    return t('inbox.preview.operator', { name, text });
  }
  return text;
}

/** Minutes left until an ISO instant (negative when past). */
function minutesLeft(iso, now) {
  return Math.floor((Date.parse(iso) - now) / 60000);
}

/** A short countdown: "2 d", "5 h", "42 min". */
function short(minutes) {
  if (minutes >= 1440) return t('time.short_days', { count: Math.floor(minutes / 1440) });
  if (minutes >= 60) return t('time.short_hours', { count: Math.floor(minutes / 60) });
  return t('time.short_minutes', { count: Math.max(0, minutes) });
}

/** The spoken form: "2 days", "5 hours", "42 minutes". */
function spoken(minutes) {
  if (minutes >= 1440) return t('time.days', { count: Math.floor(minutes / 1440) });
  if (minutes >= 60) return t('time.hours', { count: Math.floor(minutes / 60) });
  return t('time.minutes_long', { count: Math.max(0, minutes) });
}

/**
 * The window chip from the server's state (never a threshold of our own), counted down from expires_at:
 * {cls, icon, text, speech} or null when the channel has no window. Past expires_at it reads "Closed".
 */
export function windowChip(c, now = Date.now()) {
  const w = c.window;
  if (!w) return null;
  const left = w.expires_at ? minutesLeft(w.expires_at, now) : null;
  const closed = w.state === 'closed' || (left !== null && left < 0);
  if (closed) {
    if (w.human_expires_at && minutesLeft(w.human_expires_at, now) >= 0) {
      const human = minutesLeft(w.human_expires_at, now);
      return { cls: 'human', icon: 'user', text: t('inbox.window.human', { left: short(human) }),
        speech: t('inbox.window.human_speech', { left: spoken(human) }) };
    }
    return { cls: 'closed', icon: 'lock', text: t('window.closed'), speech: t('inbox.window.closed_speech') };
  }
  if (left === null) return null;
  const closing = w.state === 'closing';
  return { cls: closing ? 'closing' : 'open', icon: closing ? 'clock-alert' : 'clock', text: short(left),
    speech: t('inbox.window.open_speech', { left: spoken(left) }) };
}

/** The escalation reason in words ("Asked for a person"); a reason this build does not know reads generically. */
export function waitingReason(c) {
  return reasonText(c.escalation && c.escalation.reason, 'inbox.waiting_short');
}

export function isWaiting(c) {
  return Boolean(c.waiting_since);
}

function clip(text, max) {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** The row's accessible name: one sentence of its parts, in the row's visual order. */
export function rowLabel(c, me, { stale } = {}, now = Date.now()) {
  const name = customerName(c);
  const chip = windowChip(c, now);
  const parts = [
    name,
    t(`kinds.${c.channel.kind}`),
    c.unread_count ? t('inbox.unread', { count: c.unread_count }) : null,
    isWaiting(c) ? t('inbox.row.waiting', { reason: waitingReason(c) }) : null,
    chip ? chip.speech : null,
    c.event ? c.event.name : null,
    c.assignee ? t('inbox.row.assigned', { name: c.assignee.id === me.id ? t('inbox.row.you') : c.assignee.name }) : null,
    c.priority === 'high' || c.priority === 'urgent' ? t('inbox.row.priority', { priority: t(`priority.${c.priority}`) }) : null,
    t('inbox.row.preview', { text: previewText(c, me) }),
    relative(c.last_activity_at, new Date(now)),
    stale ? staleText(c) : null,
  ];
  return parts.filter(Boolean).join(', ');
}

/** Why a row left the view: "Resolved", "Assigned to Maria", else "No longer in this view". */
export function staleText(c) {
  if (c.status === 'resolved') return t('inbox.stale.resolved');
  if (c.status === 'snoozed') return t('inbox.stale.snoozed');
  if (c.assignee) return t('inbox.stale.assigned', { name: c.assignee.name });
  return t('inbox.stale.gone');
}

/** The row element (role=option) for conversation `c` at list position `index`. */
export function renderRow(c, me, { index, selected, stale, now = Date.now() }) {
  const name = customerName(c);
  const waiting = isWaiting(c);
  const chips = [];
  if (stale) chips.push(h('span', { class: 'chip stale-chip' }, icon('info'), staleText(c)));
  if (waiting) chips.push(h('span', { class: 'chip warn' }, icon('hand'), h('span', { class: 'chip-text' }, waitingReason(c))));
  const chip = windowChip(c, now);
  if (chip) chips.push(h('span', { class: `chip window-${chip.cls}` }, icon(chip.icon), chip.text));
  if (c.event) {
    chips.push(h('span', { class: 'chip event-chip' }, c.event.logo_url
      ? h('img', { src: c.event.logo_url, alt: '', class: 'logo16', width: 16, height: 16, loading: 'lazy', decoding: 'async' })
      : icon('calendar'), h('span', { class: 'chip-text' }, clip(c.event.name, 14))));
  }
  if (c.assignee) {
    chips.push(h('span', { class: 'chip assignee-chip' }, avatar(c.assignee.name, `op${c.assignee.id}`, 'xs'),
      h('span', { class: 'chip-text' }, c.assignee.id === me.id ? t('inbox.row.you') : c.assignee.name)));
  }
  if (c.priority === 'high' || c.priority === 'urgent') {
    chips.push(h('span', { class: `chip priority-${c.priority}` }, icon('flag'), t(`priority.${c.priority}`)));
  }
  const when = c.last_activity_at;
  const row = h('div', {
    id: `row-${c.id}`, role: 'option',
    class: ['row', selected && 'selected', c.unread_count && 'unread', waiting && 'waiting', stale && 'stale'],
    'aria-selected': selected ? 'true' : 'false', 'aria-posinset': String(index + 1),
    'aria-label': rowLabel(c, me, { stale }, now), dataset: { id: String(c.id) },
  },
  h('div', { class: 'row-line' },
    h('span', { class: 'row-avatar' }, avatar(name, `c${c.contact.id}`), channelIcon(c.channel.kind)),
    h('span', { class: 'row-name' }, name),
    h('time', { class: 'row-time', datetime: when, title: full(when) }, relative(when, new Date(now), 'short'))),
  h('div', { class: 'row-line' }, h('span', { class: 'row-preview' }, previewText(c, me)),
    c.unread_count ? h('span', { class: 'badge' }, c.unread_count > 99 ? '99+' : String(c.unread_count)) : null),
  h('div', { class: 'row-line chips' }, chips));
  row.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
  return row;
}

/** Skeleton rows in the real geometry (shown only when loading takes longer than 150 ms). */
export function skeletonRows(count = 8) {
  return Array.from({ length: count }, (_, index) => {
    const row = h('div', { class: 'row skeleton', 'aria-hidden': 'true' },
      h('div', { class: 'row-line' }, h('span', { class: 'sk sk-avatar' }), h('span', { class: 'sk sk-name' })),
      h('div', { class: 'row-line' }, h('span', { class: 'sk sk-preview' })),
      h('div', { class: 'row-line' }, h('span', { class: 'sk sk-chip' })));
    row.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    return row;
  });
}
