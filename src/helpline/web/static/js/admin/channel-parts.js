// Pieces the channel wizard and the channel page share: credential fields, the webhook set-up, the Meta
// doctor's checklist and the members picker.

import { ApiError, get } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { channelIcon } from '../views/channels.js';
import { KINDS, SUBSCRIBE, checkField, looksLikePhone } from './channel-kinds.js';
import { byName, checkbox, copyValue, errorBox, field, tOr, uid } from './kit.js';

/** The status chip of a channel: Active, Disabled, or a loud "Needs re-authorisation". */
export function channelStatus(channel) {
  const status = channel.status || 'active';
  const cls = status === 'needs_reauth' ? 'chip status-bad' : status === 'disabled' ? 'chip' : 'chip status-ok';
  const iconName = status === 'needs_reauth' ? 'circle-alert' : status === 'disabled' ? 'x' : 'circle-check';
  return h('span', { class: cls }, icon(iconName), tOr(`admin.channels.status.${status}`, status));
}

export function kindLabel(kind) {
  return h('span', { class: 'kind' }, channelIcon(kind), h('span', {}, t(`kinds.${kind}`)));
}

/**
 * The connection fields of `kind`, bound to `values` (edited in place). Returns {el, validate()} where
 * validate() marks every field and returns [{id, message}].
 */
export function connectionFields(kind, values, { keepStored = false, onChange } = {}) {
  const spec = KINDS[kind];
  const wraps = [];
  const el = h('div', { class: 'connection-fields' });
  for (const item of spec.fields) {
    const id = uid(`ch-${item.key}`);
    const control = item.options ? h('select', {
      onchange: (event) => { values[item.key] = event.target.value; if (onChange) onChange(); },
    }, item.options.map((option) => h('option', { value: option, selected: (values[item.key] || item.options[0]) === option },
      t(`admin.channels.choices.${item.key}.${option}`)))) : h('input', {
      type: item.secret ? 'password' : item.type || 'text', value: values[item.key] ?? '', autocomplete: item.secret ? 'new-password' : 'off',
      spellcheck: 'false', inputmode: item.inputmode || null, required: item.required && !(item.secret && keepStored), class: 'mono',
      oninput: (event) => { values[item.key] = event.target.value; if (onChange) onChange(); },
    });
    const hintKey = item.secret && keepStored ? 'admin.channels.hints.keep_secret' : item.hint ? `admin.channels.hints.${item.hint}` : null;
    const wrap = field({
      id, label: t(`admin.channels.fields.${item.key}`), control, optional: !item.required,
      hint: hintKey ? t(hintKey) : null,
      where: item.where ? item.where() : null,
      extra: item.warning ? h('p', { class: 'callout warn' }, icon('triangle-alert'), h('span', {}, t(`admin.channels.warnings.${item.warning}`))) : null,
    });
    control.addEventListener('blur', () => {
      const error = checkField(item, control.value, { keepStored });
      wrap.setError(control.value ? error : null);
      if (item.phoneNote) wrap.setNote(looksLikePhone(control.value) ? t('admin.channels.errors.phone_not_id') : null);
    });
    wraps.push({ item, wrap, control });
    el.append(wrap);
  }
  if (spec.toggles.length) {
    el.append(h('fieldset', { class: 'toggles' }, h('legend', {}, t('admin.channels.options')),
      spec.toggles.map((toggle) => checkbox({
        id: uid(`ch-${toggle.key}`), label: t(`admin.channels.toggles.${toggle.key}`), checked: values[toggle.key] ?? toggle.default,
        hint: t(`admin.channels.toggle_hints.${toggle.key}`),
        onchange: (event) => { values[toggle.key] = event.target.checked; if (onChange) onChange(); },
      }))));
  }
  function validate() {
    const errors = [];
    for (const { item, wrap, control } of wraps) {
      const error = checkField(item, control.value, { keepStored });
      wrap.setError(error);
      const label = t(`admin.channels.fields.${item.key}`);
      if (error) errors.push({ id: control.id, message: error.includes(label) ? error : `${label}: ${error}` });
    }
    return errors;
  }
  /** Put a server message ("phone_number_id: …") on its field; false when no field matched. */
  function serverError(path, message) {
    const found = wraps.find(({ item }) => path === item.key || path.endsWith(`.${item.key}`));
    if (!found) return null;
    found.wrap.setError(message);
    return { id: found.control.id, message: `${t(`admin.channels.fields.${found.item.key}`)}: ${message}` };
  }
  return { el, validate, serverError };
}

/** The Meta callback URL: Meta calls Helpline at /webhooks/meta for all three products. */
export function metaCallbackUrl() {
  return `${location.origin}/webhooks/meta`;
}

/** Step "webhook": where Meta (or the system behind an API channel) must call Helpline, with copy buttons. */
/** The one line a website adds to show the chat (served by this Helpline, never a CDN). */
export function widgetSnippet(channel) {
  return `<script src="${location.origin}/widget.js" data-channel="${channel.id}" async></script>`;
}

