// The channel wizard (/admin/channels/new/<step>): kind → details → credentials → webhook → check → members.
// One step per page with its own URL; the draft lives in sessionStorage so Back, reload and the language switch
// lose nothing. The channel is created when the credentials step is accepted (the later steps need its id).

import { get, patch, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { channelIcon } from '../views/channels.js';
import { KINDS, KIND_ORDER, META_KINDS, payload } from './channel-kinds.js';
import { connectionFields, doctorPanel, membersPicker, webhookSetup } from './channel-parts.js';
import {
  byName, errorText, field, pageHead, secretsPanel, serverProblems, showSummary, summaryBox,
} from './kit.js';

const KEY = 'helpline.admin.channel-draft';
const STEPS = ['kind', 'details', 'credentials', 'webhook', 'check', 'members'];

function loadDraft() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null') || fresh();
  } catch {
    return fresh();
  }
}

function fresh() {
  return { kind: null, name: '', profile_id: '', default_event_id: '', values: {}, channel: null, secrets: null,
    stored: false, member_ids: [] };
}

export function mountWizard(ctx, el, step0) {
  let draft = loadDraft();
  let step = STEPS.includes(step0) ? step0 : 'kind';
  let lookups = null; // {profiles, events, operators}
  const save = () => {
    // Secrets are kept only until "I have stored it" is ticked, and never longer than this tab.
    try { sessionStorage.setItem(KEY, JSON.stringify(draft)); } catch { /* private mode */ }
  };
  const go = (name) => ctx.navigate(`/admin/channels/new/${name}`);

  function allowed(name) {
    // A later step needs what the earlier ones give: the kind, a name, then the created channel.
    const index = STEPS.indexOf(name);
    if (index >= 1 && !draft.kind) return 'kind';
    if (index >= 2 && !draft.name.trim()) return 'details';
    if (index >= 3 && !draft.channel) return 'credentials';
    return name;
  }

  function progress() {
    const index = STEPS.indexOf(step);
    return h('ol', { class: 'wizard-progress', 'aria-label': t('admin.wizard.progress', { step: index + 1, total: STEPS.length }) },
      STEPS.map((name, i) => h('li', { class: [i < index && 'done', i === index && 'current'], 'aria-current': i === index ? 'step' : null },
        h('span', { class: 'step-dot', 'aria-hidden': 'true' }, i < index ? icon('check') : String(i + 1)),
        h('span', { class: 'step-label' }, t(`admin.wizard.steps.${name}`)))));
  }

  function actions({ back, next, nextLabel, busy = false, disabled = false }) {
    return h('div', { class: 'wizard-actions' },
      back ? h('button', { type: 'button', class: 'button', onclick: () => go(back) }, icon('arrow-left'), t('admin.wizard.back'))
        : h('a', { class: 'button ghost', href: '/admin/channels', onclick: () => { if (!draft.channel) sessionStorage.removeItem(KEY); } },
          t('common.cancel')),
      next && h('button', { type: 'submit', class: 'button primary', disabled: busy || disabled },
        busy ? t('admin.wizard.saving') : nextLabel || t('admin.wizard.next')));
  }

  function frame(body, form) {
    const index = STEPS.indexOf(step);
    replace(el, h('section', { class: 'page admin-page wizard' },
      pageHead(draft.channel ? t('admin.wizard.title_named', { name: draft.channel.name }) : t('admin.wizard.title'), {
        back: { href: '/admin/channels', label: t('admin.sections.channels') },
        // A draft survives leaving the wizard; this starts another channel (one already created stays).
        actions: draft.kind ? [h('button', { type: 'button', class: 'button ghost', onclick: () => {
          sessionStorage.removeItem(KEY);
          draft = fresh();
          if (step === 'kind') render(); else go('kind');
        } }, icon('rotate-ccw'), t('admin.wizard.start_over'))] : [],
      }),
      progress(),
      h('h2', { class: 'wizard-step-title', id: 'wizard-step-title', tabindex: '-1' },
        t('admin.wizard.step_of', { step: index + 1, total: STEPS.length, name: t(`admin.wizard.steps.${step}`) })),
      form ? form(body) : body));
    const heading = el.querySelector('#wizard-step-title');
    if (heading) heading.focus({ preventScroll: true });
  }

  const stepForm = (onsubmit, ...children) => h('form', { class: 'wizard-form', novalidate: true, 'aria-labelledby': 'wizard-step-title',
    onsubmit: (event) => { event.preventDefault(); onsubmit(); } }, children);

  // ---- 1. kind
  function kindStep() {
    const name = 'wizard-kind';
    frame(stepForm(() => { if (draft.kind) go('details'); },
      h('fieldset', { class: 'kind-cards' }, h('legend', { class: 'sr-only' }, t('admin.wizard.steps.kind')),
        KIND_ORDER.map((kind) => h('label', { class: ['kind-card', draft.kind === kind && 'selected'] },
          h('input', { type: 'radio', name, value: kind, checked: draft.kind === kind, disabled: !!draft.channel && draft.kind !== kind,
            onchange: (event) => {
              draft.kind = kind;
              draft.values = {};
              save();
              const form = event.target.form;
              form.querySelectorAll('.kind-card').forEach((card) => card.classList.toggle('selected', card.contains(event.target)));
              form.querySelector('[type=submit]').disabled = false;
            } }),
          channelIcon(kind), h('span', { class: 'kind-name' }, t(`kinds.${kind}`)),
          h('span', { class: 'kind-desc' }, t(`admin.wizard.kind_desc.${kind}`))))),
      actions({ next: true, disabled: !draft.kind })));
  }

  // ---- 2. details
  function detailsStep() {
    const summary = summaryBox('wizard-summary');
    const nameInput = h('input', { type: 'text', value: draft.name, maxlength: 200, required: true,
      oninput: (event) => { draft.name = event.target.value; save(); } });
    const nameField = field({ id: 'wizard-name', label: t('admin.channels.fields.name'), control: nameInput,
      hint: t('admin.channels.hints.name') });
    const profiles = byName(lookups.profiles);
    const events = byName(lookups.events);
    const eventSelect = h('select', { onchange: (event) => { draft.default_event_id = event.target.value; save(); } });
    const fillEvents = () => replace(eventSelect, h('option', { value: '' }, t('admin.channels.no_event')),
      events.filter((e) => !draft.profile_id || !e.profile_id || String(e.profile_id) === String(draft.profile_id))
        .map((e) => h('option', { value: String(e.id), selected: String(e.id) === String(draft.default_event_id) }, e.name)));
    fillEvents();
    const profileSelect = h('select', { onchange: (event) => { draft.profile_id = event.target.value; save(); fillEvents(); } },
      h('option', { value: '' }, t('admin.channels.no_profile')),
      profiles.map((p) => h('option', { value: String(p.id), selected: String(p.id) === String(draft.profile_id) }, p.name)));
    frame(stepForm(() => {
      const errors = [];
      if (!draft.name.trim()) errors.push({ id: 'wizard-name', message: t('admin.form.required', { field: t('admin.channels.fields.name') }) });
      nameField.setError(errors.length ? errors[0].message : null);
      showSummary(summary, errors);
      if (!errors.length) go('credentials');
    },
    summary, nameField,
    field({ id: 'wizard-profile', label: t('admin.channels.fields.profile'), control: profileSelect, optional: true,
      hint: t('admin.channels.hints.profile') }),
    field({ id: 'wizard-event', label: t('admin.channels.fields.default_event'), control: eventSelect, optional: true,
      hint: t('admin.channels.hints.default_event') }),
    actions({ back: 'kind', next: true })));
  }

  // ---- 3. credentials (creates the channel, or updates it when the admin came back)
  function credentialsStep(busy = false) {
    const summary = summaryBox('wizard-summary');
    const fields = connectionFields(draft.kind, draft.values, { keepStored: !!draft.channel, onChange: save });
    const submit = async () => {
      const errors = fields.validate();
      showSummary(summary, errors);
      if (errors.length) return;
      credentialsStep(true);
      const body = {
        name: draft.name.trim(),
        profile_id: draft.profile_id ? Number(draft.profile_id) : null,
        default_event_id: draft.default_event_id ? Number(draft.default_event_id) : null,
        ...payload(draft.kind, draft.values, { keepStored: !!draft.channel, baseSettings: draft.channel ? draft.channel.settings : {} }),
      };
      try {
        let saved;
        if (draft.channel) {
          if (body.credentials === null) delete body.credentials;
          saved = await patch(`/channels/${draft.channel.id}`, body);
        } else {
          saved = await post('/channels', { kind: draft.kind, ...body, member_ids: draft.member_ids });
        }
        const { secrets, ...channel } = saved;
        draft.channel = channel;
        if (secrets && Object.keys(secrets).length) {
          draft.secrets = secrets;
          draft.stored = false;
        }
        // Secrets typed by the admin are not kept in the draft once the server has them.
        for (const item of KINDS[draft.kind].fields) if (item.secret) draft.values[item.key] = '';
        save();
        go('webhook');
      } catch (err) {
        credentialsStep(false);
        const again = el.querySelector('#wizard-summary');
        const problems = serverProblems(err).map((p) => {
          const mapped = p.path ? fields.serverError(p.path.replace(/^(settings|credentials)\./, ''), p.message) : null;
          return mapped || { id: null, message: p.text };
        });
        showSummary(again, problems);
      }
    };
    frame(stepForm(submit, summary,
      h('p', { class: 'lead' }, t(`admin.wizard.credentials_lead.${draft.kind}`)),
      fields.el,
      actions({ back: 'details', next: true, busy, nextLabel: draft.channel ? t('admin.wizard.save_next') : t('admin.wizard.create') })));
  }

  // ---- 4. webhook (and the secrets shown once)
  function webhookStep() {
    const channel = draft.channel;
    const mustStore = draft.secrets && !draft.stored;
    const next = h('button', { type: 'submit', class: 'button primary', disabled: mustStore }, t('admin.wizard.next'));
    const reason = h('p', { class: 'hint', id: 'wizard-store-first', hidden: !mustStore }, t('admin.secrets.store_first'));
    if (mustStore) next.setAttribute('aria-describedby', 'wizard-store-first');
    frame(stepForm(() => { if (!(draft.secrets && !draft.stored)) go(META_KINDS.has(channel.kind) ? 'check' : 'members'); },
      draft.secrets && !draft.stored ? secretsPanel(draft.secrets, { onStored: () => {
        draft.stored = true;
        draft.secrets = null;
        save();
        next.disabled = false;
        next.removeAttribute('aria-describedby');
        reason.hidden = true;
      } }) : null,
      webhookSetup(channel),
      h('div', { class: 'wizard-actions' },
        h('button', { type: 'button', class: 'button', onclick: () => go('credentials') }, icon('arrow-left'), t('admin.wizard.back')),
        next),
      reason));
  }

  // ---- 5. check (the Meta doctor)
  function checkStep() {
    const doctor = doctorPanel(draft.channel);
    frame(stepForm(() => go('members'),
      h('p', { class: 'lead' }, t('admin.wizard.check_lead')),
      doctor.el,
      actions({ back: 'webhook', next: true })));
    doctor.run();
  }

  // ---- 6. members
  function membersStep(busy = false) {
    const selected = new Set(draft.member_ids.length ? draft.member_ids : draft.channel.member_ids || []);
    const error = h('p', { class: 'form-error', role: 'alert' });
    frame(stepForm(async () => {
      membersStep(true);
      try {
        await patch(`/channels/${draft.channel.id}`, { member_ids: [...selected] });
        const id = draft.channel.id;
        sessionStorage.removeItem(KEY);
        draft = fresh();
        ctx.shell.toast(t('admin.wizard.done'), { kind: 'info' });
        ctx.navigate(`/admin/channels/${id}`);
      } catch (err) {
        membersStep(false);
        el.querySelector('.form-error').textContent = t('admin.form.save_failed', { reason: errorText(err) });
      }
    },
    membersPicker(lookups.operators, selected, { onChange: () => { draft.member_ids = [...selected]; save(); } }),
    error,
    actions({ back: META_KINDS.has(draft.kind) ? 'check' : 'webhook', next: true, busy, nextLabel: t('admin.wizard.finish') })));
  }

  async function ensureLookups() {
    if (lookups) return;
    const [profiles, events, operators] = await Promise.all([get('/profiles'), get('/events'), get('/operators')]);
    lookups = { profiles, events, operators };
  }

  async function render() {
    const want = allowed(step);
    if (want !== step) {
      ctx.navigate(`/admin/channels/new/${want}`, { replace: true });
      return;
    }
    try {
      await ensureLookups();
    } catch (err) {
      replace(el, h('section', { class: 'page admin-page' }, pageHead(t('admin.wizard.title')),
        h('div', { class: 'error-box', role: 'alert' }, t('admin.errors.load_failed', { what: t('admin.wizard.title'), reason: errorText(err) }),
          ' ', h('button', { type: 'button', class: 'button small', onclick: render }, t('common.retry')))));
      return;
    }
    ({ kind: kindStep, details: detailsStep, credentials: credentialsStep, webhook: webhookStep, check: checkStep,
      members: membersStep })[step]();
  }

  render();
  return {
    update(name) {
      step = STEPS.includes(name) ? name : 'kind';
      render();
    },
    unmount() {},
  };
}
