// The JSON API client: same-origin cookie session, the CSRF header on writes, errors as ApiError.

import { describeProblems, errorSentence } from './problems.js';

const BASE = '/api/v1';
const SAFE = new Set(['GET', 'HEAD']);

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    // A validation error (422 with problems) or a known code reads in the operator's language; the server's
    // English stays at hand.
    super((status === 422 && describeProblems(details)) || errorSentence(code) || message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.serverMessage = message;
  }
}

export function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

/** `?a=1&a=2&b=x` from {a: [1, 2], b: 'x'}; empty values are left out. */
export function queryString(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== '') params.append(key, String(item));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * api('GET', '/conversations', {query}) → parsed JSON (null on 204).
 * Options: json (body object), form (FormData), query, signal, quiet401 (do not announce a lost session).
 * Throws ApiError: status 0 / code "network" when the server did not answer.
 */
export async function api(method, path, { json, form, query, signal, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  if (!SAFE.has(method)) {
    const csrf = cookie('helpline_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let response;
  try {
    response = await fetch(BASE + path + queryString(query), {
      method, headers, body, signal, credentials: 'same-origin',
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'the server did not answer');
  }
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get('content-type') || '';
  if (type.includes('json')) {
    try { data = await response.json(); } catch { data = null; }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    if (response.status === 401 && !quiet401) window.dispatchEvent(new CustomEvent('helpline:session-ended'));
    const retryAfter = response.headers.get('retry-after');
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || response.statusText,
      { ...(error.details || {}), ...(retryAfter ? { retry_after: Number(retryAfter) } : {}) });
  }
  return data;
}

export const get = (path, query, options = {}) => api('GET', path, { ...options, query });
export const post = (path, json, options = {}) => api('POST', path, { ...options, json });
export const patch = (path, json, options = {}) => api('PATCH', path, { ...options, json });
export const put = (path, json, options = {}) => api('PUT', path, { ...options, json });
export const del = (path, options = {}) => api('DELETE', path, options);
