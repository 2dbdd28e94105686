// One timeline item: a message bubble (sender, time, body, attachments, ticks) or a centred system line/event.
// Everything the customer wrote becomes text; links are built only for http(s)/mailto/tel (ui-guide §2).

import { h, icon, safeHref } from '../dom.js';
import { answerValue, bytes, full, time } from '../format.js';
import { has, t } from '../i18n.js';
import { renderMarkdown } from '../markdown.js';
import { fullMessage, subjectLine } from './email.js';
import { customerName, reasonDetail, reasonText, summaryLines } from '../names.js';

const MEDIA_KINDS = new Set(['image', 'video', 'audio', 'document', 'sticker', 'attachment', 'text', 'template',
  'interactive', 'button', 'postback', 'location', 'contacts', 'event', 'unsupported', 'system']);

/** The author's name as shown: contact name, "Bot", operator name or "You", "System". */
export function authorName(m, c, me) {
  if (m.author_kind === 'contact') return c ? customerName(c) : t('contact.unnamed');
  if (m.author_kind === 'bot') return t('author.bot');
  if (m.author_kind === 'operator') {
    if (m.operator && me && m.operator.id === me.id) return t('author.you');
    return (m.operator && m.operator.name) || t('author.operator');
  }
  return t('author.system');
}

/** When a message happened, which places it in the timeline: the provider's time for a customer's message (one
 * delivered late sits where it was written), Helpline's for its own; a pending send has only its local time. */
export function placedAt(m) {
  return m.occurred_at || m.created_at;
}

/** Same author (kind + operator) within 5 minutes: the second bubble has no header. */
export function sameRun(a, b) {
  if (!a || !b || a.content_type === 'event' || b.content_type === 'event') return false;
  if (a.author_kind === 'system' || b.author_kind === 'system') return false;
  if (a.author_kind !== b.author_kind) return false;
  if ((a.operator && a.operator.id) !== (b.operator && b.operator.id)) return false;
  return new Date(placedAt(b)) - new Date(placedAt(a)) < 5 * 60000;
}

/** The bot's caption from content.bot: "Seguro auto · step 2 of 5", "From article: Horários". */
export function botCaption(bot) {
  if (!bot || typeof bot !== 'object') return null;
  const progress = bot.progress || {};
  const name = bot.script && bot.script.name;
  if (bot.kind === 'article' && bot.article) return t('message.bot_article', { title: String(bot.article.title || '') });
  if (name && bot.kind === 'closing') return t('message.bot_done', { script: String(name) });
  if (name && progress.steps_total) {
    return t('message.bot_step', { script: String(name), step: Math.min(progress.steps_done + 1, progress.steps_total),
      total: progress.steps_total });
  }
  if (name) return String(name);
  if (bot.kind && has(`message.bot_kind.${bot.kind}`)) return t(`message.bot_kind.${bot.kind}`);
  return null;
}

/** Delivery state in words (icon + text, never colour alone). */
export function tickOf(m) {
  const state = m.pending ? (m.failed ? 'failed' : 'sending') : m.delivery_state;
  const icons = { sending: 'clock', queued: 'clock', sent: 'check', delivered: 'check-check', read: 'check-check',
    failed: 'circle-alert' };
  if (!icons[state]) return null;
  const shown = state === 'queued' ? 'sending' : state;
  return { state: shown, icon: icons[state], label: t(`delivery.${shown}`) };
}

// Meta's numeric codes by what they mean to an operator (channels/meta/errors.py READABLE, REAUTH_CODES, …).
const META_CODES = {
  auth: [0, 102, 190], rate_limited: [1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056, 133004],
  window_closed: [131047], invalid_recipient: [131026, 551], media_error: [131052, 131053], unsupported_type: [131051],
  template: [132000, 132001, 132005, 132007, 132012, 132015, 132016], policy: [368], parameter: [100],
};
const WINDOW_SUBCODES = ['2018278', '2018065', '2534022'];

