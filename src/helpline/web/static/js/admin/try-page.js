// The try-it console on its own page (/admin/try): what the bot would answer with the saved scripts and articles.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { pageHead } from './kit.js';
import { tryConsole } from './try-console.js';

export function mount(ctx, el) {
  const console = tryConsole();
  const render = () => replace(el, h('section', { class: 'page admin-page' },
    pageHead(t('admin.sections.try'), { lead: t('admin.try.lead') }), h('div', { class: 'try-page' }, console.el)));
  render();
  return { update: (route, { relabel } = {}) => { if (relabel) { console.relabel(); render(); } }, unmount() {} };
}
