// The choices filters offer (profiles, events, channels, operators), fetched once per session and shared by the
// sidebar, the filter chips and the command palette. A failed list is simply empty (the filter still works by id).

import { get } from '../api.js';

let loading = null;
let loaded = { profiles: [], events: [], channels: [], operators: [] };

function listOf(value) {
  return Array.isArray(value) ? value : (value && value.items) || [];
}

/** {profiles, events, channels, operators}: each a list of {id, name, …}; resolves once per session. */
export function loadOptions() {
  if (!loading) {
    loading = Promise.all([
      get('/profiles').catch(() => []), get('/events').catch(() => []), get('/channels').catch(() => []),
      get('/operators').catch(() => []),
    ]).then(([profiles, events, channels, operators]) => {
      loaded = {
        profiles: listOf(profiles), events: listOf(events), channels: listOf(channels),
        operators: listOf(operators).filter((o) => o.active !== false),
      };
      return loaded;
    });
  }
  return loading;
}

/** What is known right now (empty lists before loadOptions resolves). */
export function options() {
  return loaded;
}

/** Forget the lists (logout, or an admin changed them). */
export function resetOptions() {
  loading = null;
  loaded = { profiles: [], events: [], channels: [], operators: [] };
}

export function byId(list, id) {
  return list.find((item) => String(item.id) === String(id)) || null;
}
