// Building blocks shared by the admin screens: page heads, load/empty/error states, labelled fields with
// errors (aria-invalid + aria-describedby), the error summary, the destructive confirm, copy buttons.

import { ApiError } from '../api.js';
import { h, icon, later, replace } from '../dom.js';
import { has, t } from '../i18n.js';
import { problemsOf } from '../problems.js';

/** t(key) when the catalogue has it, else `fallback` (server codes that may be new). */
export const tOr = (key, fallback, params) => (has(key) ? t(key, params) : fallback);

/** An error in words: "the server didn't answer", "you don't have permission", else the server's message. */
export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 0) return t('admin.errors.network');
    if (err.status === 403) return t('admin.errors.forbidden');
    if (err.status === 404) return t('admin.errors.not_found');
    if (err.status >= 500) return t('admin.errors.server');
    return err.message || err.code;
  }
  return String((err && err.message) || err);
}

/** Page title (h1) with actions on the right and an optional lead paragraph. */
export function pageHead(title, { actions = [], lead, back } = {}) {
  document.title = `${title} · Helpline`;
  return h('div', { class: 'page-head' },
    back && h('a', { class: 'back-link', href: back.href }, icon('arrow-left'), h('span', {}, back.label)),
    h('div', { class: 'page-head-row' }, h('h1', { tabindex: '-1', class: 'page-title' }, title),
      actions.length ? h('div', { class: 'page-actions' }, actions) : null),
    lead ? h('p', { class: 'lead' }, lead) : null);
}

/** Skeleton rows in the table's real geometry (shown only when loading takes more than 150 ms). */
export function skeleton(rows = 6, cls = 'skeleton-row') {
  return h('div', { class: 'skeleton', 'aria-hidden': 'true' }, Array.from({ length: rows }, () => h('div', { class: cls })));
}

/** The error state of a region: what failed, in words, with "Try again" and the detail folded. */
export function errorBox(what, err, retry) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('p', {}, h('strong', {}, t('admin.errors.load_failed', { what, reason: errorText(err) }))),
    retry && h('button', { type: 'button', class: 'button small', onclick: retry }, icon('refresh-cw'), t('common.retry')),
    err instanceof ApiError && h('details', { class: 'error-detail' }, h('summary', {}, t('admin.errors.detail')),
      h('code', {}, `${err.status} ${err.code}: ${err.message}`)));
}

/** An empty list says why and offers the create action. */
export function emptyState({ iconName = 'inbox', title, body, action }) {
  return h('div', { class: 'empty-state' }, icon(iconName, { cls: 'empty-icon' }), h('p', { class: 'empty-title' }, title),
    body && h('p', { class: 'muted' }, body), action);
}

/**
 * Load data into `region`: skeleton after 150 ms, then render(data), or an error box with "Try again".
 * Returns the reload function. A newer load wins over an older one still in flight.
 */
export function loadInto(region, { load, render, what, rows = 6 }) {
  let generation = 0;
  async function run() {
    const mine = ++generation;
    region.setAttribute('aria-busy', 'true');
    const cancel = later(150, () => { if (mine === generation) replace(region, skeleton(rows)); });
    try {
      const data = await load();
      if (mine !== generation) return;
      cancel();
      region.removeAttribute('aria-busy');
      render(data);
    } catch (err) {
      cancel();
      if (mine !== generation) return;
      region.removeAttribute('aria-busy');
      if (err && err.name === 'AbortError') return;
      replace(region, errorBox(typeof what === 'function' ? what() : what, err, run));
    }
  }
  run();
  return run;
}

let fieldSeq = 0;
export const uid = (prefix) => `${prefix}-${++fieldSeq}`;

function describedBy(control, ids) {
  const list = ids.filter(Boolean).join(' ');
  if (list) control.setAttribute('aria-describedby', list);
  else control.removeAttribute('aria-describedby');
}

/**
 * A labelled field: label (for=id), the control, a hint and an error line both wired with aria-describedby.
 * `where` = a folded "Where to find it" explanation (ui-guide §8). The wrapper's `setError(text)` marks the
 * control aria-invalid and names the error; `setError(null)` clears it.
 */
