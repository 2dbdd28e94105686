// The try-it console: a customer message + language + channel kind → what the bot would do, evaluated by
// POST /api/v1/bot/try against the editor's unsaved draft. Shows the match, its confidence (bar + percent +
// word), the top alternatives and the reply as a bubble; keeps the bot's state so a script can be stepped through.

import { ApiError, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { KIND_ORDER } from './channel-kinds.js';
import { errorText, field, tOr, uid } from './kit.js';

export const BOT_LANGUAGES = ['en', 'pt', 'es', 'fr', 'it']; // bot/language.py LANGUAGES

/** High ≥ 80 % · Medium ≥ 50 % · Low (ui-guide §7): never a raw float. */
export function confidenceWord(value) {
  if (value >= 0.8) return 'high';
  if (value >= 0.5) return 'medium';
  return 'low';
}

export function confidenceBar(name, value) {
  const pct = Math.round(Math.max(0, Math.min(1, Number(value) || 0)) * 100);
  const word = confidenceWord(value);
  const text = t('admin.try.confidence', { percent: new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }).format(pct), word: t(`admin.try.levels.${word}`) });
  const fill = h('div', { class: ['bar-fill', word] });
  fill.style.width = `${pct}%`;
  return h('div', { class: 'confidence' },
    h('span', { class: 'name' }, name),
    h('span', { class: 'value' }, text),
    h('div', { class: 'bar', role: 'img', 'aria-label': t('admin.try.bar_label', { name, confidence: text }) }, fill));
}

/** What the bot would do, in words, from the answer's `action` (bot/schemas.py TryAction). */
function outcomeLine(answer) {
  const name = answer.match ? answer.match.script_name || answer.match.script_key : '';
  const action = answer.action || 'fallback';
  if (action === 'escalate') {
    const reason = answer.escalation && answer.escalation.reason;
    return t('admin.try.outcome.escalate', { reason: reason ? tOr(`admin.try.reasons.${reason}`, reason) : '' });
  }
  if (action === 'article') return t('admin.try.outcome.article', { title: answer.article ? answer.article.title : '' });
  return tOr(`admin.try.outcome.${action}`, action, { name });
}

/**
 * tryConsole({draft, compact, note}) → {el, relabel(), reset()}.
 * `draft()` returns {script} (the unsaved editor content to evaluate against), {} for the saved build, or
 * {invalid: sentence} when the draft cannot be evaluated yet.
 */
