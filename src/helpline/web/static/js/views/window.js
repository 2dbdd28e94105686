// The provider's reply window of a conversation, in words: header chip, composer caption, lock state (ui-guide §6).
// The state comes from the server (`window.state`); only the time left is counted here, from `expires_at`.

import { h, icon } from '../dom.js';
import { duration, time } from '../format.js';
import { t } from '../i18n.js';

/** Channels whose closed window still allows approved templates (WhatsApp's 24-hour rule). */
export const TEMPLATED = new Set(['whatsapp']);

/**
 * {state, expiresAt, left, humanLeft, locked, templates} for a ConversationPublic; state is
 * 'open' | 'closing' | 'closed' | 'human' (Messenger/Instagram human-agent period) | null (no window).
 */
export function windowOf(c, now = Date.now()) {
  const w = c && c.window;
  if (!w) return { state: null, locked: false, templates: false };
  const expiresAt = w.expires_at ? new Date(w.expires_at) : null;
  const humanAt = w.human_expires_at ? new Date(w.human_expires_at) : null;
  let state = w.state;
  // Flip to closed at expiry on the shared tick, without waiting for the server.
  if (state !== 'closed' && expiresAt && expiresAt.getTime() <= now) state = 'closed';
  if (state === 'closed' && humanAt && humanAt.getTime() > now) state = 'human';
  return {
    state,
    expiresAt,
    humanAt,
    left: expiresAt ? expiresAt.getTime() - now : 0,
    humanLeft: humanAt ? humanAt.getTime() - now : 0,
    locked: state === 'closed',
    templates: state === 'closed' && TEMPLATED.has(c.channel.kind),
  };
}

/** The header chip: "Reply window: 5 h 12 min left (until 14:32)", amber when closing, red when closed. */
export function windowChip(c) {
  const w = windowOf(c);
  if (!w.state) return null;
  if (w.state === 'human') {
    return h('span', { class: 'chip window-human', title: t('reply_window.human_caption') }, icon('user'),
      h('span', {}, t('reply_window.human_chip', { left: duration(w.humanLeft) })));
  }
  if (w.state === 'closed') {
    return h('span', { class: 'chip window-closed' }, icon('lock'),
      h('span', {}, w.expiresAt ? t('reply_window.closed_at', { time: time(w.expiresAt) }) : t('reply_window.closed')));
  }
  return h('span', { class: ['chip', w.state === 'closing' ? 'window-closing' : 'window-open'] },
    icon(w.state === 'closing' ? 'clock-alert' : 'clock'),
    h('span', {}, t('reply_window.left', { left: duration(w.left), time: time(w.expiresAt) })));
}