export function webhookSetup(channel) {
  if (channel.kind === 'widget') {
    return h('div', { class: 'stack' },
      copyValue({ id: uid('snippet'), label: t('admin.channels.webhook.widget_snippet'), value: widgetSnippet(channel),
        hint: t('admin.channels.webhook.widget_snippet_hint') }),
      h('p', { class: 'hint' }, t('admin.channels.webhook.widget_identity')));
  }
  if (channel.kind === 'email') {
    // A mailbox is read by the workers (IMAP IDLE or polling): nothing calls Helpline.
    return h('div', { class: 'stack' },
      h('p', {}, t('admin.channels.webhook.email_reading', { address: (channel.settings || {}).from_address || '' })));
  }
  if (channel.kind === 'api') {
    return h('div', { class: 'stack' },
      copyValue({ id: uid('inbound'), label: t('admin.channels.webhook.inbound_url'), value: channel.inbound_url || '',
        hint: t('admin.channels.webhook.inbound_hint') }),
      h('p', { class: 'hint' }, t('admin.channels.webhook.signature', { header: 'X-Helpline-Signature' })));
  }
  return h('div', { class: 'stack' },
    h('ol', { class: 'steps-list' },
      h('li', {}, t(`admin.channels.webhook.open_${channel.kind}`)),
      h('li', {}, t('admin.channels.webhook.paste'))),
    copyValue({ id: uid('callback'), label: t('admin.channels.webhook.callback_url'), value: metaCallbackUrl(),
      hint: t('admin.channels.webhook.callback_hint') }),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('admin.channels.webhook.verify_token')),
      h('p', { class: 'hint' }, t('admin.channels.webhook.verify_hint', { variable: 'HELPLINE_META_VERIFY_TOKEN' }))),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('admin.channels.webhook.fields')),
      h('p', { class: 'chips' }, SUBSCRIBE[channel.kind].map((name) => h('code', { class: 'chip mono' }, name)))));
}

const CHECK_ICON = { ok: 'circle-check', warn: 'triangle-alert', fail: 'circle-alert' };

function checksOf(answer) {
  if (Array.isArray(answer)) return answer;
  if (answer && Array.isArray(answer.checks)) return answer.checks;
  return [];
}

/**
 * The per-channel Meta doctor (GET /channels/{id}/doctor → {checks: [{id, title, status, message, fix}]}):
 * ok / warn / fail with the fix for each.
 */
export function doctorPanel(channel) {
  const region = h('div', { class: 'doctor', 'aria-live': 'polite' });
  const run = async () => {
    region.setAttribute('aria-busy', 'true');
    replace(region, h('p', { class: 'muted' }, t('admin.channels.doctor.running')));
    try {
      const answer = await get(`/channels/${channel.id}/doctor`);
      const checks = checksOf(answer);
      const counts = { ok: 0, warn: 0, fail: 0 };
      checks.forEach((c) => { counts[c.status] = (counts[c.status] || 0) + 1; });
      replace(region,
        h('p', { class: ['doctor-summary', counts.fail ? 'bad' : counts.warn ? 'warn' : 'ok'] },
          counts.fail ? t('admin.channels.doctor.failed', { count: counts.fail })
            : counts.warn ? t('admin.channels.doctor.warned', { count: counts.warn }) : t('admin.channels.doctor.passed')),
        h('ul', { class: 'checklist' }, checks.map((c) => h('li', { class: `check-${c.status}` },
          icon(CHECK_ICON[c.status] || 'info', { label: tOr(`admin.channels.doctor.status.${c.status}`, c.status) }),
          h('div', {}, h('p', { class: 'check-name' }, c.title || c.name || c.id),
            (c.message || c.detail) && h('p', { class: 'check-detail' }, c.message || c.detail),
            c.fix && c.status !== 'ok' && h('p', { class: 'check-fix' }, h('strong', {}, t('admin.channels.doctor.fix')), ' ', c.fix))))),
        h('button', { type: 'button', class: 'button small', onclick: run }, icon('refresh-cw'), t('admin.channels.doctor.again')));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
        replace(region, h('div', { class: 'callout' }, icon('info'),
          h('span', {}, t('admin.channels.doctor.unavailable', { command: `helpline meta doctor --channel ${channel.id}` }))),
        h('button', { type: 'button', class: 'button small', onclick: run }, icon('refresh-cw'), t('common.retry')));
      } else {
        replace(region, errorBox(t('admin.channels.doctor.what'), err, run));
      }
    } finally {
      region.removeAttribute('aria-busy');
    }
  };
  /** Not run yet: what it does and a button (the channel page asks Meta only when the admin wants to). */
  const idle = () => replace(region, h('p', { class: 'hint' }, t('admin.wizard.check_lead')),
    h('button', { type: 'button', class: 'button', onclick: run }, icon('play'), t('admin.channels.doctor.run')));
  return { el: region, run, idle };
}

/** Channel membership as checkboxes (agents and supervisors; admins see every channel anyway). */
export function membersPicker(operators, selected, { onChange, bare = false } = {}) {
  const people = byName(operators.filter((o) => o.role !== 'admin'));
  if (!people.length) return h('p', { class: 'muted' }, t('admin.channels.members.none'));
  // `bare`: inside a fieldset of the caller's (the channel page), so no second border and legend.
  return h(bare ? 'div' : 'fieldset', { class: 'members' }, bare ? null : h('legend', {}, t('admin.channels.members.legend')),
    h('p', { class: 'hint' }, t('admin.channels.members.hint')),
    h('div', { class: 'check-grid' }, people.map((o) => checkbox({
      id: uid('member'), checked: selected.has(o.id),
      label: h('span', {}, o.name, ' ', h('span', { class: 'muted' }, `· ${t(`roles.${o.role}`)}${o.active ? '' : ` · ${t('admin.operators.inactive')}`}`)),
      onchange: (event) => { if (event.target.checked) selected.add(o.id); else selected.delete(o.id); if (onChange) onChange(); },
    }))));
}