/** The catalogue key (delivery_error.*) for a stored error code: the channels' own codes, Meta's numbers
 * ("131047", "10/2018278"), SMTP replies ("smtp_550"), a bounce's DSN status ("5.1.1"); null when unknown. */
export function deliveryErrorKey(code) {
  if (code === null || code === undefined || code === '') return null;
  const text = String(code);
  if (/^[a-z_]+$/.test(text)) return has(`delivery_error.${text}`) ? `delivery_error.${text}` : null;
  if (/^http_\d{3}$/.test(text)) return 'delivery_error.http_status'; // the API channel's callback answered

  const [main, sub] = text.split('/');
  if (/^\d+$/.test(main)) {
    if (main === '10') return WINDOW_SUBCODES.includes(sub) ? 'delivery_error.window_closed' : 'delivery_error.permission';
    const group = Object.keys(META_CODES).find((key) => META_CODES[key].includes(Number(main)));
    return `delivery_error.${group || 'meta_error'}`;
  }
  const smtp = /^smtp_(\d)\d\d$/.exec(text);
  if (smtp) return smtp[1] === '4' ? 'delivery_error.smtp_temporary' : 'delivery_error.smtp_refused';
  if (/^5\.1\.\d{1,3}$/.test(text)) return 'delivery_error.bad_address';
  if (/^[45]\.\d{1,3}\.\d{1,3}$/.test(text)) return 'delivery_error.bounce';
  return null;
}

function reasonWords(m) {
  const key = deliveryErrorKey(m.error_code);
  const status = /^http_(\d{3})$/.exec(String(m.error_code || ''));
  return (key && t(key, { status: status ? status[1] : '' })) || m.error_reason || t('message.no_reason');
}

/** "Not delivered: <reason in words>" with the provider's own words beneath when they differ. */
export function failureText(m) {
  if (m.failed && m.failure) return m.failure;
  return t('message.not_delivered', { reason: reasonWords(m) });
}

/** For a reply still queued whose last attempt failed (the outbox retries it): "Not delivered yet: <reason> —
 * retrying"; null when no attempt has failed yet. */
export function retryingText(m) {
  if (m.pending || m.direction !== 'outbound' || m.delivery_state !== 'queued' || !(m.error_code || m.error_reason)) {
    return null;
  }
  return t('message.retrying', { reason: reasonWords(m) });
}

function middleTruncate(name, max = 36) {
  const chars = Array.from(String(name || ''));
  if (chars.length <= max) return chars.join('');
  const keep = Math.floor((max - 1) / 2);
  return `${chars.slice(0, keep).join('')}…${chars.slice(chars.length - keep).join('')}`;
}

function attachmentView(a, env) {
  const href = safeHref(a.url);
  const kind = String(a.content_type || '').split('/')[0];
  if (a.state === 'pending' || a.state === 'uploading') {
    return h('li', { class: 'attachment pending' }, icon('clock'),
      h('span', {}, a.state === 'uploading' ? t('attachment.uploading', { name: middleTruncate(a.filename) })
        : t('attachment.fetching', { channel: env.channelName })));
  }
  if (a.error || (a.state && !['stored', 'local'].includes(a.state))) {
    return h('li', { class: 'attachment error' }, icon('circle-alert'),
      h('span', { title: a.filename }, middleTruncate(a.filename)),
      h('span', {}, t('attachment.failed', { reason: a.error || a.state })));
  }
  if (kind === 'image' && href) {
    return h('li', { class: 'attachment image' },
      h('button', { type: 'button', class: 'thumb', 'aria-label': t('attachment.open_image', { name: a.filename }),
        onclick: () => env.openImage(a) },
      h('img', { src: href, alt: a.filename, loading: 'lazy', decoding: 'async', width: '240', height: '180' })));
  }
  if ((kind === 'audio' || kind === 'video') && href) {
    return h('li', { class: `attachment ${kind}` },
      h(kind, { controls: true, preload: 'none', src: href, 'aria-label': a.filename, class: 'media' }),
      h('a', { href, download: a.filename, class: 'file-name', title: a.filename }, middleTruncate(a.filename)));
  }
  return h('li', { class: 'attachment file' }, icon(kind === 'image' ? 'image' : 'file-text'),
    h('span', { class: 'file-name', title: a.filename }, middleTruncate(a.filename)),
    h('span', { class: 'muted' }, bytes(a.size || 0)),
    href ? h('a', { class: 'icon-button', href, download: a.filename, 'aria-label': t('attachment.download', { name: a.filename }),
      title: t('attachment.download', { name: a.filename }) }, icon('download')) : null);
}

