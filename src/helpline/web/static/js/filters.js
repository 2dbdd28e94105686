// Inbox filters <-> URL query <-> API query. The URL is the source of truth, so views can be bookmarked.

export const FILTER_KEYS = ['view', 'profile', 'event', 'kind', 'channel', 'status', 'handler', 'assignee', 'window',
  'q', 'sort'];
const MULTI = new Set(['kind', 'status']);

/** Presets in sidebar order (keys 1–7); each is a plain filter set. */
export const PRESETS = [
  { id: 'all', icon: 'inbox', filters: {} },
  { id: 'mine', icon: 'user-check', filters: { assignee: 'me', status: ['open', 'pending'] } },
  { id: 'waiting', icon: 'hand', filters: { waiting: 'true', sort: 'waiting' } },
  { id: 'bot', icon: 'bot', filters: { handler: 'bot', status: ['open', 'pending'] } },
  { id: 'closing', icon: 'clock-alert', filters: { kind: ['whatsapp'], window: 'closing' } },
  { id: 'snoozed', icon: 'alarm-clock', filters: { status: ['snoozed'] } },
  { id: 'resolved', icon: 'circle-check', filters: { status: ['resolved'] } },
];

/** {key: value | [values]} from URLSearchParams; a preset fills in its filters unless overridden. */
export function fromQuery(query) {
  const filters = {};
  for (const key of [...FILTER_KEYS, 'waiting']) {
    const values = query.getAll(key).filter(Boolean);
    if (!values.length) continue;
    filters[key] = MULTI.has(key) ? values : values[0];
  }
  return filters;
}

export function toSearch(filters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== '') params.append(key, item);
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The effective filters: the preset's, then the URL's own on top. */
export function effective(filters) {
  const preset = PRESETS.find((p) => p.id === filters.view);
  return { ...(preset ? preset.filters : {}), ...filters };
}

/** GET /conversations query for the effective filters. */
export function toApi(filters) {
  const f = effective(filters);
  return {
    profile_id: f.profile, event_id: f.event, channel_kind: f.kind, channel_id: f.channel, status: f.status,
    handler: f.handler, assignee: f.assignee, window: f.window, q: f.q, sort: f.sort, waiting: f.waiting,
  };
}

/** Does a conversation (from a frame) match the filters? Equality tests only; `q` is left to the server. */
export function matches(conversation, filters, me) {
  const f = effective(filters);
  const has = (list, value) => !list || !list.length || list.includes(value);
  if (f.profile && String(conversation.profile?.id) !== String(f.profile)) return false;
  if (f.event && String(conversation.event?.id) !== String(f.event)) return false;
  if (!has(f.kind, conversation.channel.kind)) return false;
  if (f.channel && String(conversation.channel.id) !== String(f.channel)) return false;
  if (!has(f.status, conversation.status)) return false;
  if (f.handler && conversation.handler !== f.handler) return false;
  if (f.assignee === 'me' && conversation.assignee?.id !== me.id) return false;
  if (f.assignee === 'none' && conversation.assignee) return false;
  if (f.assignee && !['me', 'none'].includes(f.assignee) && String(conversation.assignee?.id) !== String(f.assignee)) {
    return false;
  }
  if (f.window && conversation.window?.state !== f.window) return false;
  if (f.waiting === 'true' && !conversation.waiting_since) return false;
  return true;
}
