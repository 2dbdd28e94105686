// The service-script editor (/admin/scripts/<id|new>): name, demand, example phrasings as chips, languages,
// closing message, end action, ordered steps (move up/down and drag) beside the selected step's form, versions
// with restore, an unsaved-changes guard, the error summary on save, and the try-it console docked beside it.

import { del, get, post, put } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { full, relative } from '../format.js';
import { t } from '../i18n.js';
import {
  checkbox, confirmDialog, errorBox, errorText, field, pageHead, secretsPanel, serverProblems, summaryBox, tOr, unsavedGuard,
} from './kit.js';
import { KEY_PATTERN, stepForm, stepProblems } from './step-form.js';
import { BOT_LANGUAGES, tryConsole } from './try-console.js';

const MIN_EXAMPLES = 5;

function blank() {
  return { key: '', name: '', description: '', demand: '', examples: [], languages: ['en'], steps: [], closing_message: '',
    end_action: null, active: true };
}

/** A definition as the API takes it: trimmed, no empty optional values. */
function clean(draft) {
  return {
    ...draft,
    name: draft.name.trim(),
    key: draft.key.trim(),
    steps: draft.steps.map((s) => ({ ...s, max_attempts: Number(s.max_attempts), choices: s.type === 'choice' ? s.choices : [],
      pattern: s.type === 'pattern' ? s.pattern : null, region: s.type === 'phone' ? s.region || null : null,
      retry_message: s.retry_message || null })),
    end_action: draft.end_action && draft.end_action.url ? { url: draft.end_action.url.trim() } : null,
  };
}

function slug(text) {
  return String(text).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '').slice(0, 60);
}

