// What each channel kind needs: its settings and credentials fields (the adapters' real names, see
// channels/*/payloads.py and meta/settings.py), where to find each value, and client-side checks.

import { h } from '../dom.js';
import { t } from '../i18n.js';

export const KIND_ORDER = ['whatsapp', 'messenger', 'instagram', 'email', 'api', 'widget'];
export const META_KINDS = new Set(['whatsapp', 'messenger', 'instagram']);

const DIGITS = /^\d{1,32}$/;

/** "Where to find it" as a short ordered list of steps from the catalogue (`admin.where.<key>`: array-free). */
function where(key) {
  return () => h('div', {}, h('p', {}, t(`admin.where.${key}`)));
}

/** A phone number typed where Meta's numeric ID belongs: "+55 11 9…", or 8–13 digits (IDs run to 15+). */
export function looksLikePhone(value) {
  const raw = String(value || '').trim();
  if (!raw) return false;
  if (/^\+|[\s()\-.]/.test(raw) && /\d{6,}/.test(raw.replace(/\D/g, ''))) return true;
  return /^\d{8,13}$/.test(raw);
}

function digitsCheck(value) {
  if (!value) return null;
  return DIGITS.test(value) ? null : t('admin.channels.errors.digits');
}

function emailCheck(value) {
  if (!value) return null;
  return /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(value) ? null : t('admin.channels.errors.email');
}

function urlCheck(value) {
  if (!value) return null;
  try {
    const url = new URL(value);
    return ['http:', 'https:'].includes(url.protocol) ? null : t('admin.channels.errors.url');
  } catch {
    return t('admin.channels.errors.url');
  }
}