function locationView(loc) {
  const lat = Number(loc.latitude);
  const lng = Number(loc.longitude);
  const label = [loc.name, loc.address].filter(Boolean).map(String).join(' — ');
  const url = loc.url ? safeHref(String(loc.url))
    : Number.isFinite(lat) && Number.isFinite(lng) ? `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=16/${lat}/${lng}` : null;
  return h('div', { class: 'location' }, icon('map-pin'),
    h('span', {}, label || (Number.isFinite(lat) ? `${lat.toFixed(5)}, ${lng.toFixed(5)}` : t('message.location'))),
    url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, t('message.open_map')) : null);
}

function copyButton(value, label) {
  return h('button', { type: 'button', class: 'icon-button small', 'aria-label': t('conversation.copy_value', { value: label }),
    title: t('common.copy'), onclick: () => navigator.clipboard && navigator.clipboard.writeText(String(value)) }, icon('copy'));
}

function contactCards(cards) {
  return cards.filter((card) => card && typeof card === 'object').map((card) => {
    const name = (card.name && (card.name.formatted_name || card.name.first_name)) || t('contact.unnamed');
    const rows = [];
    for (const p of card.phones || []) if (p && p.phone) rows.push([t('message.card_phone'), String(p.phone)]);
    for (const e of card.emails || []) if (e && e.email) rows.push([t('message.card_email'), String(e.email)]);
    return h('div', { class: 'contact-card' }, h('p', { class: 'card-name' }, icon('contact'), h('span', {}, String(name))),
      h('dl', {}, rows.map(([label, value]) => [h('dt', {}, label), h('dd', {}, h('span', {}, value), copyButton(value, label))])));
  });
}

function bodyOf(m, env) {
  const content = m.content || {};
  const parts = [];
  if (m.content_type === 'template' && content.template) {
    const lang = content.template.language && (content.template.language.code || content.template.language);
    parts.push(h('p', { class: 'template-tag' }, icon('layout-template'),
      h('span', {}, t('message.template', { name: String(content.template.name || ''), language: String(lang || '') }))));
  }
  const subject = subjectLine(m);
  if (subject) parts.push(subject);
  // The widget's Markdown subset, built node by node (never innerHTML); what a customer wrote shows link targets.
  if (m.text) parts.push(h('div', { class: 'message-text rich' }, renderMarkdown(m.text, { revealTargets: m.author_kind === 'contact' })));
  if (content.location && typeof content.location === 'object') parts.push(locationView(content.location));
  if (Array.isArray(content.contacts)) parts.push(contactCards(content.contacts));
  if (content.interactive && !m.text) parts.push(h('p', { class: 'message-text' }, String(content.interactive.title || '')));
  const original = fullMessage(m);
  if (original) parts.push(original);
  if (m.attachments && m.attachments.length) parts.push(h('ul', { class: 'attachments' }, m.attachments.map((a) => attachmentView(a, env))));
  if (!parts.length) {
    const type = content.unsupported ? String(content.unsupported.type || m.content_type) : m.content_type;
    parts.push(h('p', { class: 'unsupported' }, icon('info'),
      h('span', {}, has(`message.unsupported_kind.${type}`) ? t(`message.unsupported_kind.${type}`)
        : t('message.unsupported', { type: MEDIA_KINDS.has(type) ? t('message.unknown') : String(type) }))));
  }
  return parts;
}

