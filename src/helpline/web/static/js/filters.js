// Inbox filters <-> URL query <-> API query. The URL is the source of truth, so views can be bookmarked and shared.
// A filter set is a plain object {key: value | [values]}; `view` names a preset whose filters apply underneath.

export const FILTER_KEYS = ['view', 'profile', 'event', 'kind', 'channel', 'status', 'handler', 'assignee', 'window',
  'waiting', 'contact', 'q', 'sort'];
export const MULTI = new Set(['kind', 'status']);

// Every channel kind the server registers (channels/registry.py ADAPTERS; a test keeps the two equal).
export const KINDS = ['whatsapp', 'messenger', 'instagram', 'email', 'widget', 'api'];
export const STATUSES = ['open', 'pending', 'snoozed', 'resolved'];
export const WINDOWS = ['open', 'closing', 'closed'];

/** Presets in sidebar order (keys 1–7, then saved views); each is a plain filter set, the same as the server's
 * preset of that name (GET /conversations/counts → preset_queries), so a count always equals its list. */
export const PRESETS = [
  { id: 'all', icon: 'inbox', filters: {} },
  { id: 'mine', icon: 'user-check', filters: { assignee: 'me', status: ['open', 'pending'] } },
  { id: 'waiting', icon: 'hand', filters: { waiting: 'true', sort: 'waiting' } },
  { id: 'bot', icon: 'bot', filters: { handler: 'bot', status: ['open', 'pending'] } },
  { id: 'closing', icon: 'clock-alert', filters: { window: 'closing', status: ['open', 'pending'] } },
  { id: 'snoozed', icon: 'alarm-clock', filters: { status: ['snoozed'] } },
  { id: 'resolved', icon: 'circle-check', filters: { status: ['resolved'] } },
];

/** {key: value | [values]} from URLSearchParams; unknown keys are ignored. */
export function fromQuery(query) {
  const filters = {};
  for (const key of FILTER_KEYS) {
    const values = query.getAll(key).filter(Boolean);
    if (!values.length) continue;
    filters[key] = MULTI.has(key) ? values : values[0];
  }
  return filters;
}

// The API's own parameter names, as someone may paste them from an API query: read as the inbox's names.
const ALIASES = { channel_kind: 'kind', channel_id: 'channel', profile_id: 'profile', event_id: 'event', contact_id: 'contact' };
const HANDLERS = ['bot', 'human'];
const SORTS = ['recent', 'waiting'];
const ID = /^[1-9]\d{0,15}$/;

/**
 * The URL's filters, checked against what the app knows: {filters, ignored: [{key, value}]}.
 * `known` — {profiles, events, channels, operators} lists of {id, …} once loaded, or null before: then only the fixed
 * vocabularies (status, handler, window, sort, view) and the shape of ids are checked, and a later call with the
 * lists checks that the ids (and channel kinds beyond the fixed ones) exist. Unknown parameters are ignored too (and reported).
 */
export function checkFilters(query, known = null) {
  const filters = {};
  const ignored = [];
  const seen = new Set();
  for (const [raw, value] of query.entries()) {
    const key = ALIASES[raw] || raw;
    if (!FILTER_KEYS.includes(key)) {
      if (value !== '' || raw) ignored.push({ key: raw, value });
      continue;
    }
    if (value === '') continue;
    if (!MULTI.has(key) && seen.has(key)) continue;
    seen.add(key);
    if (!valid(key, value, known)) {
      ignored.push({ key, value });
      continue;
    }
    if (MULTI.has(key)) filters[key] = [...(filters[key] || []), value].filter((v, i, all) => all.indexOf(v) === i);
    else filters[key] = value;
  }
  return { filters, ignored };
}

