// Profiles and events (/admin/profiles[/profile-<id>|/event-<id>|/new-profile|/new-event]): two tables and an
// edit drawer with the logo upload (PNG/JPEG/WebP, previewed on light and dark) through PUT …/logo.

import { api, del, get, patch, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { bytes } from '../format.js';
import { currentLocale, t } from '../i18n.js';
import {
  byName, confirmDialog, emptyState, errorText, field, loadInto, pageHead, serverProblems, showSummary, subPath, summaryBox,
} from './kit.js';

const LOGO_TYPES = ['image/png', 'image/jpeg', 'image/webp']; // no SVG (it can carry script), ui-guide §8
const LOGO_MAX = 2 * 1024 * 1024; // profiles/actions.py LOGO_MAX_BYTES
const LOGO_MIN_SIDE = 128;

function logo(url, name) {
  return url ? h('img', { class: 'logo-thumb', src: url, alt: '', loading: 'lazy', title: name })
    : h('span', { class: 'logo-thumb', 'aria-hidden': 'true' });
}

function dateText(value) {
  if (!value) return '';
  // A calendar date (no zone): format it as the same day everywhere.
  const [y, m, d] = value.split('-').map(Number);
  return new Intl.DateTimeFormat(currentLocale(), { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

/** Decode an image file to learn its size: {width, height} or null when the browser cannot read it. */
function imageSize(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { resolve({ width: img.naturalWidth, height: img.naturalHeight, url }); };
    img.onerror = () => { URL.revokeObjectURL(url); resolve(null); };
    img.src = url;
  });
}

export function mount(ctx, el, route) {
  let data = null; // {profiles, events}
  let editing = null; // {type: 'profile'|'event', id: number|'new'}
  let form = null;
  const region = h('div', { class: 'region' });
  const objectUrls = new Set();

  function frame() {
    replace(el, h('section', { class: 'page admin-page wide' },
      pageHead(t('admin.sections.profiles'), {
        lead: t('admin.profiles.lead'),
        actions: [
          h('a', { class: 'button', href: '/admin/profiles/new-profile' }, icon('plus'), t('admin.profiles.add_profile')),
          h('a', { class: 'button primary', href: '/admin/profiles/new-event' }, icon('plus'), t('admin.profiles.add_event')),
        ],
      }), region));
  }

  const profileName = (id) => (data.profiles.find((p) => p.id === id) || {}).name;

  function tables() {
    const profiles = data.profiles.length ? h('table', { class: 'data' },
      h('caption', { class: 'sr-only' }, t('admin.profiles.profiles')),
      h('thead', {}, h('tr', {}, ['name', 'description', 'events'].map((c) => h('th', { scope: 'col', class: c === 'events' ? 'num' : null }, t(`admin.profiles.cols.${c}`))))),
      h('tbody', {}, byName(data.profiles).map((p) => h('tr', {},
        h('td', { 'data-label': t('admin.profiles.cols.name') }, h('a', { class: 'name-link', href: `/admin/profiles/profile-${p.id}` }, logo(p.logo_url, p.name), h('span', {}, p.name))),
        h('td', { 'data-label': t('admin.profiles.cols.description') }, p.description || h('span', { class: 'muted' }, '—')),
        h('td', { class: 'num', 'data-label': t('admin.profiles.cols.events') }, String(data.events.filter((e) => e.profile_id === p.id).length))))))
      : emptyState({ iconName: 'building-2', title: t('admin.profiles.empty_profiles'),
        action: h('a', { class: 'button primary', href: '/admin/profiles/new-profile' }, icon('plus'), t('admin.profiles.add_profile')) });
    const events = data.events.length ? h('table', { class: 'data' },
      h('caption', { class: 'sr-only' }, t('admin.profiles.events')),
      h('thead', {}, h('tr', {}, ['name', 'profile', 'dates'].map((c) => h('th', { scope: 'col' }, t(`admin.profiles.cols.${c}`))))),
      h('tbody', {}, data.events.map((e) => h('tr', {},
        h('td', { 'data-label': t('admin.profiles.cols.name') }, h('a', { class: 'name-link', href: `/admin/profiles/event-${e.id}` }, logo(e.logo_url, e.name), h('span', {}, e.name))),
        h('td', { 'data-label': t('admin.profiles.cols.profile') }, profileName(e.profile_id) || h('span', { class: 'muted' }, '—')),
        h('td', { 'data-label': t('admin.profiles.cols.dates') }, e.starts_on || e.ends_on
          ? t('admin.profiles.date_range', { start: dateText(e.starts_on) || '…', end: dateText(e.ends_on) || '…' })
          : h('span', { class: 'muted' }, t('admin.profiles.no_dates')))))))
      : emptyState({ iconName: 'calendar', title: t('admin.profiles.empty_events'),
        action: h('a', { class: 'button primary', href: '/admin/profiles/new-event' }, icon('plus'), t('admin.profiles.add_event')) });
    return h('div', {},
      h('h2', { class: 'table-title' }, t('admin.profiles.profiles')), profiles,
      h('h2', { class: 'table-title' }, t('admin.profiles.events')), events);
  }

  function openForm() {
    const { type, id } = editing;
    const list = type === 'profile' ? data.profiles : data.events;
    const row = id === 'new' ? {} : list.find((x) => x.id === id);
    if (!row) return false;
    form = { name: row.name || '', description: row.description || '', profile_id: row.profile_id ? String(row.profile_id) : '',
      starts_on: row.starts_on || '', ends_on: row.ends_on || '', logo_url: row.logo_url || null, file: null, preview: null };
    return true;
  }

  function logoField() {
    const status = h('p', { class: 'hint', id: 'logo-status', 'aria-live': 'polite' });
    const input = h('input', { type: 'file', accept: LOGO_TYPES.join(',') });
    const wrap = field({ id: 'logo-file', label: t('admin.profiles.logo'), control: input, hint: t('admin.profiles.logo_hint', { size: bytes(LOGO_MAX), min: LOGO_MIN_SIDE }) });
    const previews = h('div', { class: 'logo-previews' });
    const paintPreviews = () => {
      const shown = form.preview || form.logo_url;
      replace(previews, ['light', 'dark'].map((tone) => h('div', { class: ['logo-preview', tone], title: t(`admin.profiles.on_${tone}`) },
        shown ? h('img', { src: shown, alt: t(`admin.profiles.on_${tone}`) }) : icon('image', { label: t('admin.profiles.no_logo') }))));
    };
    paintPreviews();
    const upload = h('button', { type: 'button', class: 'button', disabled: !form.file }, icon('upload'), t('admin.profiles.upload'));
    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      form.file = null;
      form.preview = null;
      upload.disabled = true;
      wrap.setError(null);
      wrap.setNote(null);
      paintPreviews();
      if (!file) return;
      if (!LOGO_TYPES.includes(file.type)) { wrap.setError(t('admin.profiles.logo_type')); return; }
      if (file.size > LOGO_MAX) { wrap.setError(t('admin.profiles.logo_size', { size: bytes(LOGO_MAX) })); return; }
      const size = await imageSize(file);
      if (!size) { wrap.setError(t('admin.profiles.logo_unreadable')); return; }
      objectUrls.add(size.url);
      form.file = file;
      form.preview = size.url;
      const notes = [];
      if (size.width !== size.height) notes.push(t('admin.profiles.logo_square', { width: size.width, height: size.height }));
      if (Math.min(size.width, size.height) < LOGO_MIN_SIDE) notes.push(t('admin.profiles.logo_small', { min: LOGO_MIN_SIDE }));
      wrap.setNote(notes.join(' ') || null);
      paintPreviews();
      upload.disabled = false;
    });
    upload.addEventListener('click', async () => {
      if (!form.file) return;
      upload.disabled = true;
      status.textContent = t('admin.profiles.uploading');
      const body = new FormData();
      body.append('file', form.file, form.file.name);
      try {
        const saved = await api('PUT', `/${editing.type === 'profile' ? 'profiles' : 'events'}/${editing.id}/logo`, { form: body });
        form.logo_url = saved.logo_url;
        form.file = null;
        form.preview = null;
        ctx.shell.toast(t('admin.profiles.logo_saved'));
        await reload();
      } catch (err) {
        upload.disabled = false;
        status.textContent = '';
        wrap.setError(t('admin.form.save_failed', { reason: errorText(err) }));
      }
    });
    return h('div', { class: 'logo-block' }, wrap, previews, h('div', { class: 'form-actions' }, upload, status));
  }

  function drawer() {
    const { type, id } = editing;
    const isNew = id === 'new';
    const summary = summaryBox('pe-summary');
    const bind = (key) => (event) => { form[key] = event.target.value; };
    const nameF = field({ id: 'pe-name', label: t('admin.profiles.fields.name'), control: h('input', { type: 'text', value: form.name, maxlength: 200, required: true, oninput: bind('name') }) });
    const descF = field({ id: 'pe-description', label: t('admin.profiles.fields.description'), optional: true,
      control: h('textarea', { rows: 3, maxlength: 5000, oninput: bind('description') }, form.description) });
    let profileF = null;
    let startF = null;
    let endF = null;
    if (type === 'event') {
      profileF = field({ id: 'pe-profile', label: t('admin.profiles.fields.profile'), optional: true,
        control: h('select', { onchange: bind('profile_id') }, h('option', { value: '' }, t('admin.channels.no_profile')),
          byName(data.profiles).map((p) => h('option', { value: String(p.id), selected: String(p.id) === form.profile_id }, p.name))) });
      startF = field({ id: 'pe-start', label: t('admin.profiles.fields.starts_on'), optional: true, control: h('input', { type: 'date', value: form.starts_on, oninput: bind('starts_on') }) });
      endF = field({ id: 'pe-end', label: t('admin.profiles.fields.ends_on'), optional: true, control: h('input', { type: 'date', value: form.ends_on, oninput: bind('ends_on') }) });
    }
    const save = h('button', { type: 'submit', class: 'button primary' }, isNew ? t('admin.form.create') : t('common.save'));
    const path = type === 'profile' ? '/profiles' : '/events';

    async function submit(event) {
      event.preventDefault();
      const errors = [];
      const nameError = form.name.trim() ? null : t('admin.form.required', { field: t('admin.profiles.fields.name') });
      nameF.setError(nameError);
      if (nameError) errors.push({ id: 'pe-name', message: nameError });
      if (endF) {
        const order = form.starts_on && form.ends_on && form.ends_on < form.starts_on ? t('admin.profiles.errors.dates') : null;
        endF.setError(order);
        if (order) errors.push({ id: 'pe-end', message: order });
      }
      showSummary(summary, errors);
      if (errors.length) return;
      const body = { name: form.name.trim(), description: form.description.trim() || null };
      if (type === 'event') Object.assign(body, { profile_id: form.profile_id ? Number(form.profile_id) : null, starts_on: form.starts_on || null, ends_on: form.ends_on || null });
      save.disabled = true;
      save.textContent = t('admin.form.saving');
      try {
        const saved = isNew ? await post(path, body) : await patch(`${path}/${id}`, body);
        ctx.shell.toast(isNew ? t('admin.profiles.created', { name: saved.name }) : t('admin.form.saved'));
        await reload();
        if (isNew) ctx.navigate(`/admin/profiles/${type}-${saved.id}`, { replace: true });
      } catch (err) {
        save.disabled = false;
        save.textContent = isNew ? t('admin.form.create') : t('common.save');
        const map = { name: nameF, starts_on: startF, ends_on: endF, description: descF };
        showSummary(summary, serverProblems(err).map((p) => {
          const wrap = map[p.path];
          if (wrap) { wrap.setError(p.message); return { id: wrap.control.id, message: p.message }; }
          return { id: null, message: p.text };
        }));
      }
    }

    async function remove() {
      const ok = await confirmDialog({ title: t('admin.profiles.delete_title', { name: form.name }),
        body: t(`admin.profiles.delete_body_${type}`), confirmLabel: t('common.delete') });
      if (!ok) return;
      try {
        await del(`${path}/${id}`);
        ctx.shell.toast(t('admin.profiles.deleted', { name: form.name }));
        form = null;
        await reload();
        ctx.navigate('/admin/profiles');
      } catch (err) {
        ctx.shell.toast(t('admin.form.delete_failed', { reason: errorText(err) }), { kind: 'error' });
      }
    }

    const title = isNew ? t(`admin.profiles.new_${type}`) : form.name || t(`admin.profiles.edit_${type}`);
    return h('section', { class: 'drawer', 'aria-labelledby': 'pe-title',
      onkeydown: (event) => { if (event.key === 'Escape') ctx.navigate('/admin/profiles'); } },
      h('div', { class: 'drawer-head' }, h('h2', { id: 'pe-title', tabindex: '-1' }, title),
        h('a', { class: 'icon-button', href: '/admin/profiles', 'aria-label': t('common.close'), title: t('common.close') }, icon('x'))),
      h('form', { novalidate: true, onsubmit: submit }, summary, nameF, descF, profileF, startF, endF,
        h('div', { class: 'form-actions' }, save,
          !isNew ? h('button', { type: 'button', class: 'button danger', onclick: remove }, icon('trash-2'), t('common.delete')) : null)),
      !isNew ? logoField() : h('p', { class: 'hint' }, t('admin.profiles.logo_after')));
  }

  function paint({ focus = false } = {}) {
    const open = editing && form;
    replace(region, h('div', { class: ['with-drawer', open && 'open'] }, tables(), open ? drawer() : null));
    if (focus && open) region.querySelector('#pe-title').focus();
  }

  async function load() {
    const [profiles, events] = await Promise.all([get('/profiles'), get('/events')]);
    data = { profiles, events };
  }

  async function reload() {
    await load();
    if (editing && editing.id !== 'new' && form) {
      const row = (editing.type === 'profile' ? data.profiles : data.events).find((x) => x.id === editing.id);
      if (row) { form.logo_url = row.logo_url; form.name = row.name; }
    }
    paint();
  }

  function select(where, { focus = true } = {}) {
    const [first] = subPath(where);
    const match = /^(profile|event)-(\d+)$/.exec(first || '');
    const wanted = first === 'new-profile' ? { type: 'profile', id: 'new' } : first === 'new-event' ? { type: 'event', id: 'new' }
      : match ? { type: match[1], id: Number(match[2]) } : null;
    const same = wanted && editing && wanted.type === editing.type && wanted.id === editing.id;
    if (!same || !form) {
      const previous = editing;
      editing = wanted;
      form = null;
      if (editing && !openForm()) editing = null;
      paint({ focus: focus && !!editing });
      if (!editing && previous && previous.id !== 'new') {
        const link = region.querySelector(`a[href="/admin/profiles/${previous.type}-${previous.id}"]`);
        if (link) link.focus();
      }
      return;
    }
    paint();
  }

  frame();
  loadInto(region, { what: () => t('admin.profiles.what'), load, render: () => select(route, { focus: false }) });
  return {
    update(where, { relabel } = {}) {
      route = where;
      if (relabel) frame();
      if (data) select(where, { focus: !relabel });
    },
    unmount() { objectUrls.forEach((url) => URL.revokeObjectURL(url)); },
  };
}