function quoteOf(m, env) {
  if (!m.reply_to_id) return null;
  const target = env.byId(m.reply_to_id);
  const first = target ? String(target.text || (target.attachments[0] && target.attachments[0].filename) || '').split('\n')[0]
    : t('message.quote_missing');
  return h('button', { type: 'button', class: 'quote', onclick: () => env.jump(m.reply_to_id),
    'aria-label': t('message.quote_label', { text: first }) },
  icon('reply'), h('span', { class: 'quote-author' }, target ? authorName(target, env.conversation, env.me) : ''),
  h('span', { class: 'quote-text' }, first));
}

function reactionsOf(m) {
  const list = (m.content && Array.isArray(m.content.reactions)) ? m.content.reactions : [];
  if (!list.length) return null;
  const counts = new Map();
  for (const r of list) if (r && r.emoji) counts.set(String(r.emoji), (counts.get(String(r.emoji)) || 0) + 1);
  return h('ul', { class: 'reactions', 'aria-label': t('message.reactions') },
    [...counts].map(([emoji, n]) => h('li', { class: 'reaction' }, emoji, n > 1 ? h('span', {}, String(n)) : null)));
}

function failureBlock(m, env) {
  const actions = [];
  if (m.pending) {
    if (m.retryable) actions.push(['refresh-cw', t('message.retry'), () => env.retry(m)]);
    if (m.text && !env.locked && m.content_type !== 'template') actions.push(['pencil', t('message.edit'), () => env.edit(m)]);
    if (m.windowClosed && env.templates) actions.push(['layout-template', t('message.as_template'), () => env.asTemplate(m)]);
    actions.push(['trash-2', t('message.discard'), () => env.discard(m)]);
  } else {
    if (m.text && !env.locked && m.content_type !== 'template') actions.push(['pencil', t('message.edit'), () => env.edit(m)]);
    if (env.templates) actions.push(['layout-template', t('message.as_template'), () => env.asTemplate(m)]);
  }
  return h('div', { class: 'failure' },
    h('p', { class: 'failure-text' }, failureText(m)),
    !m.pending && m.error_reason && deliveryErrorKey(m.error_code)
      ? h('p', { class: 'failure-detail muted' }, m.error_reason) : null,
    h('div', { class: 'failure-actions' }, actions.map(([ic, label, run]) =>
      h('button', { type: 'button', class: 'button small', onclick: run }, icon(ic), h('span', {}, label)))));
}

/** A timeline event (content_type "event") as one centred sentence, or the escalation card. */
export function eventText(m, env) {
  const c = m.content || {};
  const actor = c.actor && c.actor.name ? (env.me && c.actor.id === env.me.id ? t('author.you') : String(c.actor.name))
    : null;
  const who = actor || t('event.someone');
  switch (c.event) {
    case 'took_over': return t('event.took_over', { operator: who });
    case 'handed_back': return t('event.handed_back', { operator: who });
    case 'assigned': {
      const toMe = env.me && c.assignee && c.assignee.id === env.me.id;
      const self = c.actor && c.assignee && c.actor.id === c.assignee.id;
      if (toMe) return actor && !self ? t('event.assigned_me_by', { operator: actor }) : t('event.assigned_me');
      const to = c.assignee && c.assignee.name ? String(c.assignee.name) : '?';
      return actor && !self ? t('event.assigned_by', { assignee: to, operator: actor }) : t('event.assigned', { assignee: to });
    }
    case 'unassigned': return t('event.unassigned', { operator: who });
    case 'resolved': return t('event.resolved', { operator: who });
    case 'reopened': return t('event.reopened', { operator: who });
    case 'snoozed': return t('event.snoozed', { operator: who, until: c.until ? env.when(c.until) : '?' });
    case 'event_changed': return c.to && c.to.name ? t('event.event_set', { operator: who, event: String(c.to.name) })
      : t('event.event_cleared', { operator: who });
    case 'priority_changed': return t('event.priority', { operator: who, priority: t(`priority.${c.to || 'none'}`) });
    case 'tags_changed': return t('event.tags', { operator: who,
      added: (c.added || []).map(String).join(', ') || '—', removed: (c.removed || []).map(String).join(', ') || '—' });
    case 'escalated': return t('event.escalated', { reason: reasonText(c.reason) });
    default: return t('event.unknown', { event: String(c.event || m.content_type) });
  }
}

