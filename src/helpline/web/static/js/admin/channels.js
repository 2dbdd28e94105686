// Channels: the list (/admin/channels), the wizard (/admin/channels/new/<step>) and one channel's page
// (/admin/channels/<id>): details, connection, webhook, the Meta check, members, delete.

import { del, get, patch, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { channelIcon } from '../views/channels.js';
import { KINDS, META_KINDS, payload } from './channel-kinds.js';
import { channelStatus, connectionFields, doctorPanel, membersPicker, webhookSetup } from './channel-parts.js';
import { mountWizard } from './channel-wizard.js';
import {
  byName, confirmDialog, emptyState, errorText, field, loadInto, pageHead, secretsPanel, serverProblems, showSummary,
  subPath, summaryBox,
} from './kit.js';

function nameOf(list, id) {
  const found = list.find((item) => item.id === id);
  return found ? found.name : null;
}

function listPage(ctx, el) {
  const region = h('div', { class: 'region' });
  const render = () => {
    replace(el, h('section', { class: 'page admin-page' },
      pageHead(t('admin.sections.channels'), {
        lead: t('admin.channels.lead'),
        actions: [h('a', { class: 'button primary', href: '/admin/channels/new/kind' }, icon('plus'), t('admin.channels.add'))],
      }), region));
  };
  render();
  const reload = loadInto(region, {
    what: () => t('admin.channels.what'),
    load: () => Promise.all([get('/channels'), get('/profiles')]),
    render: ([channels, profiles]) => {
      if (!channels.length) {
        replace(region, emptyState({ iconName: 'message-circle', title: t('admin.channels.empty'), body: t('admin.channels.empty_body'),
          action: h('a', { class: 'button primary', href: '/admin/channels/new/kind' }, icon('plus'), t('admin.channels.add')) }));
        return;
      }
      const broken = channels.filter((c) => c.status === 'needs_reauth');
      replace(region,
        broken.length ? h('div', { class: 'banner bad', role: 'alert' }, icon('circle-alert'),
          h('span', {}, t('admin.channels.reauth_banner', { count: broken.length }))) : null,
        h('table', { class: 'data' },
          h('caption', { class: 'sr-only' }, t('admin.sections.channels')),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('admin.channels.cols.channel')),
            h('th', { scope: 'col' }, t('admin.channels.cols.profile')),
            h('th', { scope: 'col' }, t('admin.channels.cols.status')),
            h('th', { scope: 'col', class: 'num' }, t('admin.channels.cols.members')))),
          h('tbody', {}, byName(channels).map((c) => h('tr', { class: c.status === 'needs_reauth' ? 'row-bad' : null },
            h('td', { 'data-label': t('admin.channels.cols.channel') },
              h('a', { class: 'name-link', href: `/admin/channels/${c.id}` }, channelIcon(c.kind, { labelled: true }), h('span', {}, c.name))),
            h('td', { 'data-label': t('admin.channels.cols.profile') }, nameOf(profiles, c.profile_id) || h('span', { class: 'muted' }, '—')),
            h('td', { 'data-label': t('admin.channels.cols.status') }, h('div', { class: 'status-cell' }, channelStatus(c),
              c.status === 'needs_reauth' && c.status_reason ? h('p', { class: 'status-reason' }, c.status_reason) : null,
              c.status === 'needs_reauth' ? h('a', { class: 'button small danger', href: `/admin/channels/${c.id}?fix=1`, 'aria-label': t('admin.channels.fix_named', { name: c.name }) },
                icon('wand-sparkles'), t('admin.channels.fix')) : null)),
            h('td', { class: 'num', 'data-label': t('admin.channels.cols.members') }, String((c.member_ids || []).length)))))));
    },
  });
  return { update: (route, { relabel } = {}) => { if (relabel) { render(); reload(); } }, unmount() {} };
}