export function mountScriptEditor(ctx, el, scriptId) {
  const isNew = scriptId === 'new';
  const storeKey = `helpline.admin.script-draft.${scriptId}`;
  const readOnly = ctx.me.role !== 'admin';
  let script = null; // the saved ScriptPublic
  let saved = JSON.stringify(blank());
  let draft = blank();
  let selected = 0;
  let keyTouched = !isNew;
  let versions = null;
  let secret = null;
  let restoredNote = null;
  let problems = [];
  const summary = summaryBox('script-summary');
  const tryBox = tryConsole({ draft: () => {
    if (readOnly) return {};
    const list = validate();
    return list.length ? { invalid: t('admin.try.fix_draft', { count: list.length }) } : { script: clean(draft) };
  } });

  const dirty = () => !readOnly && JSON.stringify(draft) !== saved;
  const stopGuard = unsavedGuard(dirty);
  const remember = () => {
    try {
      if (dirty()) sessionStorage.setItem(storeKey, JSON.stringify(draft));
      else sessionStorage.removeItem(storeKey);
    } catch { /* private mode */ }
  };
  let dirtyMark = null;
  const changed = () => {
    remember();
    if (dirtyMark) dirtyMark.hidden = !dirty();
  };

  function validate() {
    const list = [];
    if (!draft.name.trim()) list.push({ id: 'sc-name', message: t('admin.form.required', { field: t('admin.scripts.fields.name') }) });
    if (!KEY_PATTERN.test(draft.key.trim())) list.push({ id: 'sc-key', message: t('admin.scripts.errors.key') });
    if (!draft.languages.length) list.push({ id: 'sc-lang-en', message: t('admin.scripts.errors.languages') });
    draft.steps.forEach((step, index) => {
      for (const p of stepProblems(step, index, draft.steps)) list.push({ id: `sc-step-${p.field}`, step: index, field: p.field, message: p.message });
    });
    if (draft.end_action) {
      let ok = false;
      try { ok = ['http:', 'https:'].includes(new URL(draft.end_action.url).protocol); } catch { ok = false; }
      if (!ok) list.push({ id: 'sc-end-url', message: t('admin.scripts.errors.end_url') });
    }
    return list;
  }

  function showProblems(list, { focus = true } = {}) {
    problems = list;
    summary.hidden = !list.length;
    replace(summary, list.length ? [
      h('h2', { id: 'script-summary-title' }, t('admin.form.summary', { count: list.length })),
      h('ul', {}, list.map((p) => h('li', {}, p.id ? h('a', { href: `#${p.id}`, onclick: (event) => {
        event.preventDefault();
        if (p.step !== undefined && p.step !== selected) { selected = p.step; paint(); }
        const target = document.getElementById(p.id);
        if (target) { target.focus(); target.scrollIntoView({ block: 'center' }); }
      } }, p.message) : p.message)))] : []);
    if (focus && list.length) summary.focus();
  }

  function examplesBlock() {
    const count = draft.examples.length;
    const input = h('input', { type: 'text', id: 'sc-example', maxlength: 500, disabled: readOnly, placeholder: t('admin.scripts.example_placeholder'),
      onkeydown: (event) => { if (event.key === 'Enter') { event.preventDefault(); add(); } } });
    const add = () => {
      const value = input.value.trim();
      if (!value) return;
      if (!draft.examples.includes(value)) draft.examples.push(value);
      changed();
      paint({ focusId: 'sc-example' });
    };
    const line = h('p', { class: ['count-line', count < MIN_EXAMPLES && 'warn'], id: 'sc-example-count', role: 'status' },
      count < MIN_EXAMPLES ? [icon('triangle-alert'), ' ', t('admin.scripts.examples_few', { count, min: MIN_EXAMPLES })] : t('admin.scripts.examples_count', { count }));
    input.setAttribute('aria-describedby', 'sc-example-hint sc-example-count');
    return h('fieldset', {}, h('legend', {}, t('admin.scripts.fields.examples')),
      h('p', { class: 'hint', id: 'sc-example-hint' }, t('admin.scripts.examples_hint')),
      h('label', { for: 'sc-example', class: 'sr-only' }, t('admin.scripts.add_example')),
      h('div', { class: 'add-row' }, input, h('button', { type: 'button', class: 'button', disabled: readOnly, onclick: add }, icon('plus'), t('admin.scripts.add_example'))),
      line,
      h('ul', { class: 'example-chips', 'aria-label': t('admin.scripts.fields.examples') }, draft.examples.map((text, i) => h('li', { class: 'example-chip' },
        h('span', {}, text),
        !readOnly && h('button', { type: 'button', class: 'icon-button', 'aria-label': t('admin.scripts.remove_example', { text }), title: t('admin.scripts.remove_example', { text }),
          onclick: () => { draft.examples.splice(i, 1); changed(); paint({ focusId: 'sc-example' }); } }, icon('x'))))));
  }

  function move(from, to) {
    if (to < 0 || to >= draft.steps.length) return;
    const [step] = draft.steps.splice(from, 1);
    draft.steps.splice(to, 0, step);
    selected = to;
    changed();
    ctx.shell.announce(t('admin.scripts.moved', { n: to + 1 }));
  }

  function stepsBlock() {
    let dragFrom = null;
    const items = draft.steps.map((step, i) => {
      const bad = problems.some((p) => p.step === i);
      return h('li', { class: ['step-item', i === selected && 'selected', bad && 'invalid'], draggable: readOnly ? null : 'true',
        ondragstart: (event) => { dragFrom = i; event.dataTransfer.effectAllowed = 'move'; event.dataTransfer.setData('text/plain', String(i)); },
        ondragover: (event) => { if (dragFrom !== null) { event.preventDefault(); event.currentTarget.classList.add('drop-target'); } },
        ondragleave: (event) => event.currentTarget.classList.remove('drop-target'),
        ondrop: (event) => { event.preventDefault(); if (dragFrom !== null && dragFrom !== i) { move(dragFrom, i); paint(); } dragFrom = null; } },
      !readOnly && h('span', { class: 'drag-handle', 'aria-hidden': 'true' }, icon('grip-vertical')),
      h('button', { type: 'button', class: 'step-pick', 'aria-current': i === selected ? 'step' : null, onclick: () => { selected = i; paint({ focusId: 'sc-step-question' }); } },
        h('span', { class: 'step-no' }, t('admin.scripts.step_n', { n: i + 1, type: t(`admin.scripts.types.${step.type || 'text'}`) })),
        h('span', { class: 'step-q' }, step.question || t('admin.scripts.no_question'))),
      !readOnly && h('button', { type: 'button', class: 'icon-button', disabled: i === 0, 'aria-label': t('admin.scripts.move_up', { n: i + 1 }), title: t('admin.scripts.move_up', { n: i + 1 }),
        onclick: () => { move(i, i - 1); paint({ focusSel: `[aria-label="${CSS.escape(t('admin.scripts.move_up', { n: i }))}"]` }); } }, icon('arrow-up')),
      !readOnly && h('button', { type: 'button', class: 'icon-button', disabled: i === draft.steps.length - 1, 'aria-label': t('admin.scripts.move_down', { n: i + 1 }), title: t('admin.scripts.move_down', { n: i + 1 }),
        onclick: () => { move(i, i + 1); paint({ focusSel: `[aria-label="${CSS.escape(t('admin.scripts.move_down', { n: i + 2 }))}"]` }); } }, icon('arrow-down')));
    });
    const addStep = () => {
      let n = draft.steps.length + 1;
      while (draft.steps.some((s) => s.key === `step_${n}`)) n += 1;
      draft.steps.push({ key: `step_${n}`, question: '', type: 'text', choices: [], pattern: null, retry_message: null, max_attempts: 3, region: null });
      selected = draft.steps.length - 1;
      changed();
      paint({ focusId: 'sc-step-question' });
    };
    const current = draft.steps[selected];
    let formPart = h('p', { class: 'muted' }, t('admin.scripts.no_steps'));
    if (current) {
      const form = stepForm(current, selected, { idPrefix: 'sc-step', readOnly, onChange: () => {
        changed();
        const label = el.querySelector('.step-item.selected .step-q');
        if (label) label.textContent = current.question || t('admin.scripts.no_question');
      } });
      form.showProblems(problems.filter((p) => p.step === selected));
      formPart = h('div', { class: 'step-form', role: 'group', 'aria-labelledby': 'sc-step-title' },
        h('div', { class: 'drawer-head' }, h('h3', { id: 'sc-step-title' }, t('admin.scripts.step_title', { n: selected + 1, total: draft.steps.length })),
          !readOnly && h('button', { type: 'button', class: 'button small danger', onclick: () => {
            draft.steps.splice(selected, 1);
            selected = Math.max(0, selected - 1);
            changed();
            paint();
            ctx.shell.announce(t('admin.scripts.step_removed'));
          } }, icon('trash-2'), t('admin.scripts.remove_step'))),
        form.el);
    }
    return h('fieldset', {}, h('legend', {}, t('admin.scripts.fields.steps')),
      h('p', { class: 'hint' }, t('admin.scripts.steps_hint')),
      h('div', { class: 'steps-editor' },
        h('div', {}, h('ol', { class: 'step-list', 'aria-label': t('admin.scripts.fields.steps') }, items),
          !readOnly && h('button', { type: 'button', class: 'button small', onclick: addStep }, icon('plus'), t('admin.scripts.add_step'))),
        formPart));
  }

  function versionsBlock() {
    if (isNew) return null;
    const body = versions === null ? h('p', { class: 'muted' }, t('common.loading'))
      : versions instanceof Error ? errorBox(t('admin.scripts.versions'), versions, loadVersions)
        : h('ol', { class: 'versions' }, versions.map((v) => h('li', {},
          h('strong', {}, t('admin.scripts.version_n', { n: v.version })),
          v.version === script.current_version ? h('span', { class: 'chip status-ok' }, t('admin.scripts.current')) : null,
          h('time', { class: 'muted', datetime: v.created_at, title: full(v.created_at) }, relative(v.created_at)),
          v.version !== script.current_version && !readOnly ? h('button', { type: 'button', class: 'button small', onclick: () => {
            draft = structuredClone(v.definition);
            draft.key = script.key;
            selected = 0;
            restoredNote = v.version;
            changed();
            paint();
            ctx.shell.announce(t('admin.scripts.restored', { n: v.version }));
          } }, icon('history'), t('admin.scripts.restore')) : null)));
    return h('section', { class: 'panel', 'aria-labelledby': 'sc-versions' }, h('h2', { id: 'sc-versions' }, icon('history'), t('admin.scripts.versions')), body);
  }

  async function loadVersions() {
    try {
      versions = (await get(`/scripts/${scriptId}/versions`)).sort((a, b) => b.version - a.version);
    } catch (err) {
      versions = err;
    }
    paint();
  }

  async function save(event) {
    event.preventDefault();
    const list = validate();
    showProblems(list);
    if (list.length) { paint({ keepSummaryFocus: true }); summary.focus(); return; }
    const button = el.querySelector('#sc-save');
    button.disabled = true;
    button.textContent = t('admin.form.saving');
    try {
      const body = clean(draft);
      const answer = isNew ? await post('/scripts', body) : await put(`/scripts/${scriptId}`, body);
      secret = answer.end_action_secret || null;
      saved = JSON.stringify(draft);
      remember();
      restoredNote = null;
      ctx.shell.toast(t('admin.scripts.saved', { n: answer.current_version }));
      if (isNew) {
        stopGuard();
        if (secret) sessionStorage.setItem(`helpline.admin.script-secret.${answer.id}`, secret);
        ctx.navigate(`/admin/scripts/${answer.id}`, { replace: true });
        return;
      }
      script = answer;
      draft = structuredClone(answer.definition);
      saved = JSON.stringify(draft);
      versions = null;
      loadVersions();
    } catch (err) {
      showProblems(serverProblems(err).map((p) => ({ id: null, message: p.text })));
      paint();
      summary.focus();
    }
  }

  async function remove() {
    const ok = await confirmDialog({ title: t('admin.scripts.delete_title', { name: script.name }), body: t('admin.scripts.delete_body'), confirmLabel: t('common.delete') });
    if (!ok) return;
    try {
      await del(`/scripts/${scriptId}`);
      saved = JSON.stringify(draft);
      sessionStorage.removeItem(storeKey);
      stopGuard();
      ctx.shell.toast(t('admin.scripts.deleted', { name: script.name }));
      ctx.navigate('/admin/scripts');
    } catch (err) {
      ctx.shell.toast(t('admin.form.delete_failed', { reason: errorText(err) }), { kind: 'error' });
    }
  }

  function paint({ focusId, focusSel } = {}) {
    const scroller = el.closest('.admin-body') || el;
    const top = scroller.scrollTop;
    const text = (key, props = {}) => h('input', { type: 'text', value: draft[key] || '', disabled: readOnly, ...props,
      oninput: (event) => {
        draft[key] = event.target.value;
        if (key === 'name' && !keyTouched) {
          draft.key = slug(event.target.value);
          const keyInput = el.querySelector('#sc-key');
          if (keyInput) keyInput.value = draft.key;
        }
        if (key === 'key') keyTouched = true;
        changed();
      } });
    const area = (key, rows, max) => h('textarea', { rows, maxlength: max, disabled: readOnly, oninput: (event) => { draft[key] = event.target.value; changed(); } }, draft[key] || '');
    const fieldError = (id) => (problems.find((p) => p.id === id) || {}).message || null;
    const nameF = field({ id: 'sc-name', label: t('admin.scripts.fields.name'), control: text('name', { maxlength: 200 }), hint: t('admin.scripts.hints.name') });
    const keyF = field({ id: 'sc-key', label: t('admin.scripts.fields.key'), control: text('key', { maxlength: 100, class: 'mono', spellcheck: 'false', disabled: readOnly || !isNew }),
      hint: isNew ? t('admin.scripts.hints.key') : t('admin.scripts.hints.key_fixed') });
    nameF.setError(fieldError('sc-name'));
    keyF.setError(fieldError('sc-key'));
    const endUrl = h('input', { type: 'url', value: draft.end_action ? draft.end_action.url : '', disabled: readOnly || !draft.end_action,
      oninput: (event) => { if (draft.end_action) draft.end_action.url = event.target.value; changed(); } });
    const endF = field({ id: 'sc-end-url', label: t('admin.scripts.fields.end_url'), control: endUrl, hint: t('admin.scripts.hints.end_url') });
    endF.setError(fieldError('sc-end-url'));
    const known = [...new Set([...BOT_LANGUAGES, ...draft.languages])];
    const langError = fieldError('sc-lang-en');

    const form = h('form', { class: 'admin-form script-form', novalidate: true, onsubmit: save, 'aria-label': t('admin.scripts.editor_label') },
      summary,
      readOnly ? h('p', { class: 'banner info' }, icon('lock'), h('span', {}, t('admin.admin_only_note'))) : null,
      restoredNote ? h('div', { class: 'banner info', role: 'status' }, icon('history'), h('span', {}, t('admin.scripts.restored_banner', { n: restoredNote }))) : null,
      secret ? secretsPanel({ end_action_secret: secret }, { onStored: () => { secret = null; paint(); } }) : null,
      h('fieldset', {}, h('legend', {}, t('admin.scripts.basics')),
        nameF, keyF,
        field({ id: 'sc-demand', label: t('admin.scripts.fields.demand'), control: area('demand', 2, 2000), hint: t('admin.scripts.hints.demand'), optional: true }),
        field({ id: 'sc-description', label: t('admin.scripts.fields.description'), control: area('description', 2, 2000), optional: true }),
        checkbox({ id: 'sc-active', label: t('admin.scripts.fields.active'), checked: draft.active, disabled: readOnly, hint: t('admin.scripts.hints.active'),
          onchange: (event) => { draft.active = event.target.checked; changed(); } })),
      examplesBlock(),
      h('fieldset', { class: 'languages' }, h('legend', {}, t('admin.scripts.fields.languages')),
        h('p', { class: 'hint' }, t('admin.scripts.hints.languages')),
        langError ? h('p', { class: 'field-error' }, icon('circle-alert'), h('span', {}, langError)) : null,
        h('div', { class: 'check-grid' }, known.map((code) => checkbox({ id: `sc-lang-${code}`, label: tOr(`admin.bot_languages.${code}`, code),
          checked: draft.languages.includes(code), disabled: readOnly,
          onchange: (event) => {
            draft.languages = event.target.checked ? [...draft.languages, code] : draft.languages.filter((c) => c !== code);
            changed();
          } })))),
      stepsBlock(),
      h('fieldset', {}, h('legend', {}, t('admin.scripts.ending')),
        field({ id: 'sc-closing', label: t('admin.scripts.fields.closing'), control: area('closing_message', 3, 4000), hint: t('admin.scripts.hints.closing'), optional: true }),
        checkbox({ id: 'sc-end-on', label: t('admin.scripts.fields.end_action'), checked: !!draft.end_action, disabled: readOnly, hint: t('admin.scripts.hints.end_action'),
          onchange: (event) => { draft.end_action = event.target.checked ? { url: '' } : null; changed(); paint({ focusId: event.target.checked ? 'sc-end-url' : 'sc-end-on' }); } }),
        endF),
      readOnly ? h('p', { class: 'callout' }, icon('info'), h('span', {}, t('admin.admin_only_note'))) : h('div', { class: 'form-actions sticky' },
        h('button', { type: 'submit', class: 'button primary', id: 'sc-save' }, isNew ? t('admin.scripts.create') : t('admin.scripts.save')),
        dirtyMark = h('span', { class: 'dirty-mark', hidden: !dirty() }, t('admin.scripts.unsaved')),
        !isNew ? h('button', { type: 'button', class: 'button danger', onclick: remove }, icon('trash-2'), t('common.delete')) : null));
    replace(el, h('section', { class: 'page admin-page wide' },
      pageHead(isNew ? t('admin.scripts.new_title') : draft.name || script.name, {
        back: { href: '/admin/scripts', label: t('admin.sections.scripts') },
        lead: !isNew && script ? t('admin.scripts.version_line', { n: script.current_version }) : null,
      }),
      h('div', { class: 'editor-layout' }, h('div', {}, form, versionsBlock()), h('aside', { class: 'try-dock', 'aria-label': t('admin.try.title') }, tryBox.el))));
    scroller.scrollTop = top;
    if (focusId) { const target = el.querySelector(`#${focusId}`); if (target) target.focus(); }
    if (focusSel) {
      const target = el.querySelector(focusSel);
      if (target && !target.disabled) target.focus();
      else { const pick = el.querySelector('.step-item.selected .step-pick'); if (pick) pick.focus(); }
    }
  }

  async function start() {
    replace(el, h('section', { class: 'page admin-page' }, pageHead(t('admin.sections.scripts')), h('div', { class: 'region' })));
    if (!isNew) {
      try {
        script = await get(`/scripts/${scriptId}`);
      } catch (err) {
        replace(el.querySelector('.region'), errorBox(t('admin.scripts.what_one'), err, start));
        return;
      }
      draft = structuredClone(script.definition);
      saved = JSON.stringify(draft);
      const pending = sessionStorage.getItem(`helpline.admin.script-secret.${scriptId}`);
      if (pending) { secret = pending; sessionStorage.removeItem(`helpline.admin.script-secret.${scriptId}`); }
      loadVersions();
    } else {
      saved = JSON.stringify(draft);
    }
    try {
      const kept = sessionStorage.getItem(storeKey);
      if (kept && !readOnly) {
        draft = JSON.parse(kept);
        keyTouched = true;
        ctx.shell.toast(t('admin.scripts.draft_restored'), { action: { label: t('admin.scripts.discard'), run: () => {
          draft = JSON.parse(saved);
          sessionStorage.removeItem(storeKey);
          paint();
        } } });
      }
    } catch { /* a broken stored draft is ignored */ }
    paint();
  }
  start();
  return {
    update(route, { relabel } = {}) { if (relabel) { tryBox.relabel(); paint(); } },
    unmount() { stopGuard(); },
  };
}