export { reasonText };

/** The hand-off summary, in the operator's language (see names.summaryLines). */
export function summaryBlock(esc) {
  const lines = summaryLines(esc, answerValue);
  return lines.length ? h('div', { class: 'summary' }, lines.map((line) => h('p', {}, line))) : null;
}

const EVENT_ICONS = { took_over: 'hand', handed_back: 'bot', assigned: 'user-check', unassigned: 'user', resolved: 'circle-check',
  reopened: 'rotate-ccw', snoozed: 'alarm-clock', event_changed: 'calendar', priority_changed: 'flag', tags_changed: 'tag',
  escalated: 'triangle-alert' };

/**
 * The article for one message. env = {conversation, me, header (bool: first of an author run), byId(id), jump(id),
 * openImage(att), retry/edit/asTemplate/discard(m), templates (bool), channelName, when(iso), escalation (obj|null)}.
 */
export function renderMessage(m, env) {
  const created = placedAt(m);
  const stamp = h('time', { datetime: created, title: full(created), tabindex: '-1' }, time(created));
  if (m.content_type === 'event') {
    const escalated = m.content.event === 'escalated';
    const text = eventText(m, env);
    const card = escalated && env.escalation ? h('details', { class: 'escalation-details' },
      h('summary', {}, t('escalation_card.summary_toggle')),
      env.escalation.detail ? h('p', {}, reasonDetail(env.escalation)) : null,
      summaryBlock(env.escalation)) : null;
    return h('article', { class: ['message', 'from-system', 'event', escalated && 'escalation'], tabindex: '-1',
      'aria-label': `${text}, ${full(created)}`, dataset: { id: String(m.id) } },
    h('p', { class: 'event-line' }, icon(EVENT_ICONS[m.content && m.content.event] || (escalated ? 'triangle-alert' : 'info')),
      h('span', {}, text), stamp),
    card);
  }
  const author = authorName(m, env.conversation, env.me);
  const tick = m.direction === 'outbound' ? tickOf(m) : null;
  const failed = tick && tick.state === 'failed';
  const caption = m.author_kind === 'bot' ? botCaption(m.content && m.content.bot) : null;
  const id = `msg-${m.id}`;
  return h('article', {
    class: ['message', m.author_kind === 'system' ? 'from-notice' : `from-${m.author_kind}`, m.direction, env.header ? 'run-start' : 'run-cont', failed && 'failed',
      m.operator && env.me && m.operator.id === env.me.id && 'mine'],
    tabindex: '-1', id, 'aria-label': t('message.label', { author, time: full(created) }), 'aria-describedby': tick ? `${id}-tick` : null,
    dataset: { id: String(m.id) },
  },
  h('div', { class: ['message-meta', !env.header && 'sr-only'], id: `${id}-who` },
    m.author_kind === 'bot' ? icon('bot') : null,
    h('span', { class: 'message-author' }, author),
    m.author_kind === 'contact' && env.identity && env.identity !== author ? h('span', { class: 'identity' }, env.identity) : null,
    caption ? h('span', { class: 'bot-caption' }, caption) : null),
  quoteOf(m, env),
  bodyOf(m, env),
  reactionsOf(m),
  h('div', { class: 'message-foot' }, stamp,
    tick ? h('span', { class: ['ticks', `state-${tick.state}`], id: `${id}-tick` }, icon(tick.icon), h('span', {}, tick.label)) : null),
  failed ? failureBlock(m, env) : null,
  retryingLine(m));
}

function retryingLine(m) {
  const text = retryingText(m);
  return text ? h('p', { class: 'retrying muted', title: m.error_reason || '' }, icon('refresh-cw'), h('span', {}, text))
    : null;
}
