// One script step's form (bot/schemas.py StepDefinition): key, question, answer type, choices, pattern with a
// live test box, retry message, attempts, phone region — bound to the step object it edits.

import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { field } from './kit.js';

export const ANSWER_TYPES = ['text', 'yes_no', 'choice', 'number', 'date', 'email', 'phone', 'pattern'];
export const KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,99}$/;

/** Python's `re` named groups (?P<name>…) and (?P=name) in JavaScript syntax, for the live test only. */
export function jsPattern(source) {
  return new RegExp(String(source).replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'));
}

/** Problems of one step as [{field, message}] (field = the control's suffix), mirroring the server's checks. */
export function stepProblems(step, index, allSteps) {
  const problems = [];
  const n = index + 1;
  if (!KEY_PATTERN.test(step.key || '')) problems.push({ field: 'key', message: t('admin.scripts.errors.step_key', { n }) });
  else if (allSteps.some((other, i) => i !== index && other.key === step.key)) problems.push({ field: 'key', message: t('admin.scripts.errors.step_key_unique', { n }) });
  if (!String(step.question || '').trim()) problems.push({ field: 'question', message: t('admin.scripts.errors.question', { n }) });
  if (step.type === 'choice' && (step.choices || []).filter((c) => c.trim()).length < 2) problems.push({ field: 'choices', message: t('admin.scripts.errors.choices', { n }) });
  if (step.type === 'pattern') {
    if (!step.pattern) problems.push({ field: 'pattern', message: t('admin.scripts.errors.pattern_missing', { n }) });
    else {
      try { jsPattern(step.pattern); } catch (err) { problems.push({ field: 'pattern', message: t('admin.scripts.errors.pattern_bad', { n, reason: err.message }) }); }
    }
  }
  const attempts = Number(step.max_attempts);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) problems.push({ field: 'attempts', message: t('admin.scripts.errors.attempts', { n }) });
  return problems;
}

/**
 * The form for `step` (mutated in place). `onChange()` after every edit; `readOnly` disables every control.
 * Returns {el, showProblems(problems)}.
 */
export function stepForm(step, index, { onChange, readOnly = false, idPrefix = 'step' }) {
  const id = (name) => `${idPrefix}-${name}`;
  const changed = () => onChange && onChange();
  const bind = (key, parse = (v) => v) => (event) => { step[key] = parse(event.target.value); changed(); };
  const wraps = {};

  wraps.question = field({ id: id('question'), label: t('admin.scripts.step.question'),
    control: h('textarea', { rows: 2, maxlength: 2000, disabled: readOnly, oninput: bind('question') }, step.question || ''),
    hint: t('admin.scripts.step.question_hint') });
  wraps.key = field({ id: id('key'), label: t('admin.scripts.step.key'),
    control: h('input', { type: 'text', value: step.key || '', maxlength: 100, class: 'mono', spellcheck: 'false', disabled: readOnly,
      oninput: bind('key', (v) => v.trim()) }),
    hint: t('admin.scripts.step.key_hint') });
  const typeSelect = h('select', { disabled: readOnly, onchange: (event) => { step.type = event.target.value; changed(); paintType(); } },
    ANSWER_TYPES.map((type) => h('option', { value: type, selected: (step.type || 'text') === type }, t(`admin.scripts.types.${type}`))));
  wraps.type = field({ id: id('type'), label: t('admin.scripts.step.type'), control: typeSelect });
  const typeSlot = h('div', {});

  function paintType() {
    const type = step.type || 'text';
    const parts = [h('p', { class: 'hint' }, t(`admin.scripts.type_hints.${type}`))];
    if (type === 'choice') {
      wraps.choices = field({ id: id('choices'), label: t('admin.scripts.step.choices'),
        control: h('textarea', { rows: 4, disabled: readOnly, oninput: (event) => {
          step.choices = event.target.value.split('\n').map((c) => c.trim()).filter(Boolean);
          changed();
        } }, (step.choices || []).join('\n')),
        hint: t('admin.scripts.step.choices_hint') });
      parts.push(wraps.choices);
    }
    if (type === 'pattern') {
      const result = h('span', { class: 'pattern-result', id: id('pattern-result'), role: 'status' });
      const sample = h('input', { type: 'text', placeholder: t('admin.scripts.step.test_placeholder'), 'aria-describedby': id('pattern-result') });
      const test = () => {
        if (!step.pattern) { replace(result); return; }
        let pattern;
        try { pattern = jsPattern(step.pattern); } catch (err) {
          result.className = 'pattern-result bad';
          replace(result, icon('circle-alert'), t('admin.scripts.step.pattern_invalid', { reason: err.message }));
          return;
        }
        if (!sample.value) { result.className = 'pattern-result'; replace(result); return; }
        // The bot checks the whole answer (re.fullmatch), so the test does too.
        const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags);
        const ok = whole.test(sample.value.trim());
        result.className = `pattern-result ${ok ? 'ok' : 'bad'}`;
        replace(result, icon(ok ? 'circle-check' : 'x'), ok ? t('admin.scripts.step.matches') : t('admin.scripts.step.no_match'));
      };
      sample.addEventListener('input', test);
      wraps.pattern = field({ id: id('pattern'), label: t('admin.scripts.step.pattern'),
        control: h('input', { type: 'text', value: step.pattern || '', maxlength: 500, class: 'mono', spellcheck: 'false', disabled: readOnly,
          oninput: (event) => { step.pattern = event.target.value; changed(); test(); } }),
        hint: t('admin.scripts.step.pattern_hint') });
      const testField = h('div', { class: 'field' }, h('label', { for: id('pattern-test') }, t('admin.scripts.step.test')),
        h('div', { class: 'pattern-test' }, sample, result));
      sample.id = id('pattern-test');
      parts.push(wraps.pattern, testField);
      test();
    }
    if (type === 'phone') {
      wraps.region = field({ id: id('region'), label: t('admin.scripts.step.region'), optional: true,
        control: h('input', { type: 'text', value: step.region || '', maxlength: 2, class: 'mono', disabled: readOnly,
          oninput: (event) => { step.region = event.target.value.trim().toUpperCase() || null; changed(); } }),
        hint: t('admin.scripts.step.region_hint') });
      parts.push(wraps.region);
    }
    replace(typeSlot, parts);
  }
  paintType();

  wraps.retry = field({ id: id('retry'), label: t('admin.scripts.step.retry'), optional: true,
    control: h('textarea', { rows: 2, maxlength: 2000, disabled: readOnly, oninput: (event) => { step.retry_message = event.target.value || null; changed(); } }, step.retry_message || ''),
    hint: t('admin.scripts.step.retry_hint') });
  wraps.attempts = field({ id: id('attempts'), label: t('admin.scripts.step.attempts'),
    control: h('input', { type: 'number', min: 1, max: 10, step: 1, value: String(step.max_attempts ?? 3), disabled: readOnly,
      oninput: (event) => { step.max_attempts = event.target.value === '' ? '' : Number(event.target.value); changed(); } }),
    hint: t('admin.scripts.step.attempts_hint') });

  const el = h('div', { class: 'step-form-body' }, wraps.question, wraps.type, typeSlot, wraps.retry, wraps.attempts, wraps.key);

  function showProblems(problems) {
    for (const name of ['question', 'key', 'choices', 'pattern', 'attempts']) {
      const wrap = wraps[name];
      if (!wrap) continue;
      const found = problems.find((p) => p.field === name);
      wrap.setError(found ? found.message : null);
    }
  }
  return { el, showProblems, controlId: (name) => id(name === 'attempts' ? 'attempts' : name) };
}
