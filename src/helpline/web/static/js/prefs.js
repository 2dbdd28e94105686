// Operator preferences: read from the server (GET/PUT /auth/me/preferences), mirrored in localStorage so the
// next page load starts in the right language and theme before the network answers.

import { ApiError, get, put } from './api.js';
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

/** Fetch the server's copy; a server without the endpoint keeps the local one. */
export async function loadRemote() {
  try {
    Object.assign(prefs, DEFAULTS, await get('/auth/me/preferences'));
    writeLocal();
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
  }
  return prefs;
}

/** Change some preferences; saved locally at once and on the server (throws ApiError if it refuses). */
export async function save(changes) {
  Object.assign(prefs, changes);
  writeLocal();
  applyTheme();
  window.dispatchEvent(new CustomEvent('helpline:prefs', { detail: prefs }));
  try {
    Object.assign(prefs, await put('/auth/me/preferences', prefs));
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
