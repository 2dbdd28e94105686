// The "no such page" screen.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';

export function mount(ctx, outlet) {
  const render = () => replace(outlet, h('section', { class: 'empty-page' },
    h('h1', {}, t('missing.title')), h('p', {}, t('missing.detail')),
    h('p', {}, h('a', { href: '/', class: 'button primary' }, t('missing.back')))));
  render();
  return { update: render, unmount() {} };
}