function valid(key, value, known) {
  // A list that failed to load (empty) proves nothing: the id is kept, and the API decides.
  const has = (list) => !known || !(list || []).length || list.some((item) => String(item.id) === value);
  switch (key) {
    case 'view': return PRESETS.some((p) => p.id === value);
    case 'status': return STATUSES.includes(value);
    // Kinds beyond the sidebar's (a widget, a newer kind) are known by the channels the operator can see.
    case 'kind': return KINDS.includes(value) || !known || !(known.channels || []).length
      || known.channels.some((c) => c.kind === value);
    case 'handler': return HANDLERS.includes(value);
    case 'window': return WINDOWS.includes(value);
    case 'sort': return SORTS.includes(value);
    case 'waiting': return value === 'true';
    case 'q': return true;
    case 'contact': return ID.test(value);
    case 'assignee': return value === 'me' || value === 'none' || (ID.test(value) && has(known && known.operators));
    case 'profile': return ID.test(value) && has(known && known.profiles);
    case 'event': return ID.test(value) && has(known && known.events);
    case 'channel': return ID.test(value) && has(known && known.channels);
    default: return false;
  }
}

/** "?a=1&a=2" from a filter set (empty values left out); '' when nothing is set. */
export function toSearch(filters) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== '') params.append(key, item);
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The same filter set, canonical (for comparisons): keys in order, arrays sorted. */
export function canonical(filters) {
  return toSearch(Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v])));
}

/** The effective filters: the preset's, then the URL's own on top. */
export function effective(filters) {
  const preset = PRESETS.find((p) => p.id === filters.view);
  const { view, ...own } = filters;
  return { ...(preset ? preset.filters : {}), ...own };
}

/** Filters the operator set on top of the view (shown as removable chips). */
export function ownFilters(filters) {
  const { view, ...own } = filters;
  return own;
}

/** GET /conversations query for the effective filters. */
export function toApi(filters) {
  const f = effective(filters);
  return {
    profile_id: f.profile, event_id: f.event, channel_kind: f.kind, channel_id: f.channel, status: f.status,
    handler: f.handler, assignee: f.assignee, window: f.window, q: f.q, sort: f.sort, waiting: f.waiting,
    contact_id: f.contact,
  };
}

/** The conversation's key for the current sort: recent = newest activity first; waiting = oldest wait first. */
export function sortKey(conversation, sort) {
  if (sort === 'waiting') {
    const since = conversation.waiting_since ? Date.parse(conversation.waiting_since) : Infinity;
    return [since, -Date.parse(conversation.last_activity_at), -conversation.id];
  }
  return [-Date.parse(conversation.last_activity_at), -conversation.id];
}

export function compareKeys(a, b) {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * Does a conversation (from a frame) match the filters? Equality tests only; `q` cannot be evaluated here, so
 * while it is set the answer is `null` (unknown: the list raises its pill instead of inserting).
 */
export function matches(conversation, filters, me) {
  const f = effective(filters);
  const has = (list, value) => !list || !list.length || list.includes(value);
  if (f.profile && String(conversation.profile?.id) !== String(f.profile)) return false;
  if (f.event && String(conversation.event?.id) !== String(f.event)) return false;
  if (!has(f.kind, conversation.channel.kind)) return false;
  if (f.channel && String(conversation.channel.id) !== String(f.channel)) return false;
  if (f.contact && String(conversation.contact?.id) !== String(f.contact)) return false;
  if (!has(f.status, conversation.status)) return false;
  if (f.handler && conversation.handler !== f.handler) return false;
  if (f.assignee === 'me' && conversation.assignee?.id !== me.id) return false;
  if (f.assignee === 'none' && conversation.assignee) return false;
  if (f.assignee && !['me', 'none'].includes(f.assignee) && String(conversation.assignee?.id) !== String(f.assignee)) {
    return false;
  }
  if (f.window && conversation.window?.state !== f.window) return false;
  if (f.waiting === 'true' && !conversation.waiting_since) return false;
  if (f.q) return null;
  return true;
}

/** Saved views (preferences.saved_views): [{name, query}] where query is the inbox URL's query string. */
export function savedViewFilters(view) {
  return fromQuery(new URLSearchParams(view.query || ''));
}

/** The saved view whose filters equal these, if any. */
export function activeSavedView(filters, savedViews) {
  const here = canonical(filters);
  return (savedViews || []).find((view) => canonical(savedViewFilters(view)) === here) || null;
}
