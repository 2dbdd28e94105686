// The operator's preferences: language, time zone, clock, theme, notifications, sound, shortcuts.

import { ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { setClock } from '../format.js';
import { LOCALES, setLocale, t } from '../i18n.js';
import { prefs, save } from '../prefs.js';

function zones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

export function mount(ctx, outlet) {
  const status = h('p', { class: 'form-status', role: 'status' });

  async function change(changes) {
    status.textContent = '';
    try {
      await save(changes);
      if ('locale' in changes) await setLocale(prefs.locale || navigator.language);
      setClock({ timeZone: prefs.time_zone, hourCycle: prefs.hour_cycle });
      status.textContent = t('preferences.saved');
    } catch (err) {
      status.textContent = err instanceof ApiError ? t('preferences.failed', { reason: err.message }) : String(err);
    }
  }

  const select = (id, label, value, options, key) => h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, onchange: (event) => change({ [key]: event.target.value || null }) },
      options.map(([v, text]) => h('option', { value: v, selected: (value ?? '') === v }, text))));
  const check = (id, label, key, hint) => h('div', { class: 'field checkbox' },
    h('input', { type: 'checkbox', id, checked: !!prefs[key], onchange: (event) => change({ [key]: event.target.checked }) }),
    h('label', { for: id }, label), hint ? h('p', { class: 'hint' }, hint) : null);

  function render() {
    document.title = `${t('preferences.title')} · Helpline`;
    replace(outlet, h('section', { class: 'page narrow' },
      h('h1', {}, t('preferences.title')),
      h('form', { class: 'stack', onsubmit: (event) => event.preventDefault() },
        select('pref-locale', t('preferences.language'), prefs.locale, [['', t('preferences.browser_default')],
          ...LOCALES.map((code) => [code, t(`languages.${code}`)])], 'locale'),
        select('pref-zone', t('preferences.time_zone'), prefs.time_zone, [['', t('preferences.browser_default')],
          ...zones().map((zone) => [zone, zone])], 'time_zone'),
        select('pref-clock', t('preferences.clock'), prefs.hour_cycle, [['', t('preferences.browser_default')],
          ['h23', t('preferences.clock_24')], ['h12', t('preferences.clock_12')]], 'hour_cycle'),
        select('pref-theme', t('preferences.theme'), prefs.theme, [['system', t('preferences.theme_system')],
          ['light', t('preferences.theme_light')], ['dark', t('preferences.theme_dark')]], 'theme'),
        check('pref-notifications', t('preferences.notifications'), 'notifications', t('preferences.notifications_hint')),
        check('pref-sound', t('preferences.sound'), 'sound'),
        check('pref-shortcuts', t('preferences.shortcuts'), 'shortcuts', t('preferences.shortcuts_hint')),
        status)));
  }
  render();
  return { update: render, unmount() {} };
}