/** A comma- or space-separated list of web origins (scheme://host[:port], nothing after). */
export function originsCheck(value) {
  const items = splitList(value);
  return items.every((item) => /^https?:\/\/[^/\s?#]+$/i.test(item.replace(/\/$/, ''))) ? null : t('admin.channels.errors.origins');
}

export function splitList(value) {
  return String(value || '').split(/[\s,]+/).map((item) => item.trim()).filter(Boolean);
}

function colorCheck(value) {
  if (!value) return null;
  return /^#[0-9a-f]{6}$/i.test(value) ? null : t('admin.channels.errors.color');
}

// Each field: key, in ('settings' | 'credentials'), required, secret, check(value) → error text, where (key),
// hint key, phoneNote (warn on blur when it looks like a phone number), list (sent as an array of the
// comma-separated values), options (a choice among fixed values; labels `admin.channels.choices.<key>.<value>`).
export const KINDS = {
  whatsapp: {
    fields: [
      { key: 'phone_number_id', in: 'settings', required: true, check: digitsCheck, where: where('phone_number_id'),
        phoneNote: true, inputmode: 'numeric' },
      { key: 'waba_id', in: 'settings', required: false, check: digitsCheck, where: where('waba_id'), inputmode: 'numeric',
        hint: 'waba_id' },
      { key: 'display_phone_number', in: 'settings', required: false, hint: 'display_phone_number' },
      { key: 'access_token', in: 'credentials', required: true, secret: true, where: where('whatsapp_token'),
        warning: 'whatsapp_token', minLength: 8 },
    ],
    toggles: [{ key: 'mark_read', default: true }, { key: 'bot_enabled', default: true }],
  },
  messenger: {
    fields: [
      { key: 'page_id', in: 'settings', required: true, check: digitsCheck, where: where('page_id'), inputmode: 'numeric' },
      { key: 'access_token', in: 'credentials', required: true, secret: true, where: where('page_token'), minLength: 8 },
    ],
    toggles: [{ key: 'bot_enabled', default: true }],
  },
  instagram: {
    fields: [
      { key: 'ig_account_id', in: 'settings', required: true, check: digitsCheck, where: where('ig_account_id'),
        inputmode: 'numeric' },
      { key: 'page_id', in: 'settings', required: false, check: digitsCheck, where: where('ig_page_id'), inputmode: 'numeric',
        hint: 'ig_page_id' },
      { key: 'graph_url', in: 'settings', required: false, check: urlCheck, hint: 'graph_url', type: 'url' },
      { key: 'access_token', in: 'credentials', required: true, secret: true, where: where('ig_token'), minLength: 8 },
    ],
    toggles: [{ key: 'bot_enabled', default: true }],
  },
  api: {
    fields: [
      { key: 'callback_url', in: 'settings', required: false, check: urlCheck, hint: 'callback_url', type: 'url' },
      { key: 'secret', in: 'credentials', required: false, secret: true, hint: 'api_secret', minLength: 16 },
    ],
    toggles: [{ key: 'bot_enabled', default: true }],
  },
  // channels/email/settings.py: server, security and sign-in; secrets go to credentials.
  email: {
    fields: [
      { key: 'from_address', in: 'settings', required: true, check: emailCheck, hint: 'from_address', type: 'email' },
      { key: 'display_name', in: 'settings', required: false, hint: 'display_name' },
      { key: 'imap_host', in: 'settings', required: true },
      { key: 'imap_port', in: 'settings', required: false, check: digitsCheck, hint: 'imap_port', inputmode: 'numeric' },
      { key: 'imap_security', in: 'settings', required: false, options: ['tls', 'starttls', 'none'] },
      { key: 'mailbox', in: 'settings', required: false, hint: 'mailbox' },
      { key: 'smtp_host', in: 'settings', required: true },
      { key: 'smtp_port', in: 'settings', required: false, check: digitsCheck, hint: 'smtp_port', inputmode: 'numeric' },
      { key: 'smtp_security', in: 'settings', required: false, options: ['starttls', 'tls', 'none'] },
      { key: 'auth', in: 'settings', required: false, options: ['password', 'oauth2'] },
      { key: 'username', in: 'credentials', required: false, hint: 'username' },
      { key: 'password', in: 'credentials', required: false, secret: true, hint: 'email_password' },
      { key: 'oauth_token_url', in: 'settings', required: false, check: urlCheck, hint: 'oauth_token_url', type: 'url' },
      { key: 'oauth_client_id', in: 'settings', required: false },
      { key: 'oauth_scope', in: 'settings', required: false, hint: 'oauth_scope' },
      { key: 'oauth_client_secret', in: 'credentials', required: false, secret: true },
      { key: 'oauth_refresh_token', in: 'credentials', required: false, secret: true },
      { key: 'poll_interval_seconds', in: 'settings', required: false, check: digitsCheck, hint: 'poll_interval_seconds',
        inputmode: 'numeric' },
    ],
    toggles: [{ key: 'use_idle', default: true }, { key: 'continue_open_conversation', default: false },
      { key: 'bot_enabled', default: false }],
  },
  widget: {
    fields: [
      { key: 'allowed_origins', in: 'settings', required: true, list: true, check: originsCheck, hint: 'allowed_origins', type: 'text' },
      { key: 'title', in: 'settings', required: false, hint: 'title' },
      { key: 'greeting', in: 'settings', required: false, hint: 'greeting' },
      { key: 'theme_color', in: 'settings', required: false, check: colorCheck, hint: 'theme_color' },
      { key: 'avatar_url', in: 'settings', required: false, check: urlCheck, hint: 'avatar_url', type: 'url' },
      { key: 'position', in: 'settings', required: false, options: ['right', 'left'] },
      { key: 'locale', in: 'settings', required: false, options: ['auto', 'en', 'pt'] },
      { key: 'pre_chat_form', in: 'settings', required: false, options: ['optional', 'required', 'off'] },
      { key: 'email_channel_id', in: 'settings', required: false, check: digitsCheck, hint: 'email_channel_id', inputmode: 'numeric' },
      { key: 'identity_secret', in: 'credentials', required: false, secret: true, hint: 'identity_secret', minLength: 16 },
    ],
    toggles: [{ key: 'bot_enabled', default: true }],
  },
};

/** The webhook fields each Meta product must subscribe to (provider-contracts §5). */
export const SUBSCRIBE = {
  whatsapp: ['messages', 'message_template_status_update'],
  messenger: ['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes'],
  instagram: ['messages', 'messaging_postbacks', 'message_reactions', 'messaging_seen'],
};

/**
 * Check one field's value: required, minimum length, its own check. Returns an error sentence or null.
 * `keepStored` = editing an existing channel, where an empty secret keeps the stored one.
 */
export function checkField(spec, value, { keepStored = false } = {}) {
  const text = String(value ?? '').trim();
  if (!text) {
    if (spec.required && !(spec.secret && keepStored)) return t('admin.form.required', { field: t(`admin.channels.fields.${spec.key}`) });
    return null;
  }
  if (spec.minLength && text.length < spec.minLength) return t('admin.channels.errors.too_short', { count: spec.minLength });
  return spec.check ? spec.check(text) : null;
}

/** {settings, credentials} for the API from the form values, dropping empty optional values. */
export function payload(kind, values, { keepStored = false, baseSettings = {} } = {}) {
  const spec = KINDS[kind] || { fields: [], toggles: [] };
  const settings = { ...baseSettings };
  const credentials = {};
  let hasCredentials = false;
  for (const item of spec.fields) {
    const value = String(values[item.key] ?? '').trim();
    if (item.in === 'settings') {
      if (value) settings[item.key] = item.list ? splitList(value) : value;
      else delete settings[item.key];
    } else if (value) {
      credentials[item.key] = value;
      hasCredentials = true;
    }
  }
  for (const toggle of spec.toggles) {
    settings[toggle.key] = values[toggle.key] ?? toggle.default;
  }
  return { settings, credentials: hasCredentials || !keepStored ? credentials : null };
}
