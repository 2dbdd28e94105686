// Operator preferences: read from the server (GET/PUT /auth/me/preferences), mirrored in localStorage so the
// next page load starts in the right language and theme before the network answers.

import { ApiError, get, put } from './api.js';
import { matchLocale } from './i18n.js';
import { broadcast } from './tabs.js';

const KEY = 'helpline.prefs';
export const DEFAULTS = {
  locale: null, time_zone: null, hour_cycle: null, theme: 'system', sound: false, notifications: false,
  shortcuts: true, saved_views: [],
};

export const prefs = { ...DEFAULTS, ...readLocal() };

function readLocal() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || '{}');
  } catch {
    return {};
  }
}

function writeLocal() {
  try {
    localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    /* private mode: preferences still live for this page */
  }
}

// The fields the server keeps (PUT replaces the whole object and refuses unknown fields).
const SERVER_FIELDS = ['locale', 'time_zone', 'hour_cycle', 'theme', 'sound', 'notifications', 'shortcuts', 'saved_views'];

// What the server answers for an operator who never saved anything: then the browser's language applies.
const SERVER_DEFAULTS = JSON.stringify({ locale: 'en', time_zone: null, hour_cycle: null, theme: 'system', sound: false,
  notifications: false, shortcuts: true, saved_views: [] });

/** Fetch the server's copy; a server without the endpoint keeps the local one. `quiet401`: see api.js. */
export async function loadRemote({ quiet401 = false } = {}) {
  try {
    const remote = await get('/auth/me/preferences', {}, { quiet401 });
    const pristine = JSON.stringify(Object.fromEntries(SERVER_FIELDS.map((key) => [key, remote[key] ?? null]))) === SERVER_DEFAULTS;
    const local = readLocal();
    Object.assign(prefs, DEFAULTS, remote);
    if (pristine) prefs.locale = local.locale || null;
    writeLocal();
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
  }
  return prefs;
}

/** The server's shape: a concrete locale, saved views as {name, query} with the query without its "?". */
function forServer() {
  const body = {};
  for (const key of SERVER_FIELDS) body[key] = prefs[key];
  body.locale = matchLocale(prefs.locale || navigator.language);
  body.saved_views = (prefs.saved_views || []).map((view) => ({ name: view.name, query: String(view.query || '').replace(/^\?/, '') }));
  return body;
}

/** Change some preferences; saved locally at once and on the server (throws ApiError if it refuses). */
export async function save(changes) {
  Object.assign(prefs, changes);
  writeLocal();
  applyTheme();
  window.dispatchEvent(new CustomEvent('helpline:prefs', { detail: prefs }));
  try {
    Object.assign(prefs, await put('/auth/me/preferences', forServer()));
    writeLocal();
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
  }
  broadcast({ type: 'prefs' });
  return prefs;
}

export function forget() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    /* nothing stored */
  }
}

/** The theme on <html data-theme>: light or dark when chosen, absent to follow the system. */
export function applyTheme() {
  const root = document.documentElement;
  if (prefs.theme === 'light' || prefs.theme === 'dark') root.dataset.theme = prefs.theme;
  else delete root.dataset.theme;
}

/** Take another tab's copy (localStorage) without a network round trip. */
export function reloadLocal() {
  Object.assign(prefs, DEFAULTS, readLocal());
  return prefs;
}
