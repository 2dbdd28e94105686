// Operators (/admin/operators, /admin/operators/<id|new>): the team table and an edit drawer beside it — role
// explained in a line each, channel membership grouped by profile, "their inbox will be empty", deactivate.

import { get, patch, post } from '../api.js';
import { avatar, h, icon, replace } from '../dom.js';
import { full, relative } from '../format.js';
import { t } from '../i18n.js';
import { channelIcon } from '../views/channels.js';
import {
  byName, emptyState, errorText, field, loadInto, pageHead, serverProblems, showSummary, subPath, summaryBox,
} from './kit.js';

const ROLES = ['agent', 'supervisor', 'admin'];
const SECONDARY = new Set(['email', 'last_login']);
const MIN_PASSWORD = 8; // auth/passwords.py MIN_LENGTH

export function mount(ctx, el, route) {
  let data = null; // {operators, channels, profiles}
  let editing = null; // 'new' | operator id | null
  let form = null; // the drawer's values, kept across re-renders and language switches
  let opener = null;
  const region = h('div', { class: 'region' });
  const tableSlot = h('div', {});
  const drawerSlot = h('div', {});

  function frame() {
    replace(el, h('section', { class: 'page admin-page wide' },
      pageHead(t('admin.sections.operators'), {
        lead: t('admin.operators.lead'),
        actions: [h('a', { class: 'button primary', href: '/admin/operators/new' }, icon('user-plus'), t('admin.operators.add'))],
      }), region));
  }

  function channelNames(ids) {
    const names = ids.map((id) => (data.channels.find((c) => c.id === id) || {}).name).filter(Boolean);
    return names;
  }

  function table() {
    if (!data.operators.length) {
      return emptyState({ iconName: 'users', title: t('admin.operators.empty'),
        action: h('a', { class: 'button primary', href: '/admin/operators/new' }, icon('user-plus'), t('admin.operators.add')) });
    }
    return h('table', { class: 'data' },
      h('caption', { class: 'sr-only' }, t('admin.sections.operators')),
      h('thead', {}, h('tr', {}, ['name', 'email', 'role', 'channels', 'last_login', 'active'].map((col) =>
        h('th', { scope: 'col', class: SECONDARY.has(col) ? 'secondary' : null }, t(`admin.operators.cols.${col}`))))),
      h('tbody', {}, byName(data.operators).map((o) => {
        const names = o.role === 'agent' ? channelNames(o.channel_ids || []) : null;
        return h('tr', { class: [!o.active && 'inactive', editing === o.id && 'selected-row'] },
          h('td', { 'data-label': t('admin.operators.cols.name') },
            h('a', { class: 'name-link', href: `/admin/operators/${o.id}`, 'aria-current': editing === o.id ? 'true' : null },
              avatar(o.name, `op${o.id}`, 'sm'), h('span', {}, o.name))),
          h('td', { class: 'secondary', 'data-label': t('admin.operators.cols.email') }, o.email),
          h('td', { 'data-label': t('admin.operators.cols.role') }, t(`roles.${o.role}`)),
          h('td', { 'data-label': t('admin.operators.cols.channels') }, names === null
            ? h('span', { class: 'muted' }, t('admin.operators.all_channels'))
            : names.length ? names.join(', ') : h('span', { class: 'chip status-warn' }, icon('triangle-alert'), t('admin.operators.no_channels'))),
          h('td', { class: 'secondary', 'data-label': t('admin.operators.cols.last_login') }, o.last_login_at
            ? h('time', { datetime: o.last_login_at, title: full(o.last_login_at) }, relative(o.last_login_at))
            : h('span', { class: 'muted' }, t('admin.operators.never'))),
          h('td', { 'data-label': t('admin.operators.cols.active') }, o.active
            ? h('span', { class: 'chip status-ok' }, icon('circle-check'), t('admin.operators.active'))
            : h('span', { class: 'chip' }, icon('x'), t('admin.operators.inactive'))));
      })));
  }

  function openForm(id) {
    if (id === 'new') {
      form = { name: '', email: '', password: '', role: 'agent', channel_ids: new Set(), active: true };
    } else {
      const o = data.operators.find((x) => x.id === id);
      if (!o) return false;
      form = { name: o.name, email: o.email, password: '', role: o.role, channel_ids: new Set(o.channel_ids || []), active: o.active };
    }
    return true;
  }

  function membership(onChange) {
    const groups = new Map();
    for (const c of byName(data.channels)) {
      const key = c.profile_id ?? 0;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(c);
    }
    const profileName = (id) => (id ? (data.profiles.find((p) => p.id === id) || {}).name || t('admin.operators.unknown_profile') : t('admin.channels.no_profile'));
    if (!data.channels.length) return h('p', { class: 'muted' }, t('admin.operators.no_channels_exist'));
    return h('fieldset', { class: 'membership' }, h('legend', {}, t('admin.operators.membership')),
      [...groups.entries()].map(([profileId, channels]) => h('div', { class: 'profile-group', role: 'group', 'aria-labelledby': `og-${profileId}` },
        h('h3', { id: `og-${profileId}` }, profileName(profileId)),
        channels.map((c) => h('div', { class: 'field checkbox' },
          h('input', { type: 'checkbox', id: `op-ch-${c.id}`, checked: form.channel_ids.has(c.id),
            onchange: (event) => { if (event.target.checked) form.channel_ids.add(c.id); else form.channel_ids.delete(c.id); onChange(); } }),
          h('label', { for: `op-ch-${c.id}`, class: 'kind' }, channelIcon(c.kind, { labelled: true }), h('span', {}, c.name)))))));
  }

  function drawer() {
    const isNew = editing === 'new';
    const self = !isNew && editing === ctx.me.id;
    const summary = summaryBox('operator-summary');
    const fields = {};
    const text = (key, type, props = {}) => h('input', { type, value: form[key], oninput: (e) => { form[key] = e.target.value; }, ...props });
    fields.name = field({ id: 'op-name', label: t('admin.operators.fields.name'), control: text('name', 'text', { maxlength: 200, required: true, autocomplete: 'off' }) });
    fields.email = isNew ? field({ id: 'op-email', label: t('admin.operators.fields.email'), control: text('email', 'email', { required: true, autocomplete: 'off', spellcheck: 'false' }) }) : null;
    fields.password = field({ id: 'op-password', label: isNew ? t('admin.operators.fields.password') : t('admin.operators.fields.new_password'),
      control: text('password', 'password', { autocomplete: 'new-password', required: isNew, minlength: MIN_PASSWORD }),
      optional: !isNew, hint: isNew ? t('admin.operators.hints.password', { count: MIN_PASSWORD }) : t('admin.operators.hints.new_password') });
    const emptyWarning = h('p', { class: 'callout warn', id: 'op-empty-inbox', role: 'status' });
    const refreshWarning = () => {
      const empty = form.role === 'agent' && form.channel_ids.size === 0;
      emptyWarning.hidden = !empty;
      replace(emptyWarning, empty ? [icon('triangle-alert'), h('span', {}, t('admin.operators.empty_inbox'))] : []);
    };
    const roles = h('fieldset', { class: 'role-options' }, h('legend', {}, t('admin.operators.fields.role')),
      self ? h('p', { class: 'hint' }, t('admin.operators.own_role')) : null,
      ROLES.map((role) => h('label', { class: 'role-option' },
        h('input', { type: 'radio', name: 'op-role', value: role, checked: form.role === role, disabled: self,
          onchange: () => { form.role = role; refreshWarning(); } }),
        h('span', { class: 'role-name' }, t(`roles.${role}`)),
        h('span', { class: 'role-desc' }, t(`admin.operators.role_desc.${role}`)))));
    const save = h('button', { type: 'submit', class: 'button primary' }, isNew ? t('admin.operators.create') : t('common.save'));

    async function submit(event) {
      event.preventDefault();
      const errors = [];
      const need = (key, wrap, message) => {
        wrap.setError(message);
        if (message) errors.push({ id: wrap.control.id, message });
      };
      need('name', fields.name, form.name.trim() ? null : t('admin.form.required', { field: t('admin.operators.fields.name') }));
      if (fields.email) {
        need('email', fields.email, !form.email.trim() ? t('admin.form.required', { field: t('admin.operators.fields.email') })
          : /^[^@\s]+@[^@\s]+$/.test(form.email.trim()) ? null : t('admin.operators.errors.email'));
      }
      need('password', fields.password, (isNew && !form.password) ? t('admin.form.required', { field: t('admin.operators.fields.password') })
        : form.password && form.password.length < MIN_PASSWORD ? t('admin.operators.errors.password', { count: MIN_PASSWORD }) : null);
      showSummary(summary, errors);
      if (errors.length) return;
      save.disabled = true;
      save.textContent = t('admin.form.saving');
      const body = { name: form.name.trim(), role: form.role, channel_ids: [...form.channel_ids] };
      if (form.password) body.password = form.password;
      if (self) delete body.role;
      try {
        if (isNew) {
          const created = await post('/operators', { ...body, email: form.email.trim() });
          ctx.shell.toast(t('admin.operators.created', { name: created.name }));
          form = null;
          await reload();
          ctx.navigate(`/admin/operators/${created.id}`, { replace: true });
        } else {
          await patch(`/operators/${editing}`, body);
          form.password = '';
          ctx.shell.toast(t('admin.form.saved'));
          await reload();
        }
      } catch (err) {
        save.disabled = false;
        save.textContent = isNew ? t('admin.operators.create') : t('common.save');
        const map = { name: fields.name, email: fields.email, password: fields.password };
        showSummary(summary, serverProblems(err).map((p) => {
          const wrap = map[p.path];
          if (wrap) { wrap.setError(p.message); return { id: wrap.control.id, message: p.message }; }
          return { id: null, message: err.status === 409 || p.path === '' ? errorText(err) : p.text };
        }));
      }
    }

    async function setActive(active) {
      try {
        await patch(`/operators/${editing}`, { active });
        const name = form.name;
        await reload();
        ctx.shell.toast(active ? t('admin.operators.reactivated', { name }) : t('admin.operators.deactivated', { name }),
          active ? {} : { action: { label: t('common.undo'), run: () => setActive(true) } });
      } catch (err) {
        ctx.shell.toast(t('admin.form.save_failed', { reason: errorText(err) }), { kind: 'error' });
      }
    }

    const panel = h('section', { class: 'drawer', 'aria-labelledby': 'op-drawer-title',
      onkeydown: (event) => { if (event.key === 'Escape') ctx.navigate('/admin/operators'); } },
      h('div', { class: 'drawer-head' },
        h('h2', { id: 'op-drawer-title', tabindex: '-1' }, isNew ? t('admin.operators.new_title') : form.name || t('admin.operators.edit_title')),
        h('a', { class: 'icon-button', href: '/admin/operators', 'aria-label': t('common.close'), title: t('common.close') }, icon('x'))),
      h('form', { novalidate: true, onsubmit: submit },
        summary, fields.name, fields.email,
        !isNew ? h('p', { class: 'hint' }, t('admin.operators.email_fixed', { email: form.email })) : null,
        roles, emptyWarning, membership(refreshWarning), fields.password,
        h('div', { class: 'form-actions' }, save,
          !isNew && !self ? (form.active
            ? h('button', { type: 'button', class: 'button danger', onclick: () => setActive(false) }, icon('user-x'), t('admin.operators.deactivate'))
            : h('button', { type: 'button', class: 'button', onclick: () => setActive(true) }, icon('user-check'), t('admin.operators.reactivate'))) : null),
        !isNew && !self ? h('p', { class: 'hint' }, t('admin.operators.deactivate_hint')) : null));
    refreshWarning();
    return panel;
  }

  function paint({ focusDrawer = false } = {}) {
    const open = editing !== null && form !== null;
    replace(region, h('div', { class: ['with-drawer', open && 'open'] }, h('div', {}, table()), open ? drawer() : null));
    if (focusDrawer && open) region.querySelector('#op-drawer-title').focus();
  }

  async function load() {
    const [operators, channels, profiles] = await Promise.all([get('/operators'), get('/channels'), get('/profiles')]);
    data = { operators, channels, profiles };
  }

  function select(where, { focus = true } = {}) {
    const [first] = subPath(where);
    const wanted = first === 'new' ? 'new' : first && /^\d+$/.test(first) ? Number(first) : null;
    if (wanted !== editing || !form) {
      if (wanted === null && editing !== null) opener = editing;
      editing = wanted;
      form = null;
      if (wanted !== null && !openForm(wanted)) editing = null;
    }
    paint({ focusDrawer: focus && editing !== null });
    if (editing === null && opener !== null) {
      const link = region.querySelector(`a[href="/admin/operators/${opener}"]`);
      if (link) link.focus();
      opener = null;
    }
  }

  async function reload() {
    await load();
    if (typeof editing === 'number' && form) {
      // Keep what is being typed; refresh the rest.
      const o = data.operators.find((x) => x.id === editing);
      if (o) form.active = o.active;
    }
    paint();
  }

  frame();
  loadInto(region, {
    what: () => t('admin.operators.what'),
    load,
    render: () => select(route, { focus: false }),
  });
  return {
    update(where, { relabel } = {}) {
      route = where;
      if (relabel) frame();
      if (data) select(where, { focus: !relabel });
    },
    unmount() {},
  };
}
