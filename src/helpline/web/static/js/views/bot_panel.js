// The Bot tab of the side panel (ui-guide §7): the hand-off card pinned while unanswered — with the case a script
// created at its top (each question and the customer's answer) — the script with
// "Step k of n" and the collected answers, matching candidates as bar + percent + word, the articles used and
// suggested replies with Insert. From GET …/bot, …/bot/interactions and …/suggestions; refreshed by frames.

import { ApiError, del, get, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { answerValue, full, relative } from '../format.js';
import { t } from '../i18n.js';
import { suggestionItem } from './composer.js';
import { fieldLabel, methodText, reasonDetail, reasonText } from '../names.js';
import { summaryBlock } from './message.js';

/** Confidence in words: High ≥ 80 % · Medium ≥ 50 % · Low. */
export function confidenceWord(value) {
  // Judged on the shown percent, so "80 %" never reads "Medium".
  const percent = Math.round(value * 100);
  return percent >= 80 ? t('bot.high') : percent >= 50 ? t('bot.medium') : t('bot.low');
}

/** The structured case a completed script handed over: question → answer, in step order. */
function caseFields(esc) {
  const fields = esc.fields || [];
  if (!fields.length) return null;
  const name = esc.script && esc.script.name;
  return h('div', { class: 'case-fields' },
    name ? h('p', { class: 'case-title' }, h('strong', {}, t('bot.case_title', { name: String(name) }))) : null,
    h('dl', { class: 'answers' }, fields.map((f) => {
      const value = answerValue(f.value);
      return [h('dt', {}, fieldLabel(f.key, esc)), h('dd', {}, h('span', {}, value), copyable(value))];
    })));
}

/** Answers as label → value; labels from the hand-off's questions when `esc` has them. */
function answerList(answers, esc = null) {
  return h('dl', { class: 'answers' }, answers.map(([key, value]) => {
    const text = answerValue(value);
    return [h('dt', {}, fieldLabel(key, esc)), h('dd', {}, h('span', {}, text), copyable(text))];
  }));
}


function copyable(value) {
  return h('button', { type: 'button', class: 'icon-button small', 'aria-label': t('conversation.copy_value', { value }), title: t('common.copy'),
    onclick: () => navigator.clipboard && navigator.clipboard.writeText(value) }, icon('copy'));
}

export class BotPanel {
  /** host = {ctx, conversation(), lastInbound() → [text], lastBotStep() → key, insert(text)} */
  constructor(host) {
    this.host = host;
    this.ctx = host.ctx;
    this.el = h('div', { class: 'bot-panel' });
    this.state = null;
    this.interactions = [];
  }

  /** Both requests in parallel; `id` guards against a late answer for another conversation. */
  async load(id) {
    this.id = id;
    this.state = null;
    this.error = null;
    replace(this.el, h('div', { class: 'skeleton-block' }), h('div', { class: 'skeleton-block short' }));
    try {
      const [state, interactions] = await Promise.all([get(`/conversations/${id}/bot`), get(`/conversations/${id}/bot/interactions`)]);
      if (id !== this.id) return;
      this.state = state;
      this.interactions = interactions;
    } catch (err) {
      if (id !== this.id) return;
      this.error = err;
    }
    this.render();
  }

  render() {
    if (this.error) {
      replace(this.el, h('div', { class: 'error-box', role: 'alert' }, h('p', {}, t('bot.load_failed')),
        h('details', {}, h('summary', {}, t('conversation.details')), h('p', {}, this.error.message || String(this.error))),
        h('button', { type: 'button', class: 'button small', onclick: () => this.load(this.id) }, t('common.retry'))));
      return;
    }
    const s = this.state;
    if (!s) return;
    const c = this.host.conversation();
    replace(this.el, this.handoff(s, c), this.script(s), this.runs(s), this.matching(s), this.articles(), this.suggestions());
  }

  handoff(s, c) {
    const esc = s.escalation || (c && c.escalation);
    if (!esc) return null;
    const unanswered = c && c.handler === 'human' && (!c.assignee || c.waiting_since);
    const words = this.host.lastInbound();
    return h('section', { class: ['panel-card', 'handoff-card', unanswered && 'pinned'], 'aria-labelledby': 'handoff-title' },
      h('h3', { id: 'handoff-title' }, icon('hand'), h('span', {}, t('bot.handoff_title'))),
      h('p', { class: 'handoff-reason' }, reasonText(esc.reason)),
      caseFields(esc),
      esc.detail ? h('p', { class: 'muted' }, reasonDetail(esc)) : null,
      esc.at ? h('p', { class: 'muted small' }, h('time', { datetime: esc.at, title: full(esc.at) }, relative(esc.at))) : null,
      esc.summary ? h('details', { open: unanswered }, h('summary', {}, t('bot.summary')), summaryBlock(esc)) : null,
      words.length ? h('div', {}, h('p', { class: 'muted small' }, t('bot.last_words')),
        h('ul', { class: 'last-words' }, words.map((w) => h('li', {}, h('q', {}, w))))) : null);
  }

  /** Every script run of the conversation but the one the Script card shows: their answers are kept apart. */
  runs(s) {
    const runs = (s.runs || []).slice(0, -1);
    if (!runs.length) return null;
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('history'), h('span', {}, t('bot.runs'))),
      runs.map((run) => h('details', { class: 'run' },
        h('summary', {}, `${run.script_name} · ${t(`bot.run_${run.status}`)}`),
        run.end_status ? h('p', { class: 'muted small' }, t(`bot.end_${run.end_status}`)) : null,
        answerList(Object.entries(run.answers || {})))));
  }

  script(s) {
    const name = s.script && s.script.name;
    const answers = Object.entries(s.answers || {});
    if (!name && !answers.length) {
      return h('section', { class: 'panel-card' }, h('h3', {}, icon('scroll-text'), h('span', {}, t('bot.script'))),
        h('p', { class: 'muted' }, t(`bot.mode_${['idle', 'script', 'done', 'paused'].includes(s.mode) ? s.mode : 'idle'}`)));
    }
    const p = s.progress;
    const step = p && p.steps_total ? Math.min(p.steps_done + 1, p.steps_total) : null;
    const stepKey = this.host.lastBotStep();
    const bar = p && p.steps_total ? h('progress', { max: String(p.steps_total), value: String(Math.min(p.steps_done, p.steps_total)),
      'aria-label': t('bot.progress_label', { done: p.steps_done, total: p.steps_total }) }) : null;
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('scroll-text'), h('span', {}, name ? String(name) : t('bot.script'))),
      p && p.steps_total ? h('p', {}, s.mode === 'done' || p.steps_done >= p.steps_total ? t('bot.completed', { total: p.steps_total })
        : stepKey ? t('bot.step_named', { step, total: p.steps_total, name: fieldLabel(stepKey, s.escalation) }) : t('bot.step', { step, total: p.steps_total })) : null,
      bar,
      answers.length ? answerList(answers, s.escalation) : h('p', { class: 'muted' }, t('bot.no_answers')),
      s.mode === 'script' ? h('button', { type: 'button', class: 'button small', onclick: () => this.stop() }, icon('x'), h('span', {}, t('bot.stop'))) : null);
  }

  matching(s) {
    if (!s.candidates || !s.candidates.length) return null;
    return h('section', { class: 'panel-card' },
      h('h3', {}, icon('sparkles'), h('span', {}, t('bot.matching'))),
      s.method ? h('p', { class: 'muted small' }, t('bot.method', { method: methodText(s.method) })) : null,
      h('ul', { class: 'candidates' }, s.candidates.map((cand) => {
        const pct = Math.round(Math.max(0, Math.min(1, cand.confidence)) * 100);
        return h('li', { class: 'candidate' },
          h('div', { class: 'candidate-head' }, h('span', { class: 'candidate-name' }, cand.name),
            h('span', { class: 'candidate-score' }, t('bot.confidence', { percent: pct, word: confidenceWord(cand.confidence) }))),
          h('meter', { min: '0', max: '100', value: String(pct), low: '50', high: '80', optimum: '100',
            'aria-label': t('bot.confidence_of', { name: cand.name, percent: pct }) }),
          h('button', { type: 'button', class: 'button small', onclick: () => this.choose(cand) }, icon('play'),
            h('span', {}, t('bot.choose'))));
      })));
  }

  articles() {
    const seen = new Map();
    for (const item of this.interactions || []) {
      const art = item.details && item.details.article;
      if (art && art.id && !seen.has(art.id)) seen.set(art.id, art);
    }
    if (!seen.size) return null;
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('book-open'), h('span', {}, t('bot.articles'))),
      h('ul', { class: 'articles' }, [...seen.values()].map((art) => h('li', {},
        h('a', { href: `/admin/articles/${encodeURIComponent(art.id)}` }, String(art.title || art.id))))));
  }

  suggestions() {
    const box = h('ul', { class: 'suggestion-list' }, h('li', { class: 'muted' }, t('common.loading')));
    const id = this.id;
    get(`/conversations/${id}/suggestions`).then((list) => {
      if (id !== this.id) return;
      replace(box, list.length ? list.map((s) => suggestionItem(s, (text) => this.host.insert(text)))
        : h('li', { class: 'muted' }, t('composer.no_suggestions')));
    }).catch((err) => { if (id === this.id) replace(box, h('li', { class: 'form-error' }, t('composer.suggestions_failed', { reason: err.message }))); });
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('wand-sparkles'), h('span', {}, t('bot.suggested'))), box);
  }

  async choose(cand) {
    try {
      this.state = await post(`/conversations/${this.id}/bot/script`, { script_id: cand.script_id });
      this.render();
      this.ctx.shell.toast(t('bot.chosen', { name: cand.name }));
    } catch (err) {
      this.ctx.shell.toast(t('bot.choose_failed', { reason: err instanceof ApiError ? err.message : String(err) }), { kind: 'error' });
    }
  }

  async stop() {
    try {
      this.state = await del(`/conversations/${this.id}/bot/script`);
      this.render();
    } catch (err) {
      this.ctx.shell.toast(t('bot.stop_failed', { reason: err.message }), { kind: 'error' });
    }
  }
}
