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

/** A script step's key ("policy_number") as a label: the step's question when the hand-off carries it. */
export function fieldLabel(key, esc = null) {
  const field = esc && (esc.fields || []).find((f) => f && f.key === key && f.question);
  if (field) return String(field.question);
  const text = String(key || '').replace(/[_-]+/gu, ' ').trim();
  return text ? text[0].toUpperCase() + text.slice(1) : '';
}

// The words bot/flow.py writes for low confidence (an English sentence today): read back as a count.
const UNCLEAR = /^(\d+) unclear messages? in a row$/;

/** The detail under a hand-off reason, in words: the step the answers failed at, the unclear-message count, the
 * reason the bot had when the window had closed; other details (a keyword, a provider's error) as they are. */
export function reasonDetail(esc) {
  if (!esc || !esc.detail) return null;
  const detail = String(esc.detail);
  if (esc.reason === 'window_closed' && has(`escalation.${detail}`)) {
    return t('escalation_card.window_closed_because', { reason: t(`escalation.${detail}`) });
  }
  // `params` is the hand-off's facts as data (bot.schemas.EscalationRecord); the text is read for older records.
  const params = esc.params || {};
  if (esc.reason === 'failed_answers') {
    const step = params.step_label ? String(params.step_label) : fieldLabel(params.step || detail, esc);
    return t('escalation_card.failed_step', { step });
  }
  if (esc.reason === 'low_confidence' && Number.isInteger(params.count)) return t('escalation_card.unclear', { count: params.count });
  const unclear = esc.reason === 'low_confidence' && UNCLEAR.exec(detail);
  if (unclear) return t('escalation_card.unclear', { count: Number(unclear[1]) });
  return t('escalation_card.detail', { detail });
}

// bot/handoff.py's rule summary (no LLM): "Script: N (completed). Collected: k=v; k=v. Reason: code (detail).
// Customer said: "…" / "…"" — English and codes, so it is rebuilt in the operator's language from its parts.
const RULE_SUMMARY = /^(?:Script: (.*?)( \(completed\))?\. (?=Collected: |Reason: ))?(?:Collected: (.*?)\. (?=Reason: ))?Reason: ([a-z_]+)(?: \((.*?)\))?\.(?: Customer said: (.*))?$/su;

/** "k=v; k=v" → [[k, v]…] (keys are step keys: letters, digits, _ and -). */
function pairs(text) {
  return String(text || '').split(/; (?=[\w-]+=)/u).map((part) => {
    const at = part.indexOf('=');
    return at > 0 ? [part.slice(0, at), part.slice(at + 1)] : null;
  }).filter(Boolean);
}

/**
 * A hand-off summary as lines in the operator's language: a rule summary is rebuilt from its parts (reason and
 * detail in words, answers labelled and formatted by `value(text)`); any other summary (an LLM's) is one line as is.
 */
export function summaryLines(esc, value = String) {
  const summary = esc && esc.summary ? String(esc.summary) : '';
  if (!summary) return [];
  const rule = RULE_SUMMARY.exec(summary.trim());
  if (!rule) return [summary];
  const [, script, completed, collected, reason, detail, said] = rule;
  const answers = (esc.fields || []).length ? esc.fields.map((f) => [f.key, f.value]) : pairs(collected);
  const facts = { ...esc, reason: esc.reason || reason, detail: esc.detail ?? detail };
  const lines = [];
  if (script) lines.push(t(completed ? 'escalation_card.script_done' : 'escalation_card.script', { name: script }));
  if (answers.length) {
    lines.push(t('escalation_card.collected', { answers: answers.map(([key, v]) => `${fieldLabel(key, esc)}: ${value(v)}`).join('; ') }));
  }
  const why = reasonText(facts.reason);
  const more = reasonDetail(facts);
  lines.push(t('escalation_card.reason', { reason: more ? `${why} — ${more}` : why }));
  if (said) lines.push(t('escalation_card.said', { words: said }));
  return lines;
}

/** How the bot picked the script (bot/matching/registry.py, "clarified", "menu", "running") in words. */
export function methodText(code) {
  return code && has(`bot.methods.${code}`) ? t(`bot.methods.${code}`) : String(code || '');
}
