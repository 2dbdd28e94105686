// API errors in the operator's language: a validation error's machine-readable problems (error.details.problems:
// {field, type, ctx, message}) become "Field: reason" sentences, a domain error's stable code its catalogue sentence.

import { currentLocale, has, t } from './i18n.js';

// Pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) grouped by what they mean
// to a person; a type missing here reads as "invalid" with the server's words as the detail.
const REASONS = {
  missing: 'missing', string_too_short: 'text_min', string_too_long: 'text_max', too_short: 'items_min',
  too_long: 'items_max', greater_than: 'gt', greater_than_equal: 'ge', less_than: 'lt', less_than_equal: 'le',
  int_parsing: 'integer', int_type: 'integer', int_from_float: 'integer', float_parsing: 'number',
  float_type: 'number', decimal_parsing: 'number', decimal_type: 'number', bool_parsing: 'boolean', bool_type: 'boolean',
  string_type: 'text', string_pattern_mismatch: 'pattern', literal_error: 'choice', enum: 'choice',
  url_parsing: 'url', url_type: 'url', url_scheme: 'url', url_syntax_violation: 'url', url_too_long: 'url',
  datetime_parsing: 'datetime', datetime_type: 'datetime', datetime_from_date_parsing: 'datetime',
  timezone_aware: 'datetime', date_parsing: 'date', date_type: 'date', date_from_datetime_parsing: 'date',
  list_type: 'list', dict_type: 'object', model_type: 'object', model_attributes_type: 'object',
  extra_forbidden: 'extra', json_invalid: 'json', json_type: 'json', value_error: 'value', assertion_error: 'value',
  uuid_parsing: 'invalid', missing_argument: 'missing',
};
const LIMITS = {
  text_min: 'min_length', text_max: 'max_length', items_min: 'min_length', items_max: 'max_length',
  gt: 'gt', ge: 'ge', lt: 'lt', le: 'le',
};
const PLACES = new Set(['query', 'path', 'header', 'cookie', 'body']);

/** The catalogue's name for a field path ("steps.0.question" → "Question"); unknown names read as words. */
export function fieldLabel(path) {
  const parts = String(path || '').split('.').filter((part) => part && !/^\d+$/.test(part));
  const name = parts.filter((part) => !PLACES.has(part)).pop();
  if (!name) return t('validation.fields.body');
  // A channel's settings and credentials ("settings.imap_host") are named as the channel form names them.
  for (const key of [`validation.fields.${name}`, `admin.channels.fields.${name}`]) if (has(key)) return t(key);
  return name.replace(/_/g, ' ');
}

/** One problem's reason, without the field ("at most 500 characters."). */
export function reasonText(problem) {
  const reason = REASONS[problem.type] || 'invalid';
  const ctx = problem.ctx || {};
  const limit = LIMITS[reason] ? ctx[LIMITS[reason]] : undefined;
  // "Value error, …" is pydantic's prefix for a rule written in our code: the rest is the server's own words.
  const detail = String(problem.message || '').replace(/^(Value|Assertion) error, /, '');
  return t(`validation.types.${reason}`, {
    count: typeof limit === 'number' ? limit : 0, limit: limit ?? '', expected: choices(ctx.expected), detail,
  });
}

/** Pydantic's "'a', 'b' or 'c'" as a list in the operator's language ("'a', 'b' ou 'c'"). */
function choices(expected) {
  const items = [...String(expected ?? '').matchAll(/'([^']*)'/g)].map((found) => `'${found[1]}'`);
  if (!items.length) return String(expected ?? '');
  return new Intl.ListFormat(currentLocale(), { type: 'disjunction' }).format(items);
}

/** [{path, label, message, text}] for an error body's problems; [] when the body has none. */
export function problemsOf(details) {
  const list = details && Array.isArray(details.problems) ? details.problems : [];
  return list.map((problem) => {
    const label = fieldLabel(problem.field);
    const message = reasonText(problem);
    return { path: problem.field, label, message, text: t('validation.field_reason', { field: label, reason: message }) };
  });
}

/** The whole error in words ("Name: required. E-mail: not a valid e-mail address."), or null without problems. */
export function describeProblems(details) {
  const problems = problemsOf(details);
  return problems.length ? problems.map((problem) => problem.text).join(' ') : null;
}

/** The catalogue's sentence for a domain error code (api_error.duplicate_email), or null: generic codes ("invalid",
 * "conflict") keep the server's own, more specific words. */
export function errorSentence(code) {
  return code && /^[a-z_]+$/.test(code) && has(`api_error.${code}`) ? t(`api_error.${code}`) : null;
}