export function field({ id, label, control, hint, where, optional, extra, cls }) {
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const whereEl = where ? h('details', { class: 'where' }, h('summary', {}, icon('info'), t('admin.where_to_find')),
    h('div', { class: 'where-body', id: `${id}-where` }, where)) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const noteEl = h('p', { class: 'field-note', id: `${id}-note`, hidden: true, 'aria-live': 'polite' });
  const base = [hintEl && hintEl.id];
  describedBy(control, base);
  const wrap = h('div', { class: ['field', cls] },
    h('label', { for: id }, label, optional ? h('span', { class: 'optional' }, ` ${t('admin.optional')}`) : null),
    hintEl, control, errorEl, noteEl, extra, whereEl);
  wrap.control = control;
  wrap.setError = (message) => {
    errorEl.hidden = !message;
    replace(errorEl, message ? [icon('circle-alert'), h('span', {}, message)] : []);
    if (message) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
    describedBy(control, [...base, message && errorEl.id, !noteEl.hidden && noteEl.id]);
  };
  /** A warning that does not block saving (e.g. "this looks like the phone number"). */
  wrap.setNote = (message) => {
    noteEl.hidden = !message;
    replace(noteEl, message ? [icon('triangle-alert'), h('span', {}, message)] : []);
    describedBy(control, [...base, !errorEl.hidden && errorEl.id, message && noteEl.id]);
  };
  return wrap;
}

/** A checkbox with its label to the right and an optional hint. */
export function checkbox({ id, label, checked, onchange, hint, disabled }) {
  const box = h('input', { type: 'checkbox', id, checked, disabled, onchange, 'aria-describedby': hint ? `${id}-hint` : null });
  return h('div', { class: 'field checkbox' }, box, h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

/**
 * The error summary at the top of a long form: a heading with the count and a link per problem that moves
 * focus to the field. `errors` = [{id, message}] (id of the control; null for form-level problems).
 */
export function showSummary(summary, errors) {
  if (!errors.length) {
    summary.hidden = true;
    replace(summary);
    return;
  }
  summary.hidden = false;
  replace(summary,
    h('h2', { id: `${summary.id}-title` }, t('admin.form.summary', { count: errors.length })),
    h('ul', {}, errors.map((e) => h('li', {}, e.id
      ? h('a', { href: `#${e.id}`, onclick: (event) => {
        event.preventDefault();
        const target = document.getElementById(e.id);
        if (target) { target.focus(); target.scrollIntoView({ block: 'center' }); }
      } }, e.message)
      : e.message))));
  summary.focus();
}

export function summaryBox(id) {
  return h('div', { class: 'error-summary', id, role: 'alert', tabindex: '-1', hidden: true, 'aria-labelledby': `${id}-title` });
}

/** The server's validation problems as [{path, label, message, text}]: `message` is the reason alone (for the field's
 * own error line), `text` is "Field: reason" (for the summary) — both in the operator's language. */
export function serverProblems(err) {
  const problems = problemsOf(err && err.details);
  if (problems.length) return problems;
  const text = errorText(err);
  return text ? [{ path: '', label: '', message: text, text }] : [];
}

/**
 * The one destructive confirm (native modal <dialog>, Esc cancels, focus returns to the opener).
 * Resolves true when confirmed.
 */
export function confirmDialog({ title, body, confirmLabel, danger = true }) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const titleId = uid('confirm');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const done = (value) => {
      dialog.close();
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      else (document.querySelector('.page-title') || document.body).focus();
      resolve(value);
    };
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); done(false); });
    replace(dialog, h('h2', { id: titleId }, title), body ? h('p', {}, body) : null,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button', autofocus: true, onclick: () => done(false) }, t('common.cancel')),
        h('button', { type: 'button', class: ['button', danger ? 'danger-solid' : 'primary'], onclick: () => done(true) },
          confirmLabel)));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A copy button: copies `text()` and says "Copied" for 2 s (also to screen readers). */