function channelPage(ctx, el, id, route) {
  let state = null; // {channel, profiles, events, operators, values, members, form: {...}}
  let secrets = null;
  const region = h('div', { class: 'region' });

  function shell() {
    replace(el, h('section', { class: 'page admin-page' },
      pageHead(state ? state.channel.name : t('admin.sections.channels'), { back: { href: '/admin/channels', label: t('admin.sections.channels') } }),
      region));
  }

  function render() {
    shell();
    const { channel, profiles, events, operators, form } = state;
    const summary = summaryBox('channel-summary');
    const status = h('p', { class: 'form-status', role: 'status' });
    const nameInput = h('input', { type: 'text', value: form.name, maxlength: 200, required: true, oninput: (e) => { form.name = e.target.value; } });
    const nameField = field({ id: 'channel-name', label: t('admin.channels.fields.name'), control: nameInput });
    const profileSelect = h('select', { onchange: (e) => { form.profile_id = e.target.value; } },
      h('option', { value: '' }, t('admin.channels.no_profile')),
      byName(profiles).map((p) => h('option', { value: String(p.id), selected: String(p.id) === form.profile_id }, p.name)));
    const eventSelect = h('select', { onchange: (e) => { form.default_event_id = e.target.value; } },
      h('option', { value: '' }, t('admin.channels.no_event')),
      byName(events).map((ev) => h('option', { value: String(ev.id), selected: String(ev.id) === form.default_event_id }, ev.name)));
    const statusSelect = h('select', { onchange: (e) => { form.status = e.target.value; } },
      ['active', 'disabled'].map((s) => h('option', { value: s, selected: form.status === s }, t(`admin.channels.status.${s}`))));
    const connection = connectionFields(channel.kind, form.values, { keepStored: true });
    const members = new Set(form.member_ids);
    const save = h('button', { type: 'submit', class: 'button primary' }, t('common.save'));

    async function submit(event) {
      event.preventDefault();
      const errors = [];
      if (!form.name.trim()) errors.push({ id: 'channel-name', message: t('admin.form.required', { field: t('admin.channels.fields.name') }) });
      nameField.setError(errors.length ? errors[0].message : null);
      errors.push(...connection.validate());
      showSummary(summary, errors);
      if (errors.length) return;
      save.disabled = true;
      save.textContent = t('admin.form.saving');
      const body = {
        name: form.name.trim(),
        profile_id: form.profile_id ? Number(form.profile_id) : null,
        default_event_id: form.default_event_id ? Number(form.default_event_id) : null,
        member_ids: [...members],
        ...payload(channel.kind, form.values, { keepStored: true, baseSettings: channel.settings }),
      };
      if (body.credentials === null) delete body.credentials;
      if (form.status !== channel.status && (form.status === 'active' || form.status === 'disabled')) body.status = form.status;
      if (channel.status === 'needs_reauth' && body.credentials) body.status = 'active';
      try {
        const saved = await patch(`/channels/${channel.id}`, body);
        const { secrets: revealed, ...fresh } = saved;
        if (revealed && Object.keys(revealed).length) secrets = revealed;
        load(fresh);
        ctx.shell.toast(t('admin.form.saved'));
      } catch (err) {
        save.disabled = false;
        save.textContent = t('common.save');
        showSummary(summary, serverProblems(err).map((p) => connection.serverError(p.path.replace(/^(settings|credentials)\./, ''), p.message)
          || { id: null, message: p.text }));
      }
    }

    const doctor = META_KINDS.has(channel.kind) ? doctorPanel(channel) : null;
    replace(region,
      channel.status === 'needs_reauth' ? h('div', { class: 'banner bad', role: 'alert' }, icon('circle-alert'),
        h('div', {}, h('p', {}, h('strong', {}, t('admin.channels.reauth_title'))),
          channel.status_reason && h('p', {}, channel.status_reason),
          h('p', {}, t(`admin.channels.reauth_fix.${channel.kind}`, {})))) : null,
      secrets ? secretsPanel(secrets, { onStored: () => { secrets = null; render(); } }) : null,
      h('div', { class: 'channel-head' }, channelIcon(channel.kind, { labelled: true }), h('span', {}, t(`kinds.${channel.kind}`)), channelStatus(channel)),
      h('form', { class: 'admin-form', novalidate: true, onsubmit: submit, 'aria-label': t('admin.channels.edit_label', { name: channel.name }) },
        summary,
        h('fieldset', {}, h('legend', {}, t('admin.wizard.steps.details')),
          nameField,
          field({ id: 'channel-profile', label: t('admin.channels.fields.profile'), control: profileSelect, optional: true }),
          field({ id: 'channel-event', label: t('admin.channels.fields.default_event'), control: eventSelect, optional: true,
            hint: t('admin.channels.hints.default_event') }),
          channel.status !== 'needs_reauth' ? field({ id: 'channel-status', label: t('admin.channels.fields.status'), control: statusSelect,
            hint: t('admin.channels.hints.status') }) : null),
        h('fieldset', { id: 'connection' }, h('legend', {}, t('admin.wizard.steps.credentials')), connection.el),
        h('fieldset', {}, h('legend', {}, t('admin.channels.members.legend')), membersPicker(operators, members, { bare: true })),
        h('div', { class: 'form-actions' }, save, status)),
      h('section', { class: 'panel', 'aria-labelledby': 'channel-webhook' }, h('h2', { id: 'channel-webhook' }, t('admin.wizard.steps.webhook')),
        webhookSetup(channel),
        channel.kind === 'api' ? h('button', { type: 'button', class: 'button', onclick: rotate }, icon('refresh-cw'), t('admin.channels.rotate')) : null),
      doctor ? h('section', { class: 'panel', 'aria-labelledby': 'channel-check' }, h('h2', { id: 'channel-check' }, t('admin.wizard.steps.check')),
        doctor.el) : null,
      channel.kind === 'whatsapp' ? h('p', {}, h('a', { href: `/admin/templates?channel=${channel.id}` }, icon('layout-template'), ' ', t('admin.channels.templates_link'))) : null,
      h('section', { class: 'panel danger-zone', 'aria-labelledby': 'channel-danger' }, h('h2', { id: 'channel-danger' }, t('admin.channels.danger')),
        h('p', { class: 'hint' }, t('admin.channels.delete_hint')),
        h('button', { type: 'button', class: 'button danger', onclick: remove }, icon('trash-2'), t('admin.channels.delete'))));
    if (doctor) doctor.idle();
    if (route.query.get('fix') && channel.status === 'needs_reauth') {
      const token = region.querySelector('#connection input[type=password]');
      if (token) { token.focus(); token.scrollIntoView({ block: 'center' }); }
    }
  }

  async function rotate() {
    const ok = await confirmDialog({ title: t('admin.channels.rotate_title'), body: t('admin.channels.rotate_body'), confirmLabel: t('admin.channels.rotate') });
    if (!ok) return;
    try {
      const saved = await post(`/channels/${state.channel.id}/rotate-secret`);
      const { secrets: revealed, ...fresh } = saved;
      secrets = revealed;
      load(fresh);
    } catch (err) {
      ctx.shell.toast(t('admin.form.save_failed', { reason: errorText(err) }), { kind: 'error' });
    }
  }

  async function remove() {
    const ok = await confirmDialog({ title: t('admin.channels.delete_title', { name: state.channel.name }),
      body: t('admin.channels.delete_body'), confirmLabel: t('admin.channels.delete') });
    if (!ok) return;
    try {
      await del(`/channels/${state.channel.id}`);
      ctx.shell.toast(t('admin.channels.deleted', { name: state.channel.name }));
      ctx.navigate('/admin/channels');
    } catch (err) {
      ctx.shell.toast(t('admin.form.delete_failed', { reason: errorText(err) }), { kind: 'error' });
    }
  }

  function load(channel) {
    const values = {};
    for (const item of KINDS[channel.kind] ? KINDS[channel.kind].fields : []) {
      if (item.in === 'settings') {
        const stored = channel.settings[item.key];
        values[item.key] = Array.isArray(stored) ? stored.join(', ') : stored ?? '';
      }
    }
    for (const toggle of KINDS[channel.kind] ? KINDS[channel.kind].toggles : []) values[toggle.key] = channel.settings[toggle.key] ?? toggle.default;
    state.channel = channel;
    state.form = { name: channel.name, profile_id: channel.profile_id ? String(channel.profile_id) : '',
      default_event_id: channel.default_event_id ? String(channel.default_event_id) : '', status: channel.status,
      values, member_ids: channel.member_ids || [] };
    render();
  }

  shell();
  const reload = loadInto(region, {
    what: () => t('admin.channels.what_one'),
    load: () => Promise.all([get(`/channels/${id}`), get('/profiles'), get('/events'), get('/operators')]),
    render: ([channel, profiles, events, operators]) => {
      if (!KINDS[channel.kind]) {
        replace(region, h('p', { class: 'muted' }, t('admin.channels.unknown_kind', { kind: channel.kind })));
        return;
      }
      state = { profiles, events, operators };
      load(channel);
    },
  });
  return {
    update: (next, { relabel } = {}) => {
      route = next;
      if (relabel) { if (state) render(); else reload(); }
    },
    unmount() {},
  };
}

export function mount(ctx, el, route) {
  let view = null;
  let key = null;
  function show(where, opts = {}) {
    const [first, second] = subPath(where);
    const want = first === 'new' ? 'new' : first ? `id:${first}` : 'list';
    if (view && key === want) {
      if (want === 'new') view.update(second || 'kind', opts);
      else view.update(where, opts);
      return;
    }
    if (view) view.unmount();
    key = want;
    if (want === 'new') view = mountWizard(ctx, el, second || 'kind');
    else if (want === 'list') view = listPage(ctx, el);
    else if (/^\d+$/.test(first)) view = channelPage(ctx, el, Number(first), where);
    else {
      replace(el, h('section', { class: 'empty-page' }, h('h1', {}, t('missing.title'))));
      view = { update() {}, unmount() {} };
    }
  }
  show(route);
  return { update: show, unmount() { if (view) view.unmount(); } };
}

