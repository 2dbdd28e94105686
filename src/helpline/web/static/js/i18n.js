// The message catalogue: t('inbox.empty.filtered', {count}) → a whole sentence in the operator's language.
// Catalogues are JSON files per locale; values are strings or plural objects {zero?, one, many?, other}.
// Placeholders {name} are replaced by text only (no HTML in catalogues, ever).

import { isolate } from './bidi.js';

export const LOCALES = ['en', 'pt-BR'];
let locale = 'en';
let messages = {};
let fallback = {};
let plurals = new Intl.PluralRules('en');
let numbers = null; // Intl.NumberFormat for the current locale, built on first use

async function loadCatalogue(code) {
  const response = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
  if (!response.ok) throw new Error(`catalogue ${code}: HTTP ${response.status}`);
  return response.json();
}

/** Pick the closest shipped locale for a browser language tag ("pt", "pt-PT" → "pt-BR"). */
export function matchLocale(tag) {
  if (!tag) return 'en';
  if (LOCALES.includes(tag)) return tag;
  const base = tag.toLowerCase().split('-')[0];
  return LOCALES.find((code) => code.toLowerCase().split('-')[0] === base) || 'en';
}

export async function setLocale(code) {
  const chosen = matchLocale(code);
  if (!Object.keys(fallback).length) fallback = await loadCatalogue('en');
  messages = chosen === 'en' ? fallback : await loadCatalogue(chosen);
  locale = chosen;
  numbers = null;
  plurals = new Intl.PluralRules(chosen);
  document.documentElement.lang = chosen;
  window.dispatchEvent(new CustomEvent('helpline:locale', { detail: chosen }));
}

export function currentLocale() {
  return locale;
}

function lookup(table, key) {
  return key.split('.').reduce((node, part) => (node && typeof node === 'object' ? node[part] : undefined), table);
}

function numberFormat() {
  if (!numbers) numbers = new Intl.NumberFormat(locale);
  return numbers;
}

function pluralForm(entry, count) {
  // pt-BR: 0 selects "one" under CLDR; an explicit "zero" wins so every countable string has a real zero.
  if (count === 0 && entry.zero !== undefined) return entry.zero;
  const form = plurals.select(count);
  return entry[form] ?? entry.other;
}

/** Translate `key`; `params.count` selects the plural form; unknown keys come back as the key (and warn). */
export function t(key, params = {}) {
  let entry = lookup(messages, key);
  if (entry === undefined) entry = lookup(fallback, key);
  if (entry === undefined) {
    console.warn(`i18n: missing key ${key}`);
    return key;
  }
  if (typeof entry === 'object') {
    const count = Number(params.count ?? 0);
    entry = pluralForm(entry, count);
    params = { ...params, count: numberFormat().format(count) };
  }
  return String(entry).replace(/\{(\w+)\}/g, (whole, name) => (name in params ? isolate(params[name]) : whole));
}

/** Does the catalogue have this key (for server codes that may be new)? */
export function has(key) {
  return lookup(messages, key) !== undefined || lookup(fallback, key) !== undefined;
}
