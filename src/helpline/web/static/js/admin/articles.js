// Knowledge articles (/admin/articles, /admin/articles/<id|new>): the list and an editor (title, answer, tags,
// language, active) with the try-it console docked beside it, evaluated against the unsaved article.

import { del, get, patch, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { full, relative } from '../format.js';
import { t } from '../i18n.js';
import {
  byName, checkbox, confirmDialog, emptyState, errorBox, errorText, field, loadInto, pageHead, serverProblems, showSummary,
  subPath, summaryBox, tOr, unsavedGuard,
} from './kit.js';
import { BOT_LANGUAGES, tryConsole } from './try-console.js';

function listPage(ctx, el) {
  const region = h('div', { class: 'region' });
  const admin = ctx.me.role === 'admin';
  const frame = () => replace(el, h('section', { class: 'page admin-page wide' },
    pageHead(t('admin.sections.articles'), {
      lead: t('admin.articles.lead'),
      actions: admin ? [h('a', { class: 'button primary', href: '/admin/articles/new' }, icon('plus'), t('admin.articles.add'))] : [],
    }), region));
  frame();
  const reload = loadInto(region, {
    what: () => t('admin.articles.what'),
    load: () => get('/articles'),
    render: (articles) => {
      if (!articles.length) {
        replace(region, emptyState({ iconName: 'book-open', title: t('admin.articles.empty'), body: t('admin.articles.empty_body'),
          action: admin ? h('a', { class: 'button primary', href: '/admin/articles/new' }, icon('plus'), t('admin.articles.add')) : null }));
        return;
      }
      replace(region, h('table', { class: 'data' },
        h('caption', { class: 'sr-only' }, t('admin.sections.articles')),
        h('thead', {}, h('tr', {}, ['title', 'language', 'tags', 'status', 'updated'].map((c) => h('th', { scope: 'col' }, t(`admin.articles.cols.${c}`))))),
        h('tbody', {}, byName(articles, 'title').map((a) => h('tr', { class: a.active ? null : 'inactive' },
          h('td', { 'data-label': t('admin.articles.cols.title') }, h('a', { class: 'name-link', href: `/admin/articles/${a.id}` }, icon('book-open'), h('span', {}, a.title))),
          h('td', { 'data-label': t('admin.articles.cols.language') }, tOr(`admin.bot_languages.${a.language}`, a.language)),
          h('td', { 'data-label': t('admin.articles.cols.tags') }, a.tags.length ? h('span', { class: 'chips' }, a.tags.map((tag) => h('span', { class: 'chip' }, icon('tag'), tag))) : h('span', { class: 'muted' }, '—')),
          h('td', { 'data-label': t('admin.articles.cols.status') }, a.active ? h('span', { class: 'chip status-ok' }, icon('circle-check'), t('admin.scripts.active'))
            : h('span', { class: 'chip' }, t('admin.scripts.inactive'))),
          h('td', { 'data-label': t('admin.articles.cols.updated') }, h('time', { datetime: a.updated_at, title: full(a.updated_at) }, relative(a.updated_at))))))));
    },
  });
  return { update: (route, { relabel } = {}) => { if (relabel) { frame(); reload(); } }, unmount() {} };
}

function editorPage(ctx, el, articleId) {
  const isNew = articleId === 'new';
  const readOnly = ctx.me.role !== 'admin';
  let article = null;
  let draft = { title: '', answer: '', tags: [], language: 'en', active: true };
  let saved = JSON.stringify(draft);
  let tagText = '';
  const summary = summaryBox('article-summary');
  const dirty = () => !readOnly && JSON.stringify(draft) !== saved;
  const stopGuard = unsavedGuard(dirty);
  // POST /bot/try takes a draft script, not a draft article: articles are tried as saved.
  const tryBox = tryConsole({ note: () => (dirty() ? t('admin.try.articles_saved') : t('admin.try.against_saved')) });
  let dirtyMark = null;
  const changed = () => { if (dirtyMark) dirtyMark.hidden = !dirty(); };

  async function save(event) {
    event.preventDefault();
    const errors = [];
    const title = el.querySelector('#ar-title').closest('.field');
    const answer = el.querySelector('#ar-answer').closest('.field');
    const need = (wrap, ok, id, name) => {
      const message = ok ? null : t('admin.form.required', { field: t(`admin.articles.fields.${name}`) });
      wrap.setError(message);
      if (message) errors.push({ id, message });
    };
    need(title, draft.title.trim(), 'ar-title', 'title');
    need(answer, draft.answer.trim(), 'ar-answer', 'answer');
    showSummary(summary, errors);
    if (errors.length) return;
    const button = el.querySelector('#ar-save');
    button.disabled = true;
    button.textContent = t('admin.form.saving');
    const body = { ...draft, title: draft.title.trim(), answer: draft.answer.trim() };
    try {
      const answerRow = isNew ? await post('/articles', body) : await patch(`/articles/${articleId}`, body);
      saved = JSON.stringify(draft);
      ctx.shell.toast(t('admin.form.saved'));
      if (isNew) { stopGuard(); ctx.navigate(`/admin/articles/${answerRow.id}`, { replace: true }); return; }
      article = answerRow;
      paint();
    } catch (err) {
      button.disabled = false;
      button.textContent = t('common.save');
      showSummary(summary, serverProblems(err).map((p) => ({ id: null, message: p.text })));
    }
  }

  async function remove() {
    const ok = await confirmDialog({ title: t('admin.articles.delete_title', { title: article.title }), body: t('admin.articles.delete_body'), confirmLabel: t('common.delete') });
    if (!ok) return;
    try {
      await del(`/articles/${articleId}`);
      saved = JSON.stringify(draft);
      stopGuard();
      ctx.shell.toast(t('admin.articles.deleted', { title: article.title }));
      ctx.navigate('/admin/articles');
    } catch (err) {
      ctx.shell.toast(t('admin.form.delete_failed', { reason: errorText(err) }), { kind: 'error' });
    }
  }

  function paint({ focusId } = {}) {
    const addTag = () => {
      const value = tagText.trim();
      if (value && !draft.tags.includes(value) && draft.tags.length < 30) draft.tags.push(value);
      tagText = '';
      changed();
      paint({ focusId: 'ar-tag' });
    };
    const tagInput = h('input', { type: 'text', id: 'ar-tag', value: tagText, maxlength: 60, disabled: readOnly,
      oninput: (event) => { tagText = event.target.value; },
      onkeydown: (event) => { if (event.key === 'Enter' || event.key === ',') { event.preventDefault(); addTag(); } } });
    const languages = [...new Set([...BOT_LANGUAGES, draft.language])];
    const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: save, 'aria-label': t('admin.articles.editor_label') },
      summary,
      readOnly ? h('p', { class: 'banner info' }, icon('lock'), h('span', {}, t('admin.admin_only_note'))) : null,
      field({ id: 'ar-title', label: t('admin.articles.fields.title'), hint: t('admin.articles.hints.title'),
        control: h('input', { type: 'text', value: draft.title, maxlength: 300, disabled: readOnly, oninput: (e) => { draft.title = e.target.value; changed(); } }) }),
      field({ id: 'ar-answer', label: t('admin.articles.fields.answer'), hint: t('admin.articles.hints.answer'),
        control: h('textarea', { rows: 8, maxlength: 20000, disabled: readOnly, oninput: (e) => { draft.answer = e.target.value; changed(); } }, draft.answer) }),
      field({ id: 'ar-language', label: t('admin.articles.fields.language'),
        control: h('select', { disabled: readOnly, onchange: (e) => { draft.language = e.target.value; changed(); } },
          languages.map((code) => h('option', { value: code, selected: draft.language === code }, tOr(`admin.bot_languages.${code}`, code)))) }),
      h('div', { class: 'field' }, h('label', { for: 'ar-tag' }, t('admin.articles.fields.tags'), h('span', { class: 'optional' }, ` ${t('admin.optional')}`)),
        h('p', { class: 'hint', id: 'ar-tag-hint' }, t('admin.articles.hints.tags')),
        h('div', { class: 'add-row' }, tagInput, h('button', { type: 'button', class: 'button', disabled: readOnly, onclick: addTag }, icon('plus'), t('admin.articles.add_tag'))),
        h('ul', { class: 'example-chips', 'aria-label': t('admin.articles.fields.tags') }, draft.tags.map((tag, i) => h('li', { class: 'example-chip' }, h('span', {}, tag),
          !readOnly && h('button', { type: 'button', class: 'icon-button', 'aria-label': t('admin.articles.remove_tag', { tag }), title: t('admin.articles.remove_tag', { tag }),
            onclick: () => { draft.tags.splice(i, 1); changed(); paint({ focusId: 'ar-tag' }); } }, icon('x')))))),
      checkbox({ id: 'ar-active', label: t('admin.articles.fields.active'), checked: draft.active, disabled: readOnly, hint: t('admin.articles.hints.active'),
        onchange: (e) => { draft.active = e.target.checked; changed(); } }),
      readOnly ? h('p', { class: 'callout' }, icon('info'), h('span', {}, t('admin.admin_only_note'))) : h('div', { class: 'form-actions sticky' },
        h('button', { type: 'submit', class: 'button primary', id: 'ar-save' }, isNew ? t('admin.form.create') : t('common.save')),
        dirtyMark = h('span', { class: 'dirty-mark', hidden: !dirty() }, t('admin.scripts.unsaved')),
        !isNew ? h('button', { type: 'button', class: 'button danger', onclick: remove }, icon('trash-2'), t('common.delete')) : null));
    tagInput.setAttribute('aria-describedby', 'ar-tag-hint');
    replace(el, h('section', { class: 'page admin-page wide' },
      pageHead(isNew ? t('admin.articles.new_title') : article.title, { back: { href: '/admin/articles', label: t('admin.sections.articles') } }),
      h('div', { class: 'editor-layout' }, form, h('aside', { class: 'try-dock', 'aria-label': t('admin.try.title') }, tryBox.el))));
    if (focusId) { const target = el.querySelector(`#${focusId}`); if (target) target.focus(); }
  }

  async function start() {
    if (!isNew) {
      replace(el, h('section', { class: 'page admin-page' }, pageHead(t('admin.sections.articles')), h('div', { class: 'region' })));
      try {
        article = await get(`/articles/${articleId}`);
      } catch (err) {
        replace(el.querySelector('.region'), errorBox(t('admin.articles.what_one'), err, start));
        return;
      }
      draft = { title: article.title, answer: article.answer, tags: [...article.tags], language: article.language, active: article.active };
      saved = JSON.stringify(draft);
    }
    paint();
  }
  start();
  return {
    update(route, { relabel } = {}) { if (relabel) { tryBox.relabel(); paint(); } },
    unmount() { stopGuard(); },
  };
}

export function mount(ctx, el, route) {
  let view = null;
  let key = null;
  function show(where, opts = {}) {
    const [first] = subPath(where);
    const want = first || '';
    if (view && key === want) { view.update(where, opts); return; }
    if (view) view.unmount();
    key = want;
    if (!want) view = listPage(ctx, el);
    else if (want === 'new' || /^\d+$/.test(want)) view = editorPage(ctx, el, want === 'new' ? 'new' : Number(want));
    else {
      replace(el, h('section', { class: 'empty-page' }, h('h1', {}, t('missing.title'))));
      view = { update() {}, unmount() {} };
    }
  }
  show(route);
  return { update: show, unmount() { if (view) view.unmount(); } };
}