export function tryConsole({ draft = () => ({}), compact = false, note = null } = {}) {
  const state = { text: '', language: '', channel_kind: 'whatsapp', busy: false, answer: null, error: null, botState: null, turns: [] };
  const el = h('section', { class: 'try-console', 'aria-labelledby': uid('try') });
  const titleId = el.getAttribute('aria-labelledby');
  const result = h('div', { class: 'try-result', 'aria-live': 'polite' });

  async function run(event) {
    if (event) event.preventDefault();
    const text = state.text.trim();
    if (!text) {
      paint();
      const box = el.querySelector('textarea');
      const wrap = box.closest('.field');
      wrap.setError(t('admin.try.empty'));
      box.focus();
      return;
    }
    const extra = draft();
    if (extra.invalid) {
      state.error = null;
      state.answer = null;
      paint();
      replace(result, h('div', { class: 'error-box', role: 'alert' }, extra.invalid));
      return;
    }
    state.busy = true;
    state.error = null;
    paint();
    try {
      const body = { message: text, language: state.language || null, channel_kind: state.channel_kind || null, ...extra };
      if (state.botState) body.state = state.botState;
      const answer = await post('/bot/try', body);
      state.answer = answer;
      state.turns.push({ text, answer });
      state.botState = answer && answer.state && ['script', 'clarifying'].includes(answer.state.mode) ? answer.state : null;
      // Stepping through a script: the box is for the next answer; otherwise keep the text to tweak it.
      if (state.botState) state.text = '';
    } catch (err) {
      state.error = err;
    } finally {
      state.busy = false;
      paint();
      const box = el.querySelector('textarea');
      if (box) box.focus();
    }
  }

  function reset() {
    state.botState = null;
    state.turns = [];
    state.answer = null;
    state.error = null;
    paint();
  }

  function renderAnswer(answer, text) {
    const match = answer.match;
    const alternatives = (answer.alternatives || []).slice(0, 3);
    const replies = answer.replies || [];
    const answers = Object.entries(answer.answers || {});
    const progress = answer.progress;
    return [
      h('div', {}, h('p', { class: 'bubble-caption' }, icon('user'), t('admin.try.customer_wrote')), h('div', { class: 'bubble-customer' }, text)),
      h('p', { class: 'try-match' }, outcomeLine(answer)),
      match && typeof match.confidence === 'number' ? confidenceBar(match.script_name || match.script_key, match.confidence) : null,
      match && match.draft ? h('p', { class: 'try-note' }, icon('pencil'), ' ', t('admin.try.draft_match')) : null,
      answer.article ? confidenceBar(answer.article.title, answer.article.score) : null,
      alternatives.length ? h('div', {}, h('h3', { class: 'sub' }, t('admin.try.alternatives')),
        h('ul', { class: 'alternatives' }, alternatives.map((c) => h('li', {}, confidenceBar(c.script_name || c.script_key, c.confidence))))) : null,
      answer.out_of_scope ? h('p', { class: 'try-note' }, t('admin.try.out_of_scope')) : null,
      replies.length ? h('div', { class: 'stack' }, h('h3', { class: 'sub' }, t('admin.try.reply')),
        replies.map((r) => h('div', {}, h('p', { class: 'bubble-caption' }, icon('bot'), t('admin.try.bot_says')),
          h('div', { class: 'bubble-bot' }, r.text || ''),
          r.quick_replies && r.quick_replies.length ? h('p', { class: 'chips quick' }, r.quick_replies.map((q) => h('span', { class: 'chip' }, q))) : null)))
        : h('p', { class: 'try-note' }, t('admin.try.no_reply')),
      progress && progress.steps_total ? h('p', { class: 'try-note' }, t('admin.try.progress', { done: Math.min(progress.steps_done, progress.steps_total), total: progress.steps_total })) : null,
      answers.length ? h('div', {}, h('h3', { class: 'sub' }, t('admin.try.answers')),
        h('dl', { class: 'try-answers' }, answers.map(([key, value]) => [h('dt', {}, key), h('dd', {}, typeof value === 'object' ? JSON.stringify(value) : String(value))]))) : null,
      answer.method ? h('p', { class: 'try-note' }, t('admin.try.method', { method: answer.method })) : null,
    ];
  }

  function paint() {
    const textarea = h('textarea', { rows: compact ? 2 : 3, value: state.text, maxlength: 4000,
      oninput: (event) => { state.text = event.target.value; },
      onkeydown: (event) => { if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) run(event); } });
    textarea.value = state.text;
    const language = h('select', { onchange: (event) => { state.language = event.target.value; } },
      h('option', { value: '' }, t('admin.try.detect')),
      BOT_LANGUAGES.map((code) => h('option', { value: code, selected: state.language === code }, t(`admin.bot_languages.${code}`))));
    const kind = h('select', { onchange: (event) => { state.channel_kind = event.target.value; } },
      KIND_ORDER.map((code) => h('option', { value: code, selected: state.channel_kind === code }, t(`kinds.${code}`))));
    const idBase = titleId;
    replace(el,
      h('h2', { id: titleId }, icon('play'), t('admin.try.title')),
      h('p', { class: 'try-note' }, note ? note() : Object.keys(draft()).length ? t('admin.try.against_draft') : t('admin.try.against_saved')),
      h('form', { novalidate: true, onsubmit: run },
        field({ id: `${idBase}-text`, label: t('admin.try.message'), control: textarea, hint: t('admin.try.message_hint') }),
        h('div', { class: 'try-row' },
          field({ id: `${idBase}-lang`, label: t('admin.try.language'), control: language }),
          field({ id: `${idBase}-kind`, label: t('admin.try.channel_kind'), control: kind })),
        h('div', { class: 'form-actions' },
          h('button', { type: 'submit', class: 'button primary', disabled: state.busy }, icon('send'), state.busy ? t('admin.try.running') : t('admin.try.run')),
          state.turns.length ? h('button', { type: 'button', class: 'button', onclick: reset }, icon('rotate-ccw'), t('admin.try.reset')) : null)),
      result);
    if (state.error) {
      const missing = state.error instanceof ApiError && (state.error.status === 404 || state.error.status === 405);
      replace(result, h('div', { class: 'error-box', role: 'alert' },
        missing ? t('admin.try.unavailable') : t('admin.try.failed', { reason: errorText(state.error) })));
    } else if (state.answer) {
      replace(result, renderAnswer(state.answer, state.turns[state.turns.length - 1].text),
        state.botState ? h('p', { class: 'callout' }, icon('info'), h('span', {}, t('admin.try.continuing'))) : null,
        state.turns.length > 1 ? h('details', { class: 'try-history' }, h('summary', {}, t('admin.try.history', { count: state.turns.length - 1 })),
          h('ol', {}, state.turns.slice(0, -1).map((turn) => h('li', {}, h('strong', {}, turn.text), ' → ', outcomeLine(turn.answer))))) : null);
    } else {
      replace(result);
    }
  }
  paint();
  return { el, relabel: paint, reset };
}