export function copyButton(text, label = t('common.copy')) {
  const status = h('span', { class: 'sr-only', 'aria-live': 'polite' });
  const caption = h('span', {}, t('common.copy'));
  const button = h('button', { type: 'button', class: 'button small', 'aria-label': label, onclick: async () => {
    const value = typeof text === 'function' ? text() : text;
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Clipboard blocked (http, permissions): select the neighbouring value so Ctrl+C works.
      const target = button.parentElement && button.parentElement.querySelector('input, code');
      if (target && target.select) target.select();
      else if (target) window.getSelection().selectAllChildren(target);
    }
    caption.textContent = t('common.copied');
    status.textContent = t('common.copied');
    setTimeout(() => { caption.textContent = t('common.copy'); status.textContent = ''; }, 2000);
  } }, icon('copy'), caption);
  return h('span', { class: 'copy-wrap' }, button, status);
}

/** A read-only value with a copy button: "Callback URL  https://…  [Copy]". */
export function copyValue({ id, label, value, hint, secret = false }) {
  return h('div', { class: 'field copy-field' },
    h('label', { for: id }, label),
    hint && h('p', { class: 'hint', id: `${id}-hint` }, hint),
    h('div', { class: 'copy-row' },
      h('input', { id, readonly: true, value, class: ['mono', secret && 'secret'], 'aria-describedby': hint ? `${id}-hint` : null,
        onfocus: (event) => event.target.select() }),
      copyButton(value, t('admin.copy_named', { name: label }))));
}

/**
 * Secrets returned once: each shown with copy, and "I have stored it" which must be ticked to go on.
 * `onStored()` runs when the box is ticked.
 */
export function secretsPanel(secrets, { onStored } = {}) {
  const id = uid('stored');
  return h('section', { class: 'secrets', 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, icon('lock'), t('admin.secrets.title')),
    h('p', {}, t('admin.secrets.once')),
    Object.entries(secrets).map(([name, value]) => copyValue({ id: uid('secret'), label: tOr(`admin.secrets.names.${name}`, name), value: String(value), secret: true })),
    checkbox({ id, label: t('admin.secrets.stored'), onchange: (event) => { if (event.target.checked && onStored) onStored(); } }));
}

/** Whole-page "Admins only" (also for a supervisor on an admin-only section). */
export function adminsOnly() {
  return h('section', { class: 'empty-page' }, icon('shield', { cls: 'empty-icon' }), h('h1', {}, t('admin.admins_only')),
    h('p', { class: 'muted' }, t('admin.admins_only_body')));
}

/** The section's sub-path after its id: "/admin/channels/new/kind" → ["new", "kind"]. */
export function subPath(route) {
  return (route.params.section || '').split('/').slice(1).filter(Boolean);
}

/** Stable sort by a text key in the operator's locale. */
export function byName(items, key = 'name') {
  const collator = new Intl.Collator(undefined, { sensitivity: 'base' });
  return [...items].sort((a, b) => collator.compare(String(a[key] ?? ''), String(b[key] ?? '')));
}

/** Guard against losing unsaved changes: link clicks inside the app ask first; reloads get the browser prompt. */
export function unsavedGuard(isDirty) {
  const onClick = async (event) => {
    const link = event.target.closest && event.target.closest('a[href]');
    if (!link || event.defaultPrevented || !isDirty() || link.target || link.hasAttribute('download')) return;
    if (link.getAttribute('href').startsWith('#')) return;
    event.preventDefault();
    event.stopPropagation();
    const leave = await confirmDialog({ title: t('admin.unsaved.title'), body: t('admin.unsaved.body'),
      confirmLabel: t('admin.unsaved.leave') });
    if (leave) {
      cleanup();
      link.click();
    }
  };
  const onUnload = (event) => {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = '';
    }
  };
  document.addEventListener('click', onClick, true);
  window.addEventListener('beforeunload', onUnload);
  function cleanup() {
    document.removeEventListener('click', onClick, true);
    window.removeEventListener('beforeunload', onUnload);
  }
  return cleanup;
}
