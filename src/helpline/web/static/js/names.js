// Human words for what the server names by code or id: escalation reasons, matching methods and customers
// without a name.

import { has, t } from './i18n.js';

// The channel kinds whose anonymous customers get their own wording ("Website visitor #12"); others read
// "Customer #12". A raw provider id (a PSID, a visitor token) is never the name an operator sees.
const ANONYMOUS_KINDS = new Set(['widget', 'messenger', 'instagram', 'api']);

/** The contact's name, else "Website visitor #<contact id>" (Intercom/Chatwoot style) for channel kind `kind`. */
export function contactName(contact, kind) {
  if (contact && contact.name && String(contact.name).trim()) return String(contact.name);
  const number = contact && contact.id !== undefined ? contact.id : '?';
  const base = String(kind || '').split(':')[0];
  return t(`contact.anonymous.${ANONYMOUS_KINDS.has(base) ? base : 'customer'}`, { number });
}

/** The conversation's customer as named in lists, headers and notifications. */
export function customerName(c) {
  return contactName(c && c.contact, c && c.channel && c.channel.kind);
}

/** An escalation reason code (bot/escalation.py) in words; an unknown one reads `fallback` (a catalogue key). */
export function reasonText(code, fallback = 'message.no_reason') {
  return code && has(`escalation.${code}`) ? t(`escalation.${code}`) : t(fallback);
}

/** The detail under a hand-off reason: for "window closed" it names the reason the bot had (a code), in words. */
export function reasonDetail(esc) {
  if (!esc || !esc.detail) return null;
  const detail = String(esc.detail);
  if (esc.reason === 'window_closed' && has(`escalation.${detail}`)) {
    return t('escalation_card.window_closed_because', { reason: t(`escalation.${detail}`) });
  }
  return t('escalation_card.detail', { detail });
}

/** How the bot picked the script (bot/matching/registry.py, "clarified", "menu", "running") in words. */
export function methodText(code) {
  return code && has(`bot.methods.${code}`) ? t(`bot.methods.${code}`) : String(code || '');
}
