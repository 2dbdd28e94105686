// Dates, times and numbers in the operator's locale and time zone (Intl only; no thresholds from the server).

import { currentLocale, t } from './i18n.js';

let timeZone;
let hourCycle;

export function setClock({ timeZone: zone, hourCycle: cycle } = {}) {
  timeZone = zone || undefined;
  hourCycle = cycle || undefined;
}

/** The operator's chosen time zone (IANA name), or undefined for the browser's. */
export function clockZone() {
  return timeZone;
}

// Intl formatters are costly to build (a list row needs several): one per locale, zone and options.
const formatters = new Map();

function fmt(options) {
  const key = JSON.stringify([currentLocale(), timeZone, options]);
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(currentLocale(), { timeZone, ...options });
    formatters.set(key, formatter);
  }
  return formatter;
}

function relativeFormat(style = 'long') {
  const key = `rtf:${currentLocale()}:${style}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.RelativeTimeFormat(currentLocale(), { numeric: 'auto', style });
    formatters.set(key, formatter);
  }
  return formatter;
}

const asDate = (value) => (value instanceof Date ? value : new Date(value));

/** "14:05" (pt-BR is always 24 h; English follows the preference). */
export function time(value) {
  const cycle = currentLocale() === 'pt-BR' ? 'h23' : hourCycle;
  return fmt({ hour: '2-digit', minute: '2-digit', ...(cycle ? { hourCycle: cycle } : {}) }).format(asDate(value));
}

/** A moment ahead or behind: "09:30" when it is today, else with its date ("Mon, 7 Dec, 09:00"; year if not this one). */
export function at(value, now = new Date()) {
  const date = asDate(value);
  if (dayKey(date) === dayKey(now)) return time(date);
  const cycle = currentLocale() === 'pt-BR' ? 'h23' : hourCycle;
  const sameYear = fmt({ year: 'numeric' }).format(date) === fmt({ year: 'numeric' }).format(now);
  return fmt({ weekday: 'short', day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }),
    hour: '2-digit', minute: '2-digit', ...(cycle ? { hourCycle: cycle } : {}) }).format(date);
}

/** An answer the bot collected, for reading: dates ("2026-11-23" → "23 Nov 2026") and moments localised, numbers
 * ungrouped (an order or policy number is an identifier the operator copies: 77120, never "77,120"; only the decimal
 * separator follows the locale), yes/no in words, objects as JSON, the rest as typed. */
export function answerValue(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  // A yes/no step's answer is stored as a boolean: words, not "true".
  if (typeof value === 'boolean') return t(value ? 'bot.answer_yes' : 'bot.answer_no');
  if (typeof value === 'number') {
    return new Intl.NumberFormat(currentLocale(), { useGrouping: false, maximumFractionDigits: 20 }).format(value);
  }
  const text = String(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    // A calendar date, not a moment: shown as that day wherever the operator is.
    return new Intl.DateTimeFormat(currentLocale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${text}T00:00:00Z`));
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) {
    return fmt({ dateStyle: 'medium', timeStyle: 'short' }).format(new Date(text));
  }
  return text;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall clock in `zone` at `date`: {year, month (1–12), day, hour, minute, second, weekday (0 = Sunday)}. */
export function wallClock(date, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short',
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    .formatToParts(date).map((p) => [p.type, p.value]));
  return { year: +parts.year, month: +parts.month, day: +parts.day, hour: +parts.hour % 24, minute: +parts.minute,
    second: +parts.second, weekday: WEEKDAYS.indexOf(parts.weekday) };
}

/** The moment a wall clock in `zone` shows day/hour/minute (days past the month's end roll over, as Date.UTC does). */
export function atWallClock({ year, month, day, hour = 0, minute = 0 }, zone) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const offset = (at) => {
    const w = wallClock(new Date(at), zone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(at / 1000) * 1000;
  };
  let at = wall - offset(wall);
  const again = offset(at); // across a DST change the first guess used the other side's offset
  if (again !== offset(wall)) at = wall - again;
  return new Date(at);
}

/** Full date, time with seconds and zone: for tooltips and accessible names. */
export function full(value) {
  return fmt({ dateStyle: 'full', timeStyle: 'long' }).format(asDate(value));
}

/** Calendar day key in the operator's zone, for day separators. */
export function dayKey(value) {
  return fmt({ year: 'numeric', month: '2-digit', day: '2-digit' }).format(asDate(value));
}

/** "Today", "Yesterday", else "Thursday, 5 March" (year added when not this year). */
export function dayLabel(value, now = new Date()) {
  const date = asDate(value);
  if (dayKey(date) === dayKey(now)) return t('time.today');
  if (dayKey(date) === dayKey(new Date(now.getTime() - 86400000))) return t('time.yesterday');
  const sameYear = fmt({ year: 'numeric' }).format(date) === fmt({ year: 'numeric' }).format(now);
  return fmt({ weekday: 'long', day: 'numeric', month: 'long', ...(sameYear ? {} : { year: 'numeric' }) }).format(date);
}

/** "5 minutes ago" under 7 days, else a short absolute date ("5 Mar"). */
/** `style` 'short' for tight places ("5 min ago", "há 5 min."); accessible names keep the long form. */
export function relative(value, now = new Date(), style = 'long') {
  const seconds = Math.round((asDate(value).getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs >= 7 * 86400) return fmt({ day: 'numeric', month: 'short' }).format(asDate(value));
  const rtf = relativeFormat(style);
  if (abs < 60) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** A duration for countdowns: "5 h 12 min", "42 min" (localised units). */
export function duration(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days >= 1) return t('time.days_hours', { days, hours: hours % 24 });
  if (hours >= 1) return t('time.hours_minutes', { hours, minutes: minutes % 60 });
  return t('time.minutes', { minutes });
}

export function number(value) {
  return new Intl.NumberFormat(currentLocale()).format(value);
}

/** Bytes as "1.2 MB". */
export function bytes(size) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(currentLocale(), { maximumFractionDigits: unit ? 1 : 0 }).format(value)} ${units[unit]}`;
}

/** One shared minute tick: countdowns and relative times refresh together. */
const tickers = new Set();
setInterval(() => tickers.forEach((fn) => fn()), 30000);
export function onTick(fn) {
  tickers.add(fn);
  return () => tickers.delete(fn);
}
