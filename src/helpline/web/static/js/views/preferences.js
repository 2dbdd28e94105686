// The operator's preferences: language, time zone, clock, theme, notifications (permission from a button),
// sound (with a test that also unlocks audio), shortcuts, and saved views. Changes apply at once, everywhere.

import { ApiError } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { setClock, time } from '../format.js';
import { LOCALES, matchLocale, setLocale, t } from '../i18n.js';
import { askPermission, permission, playTone } from '../notify.js';
import { prefs, save } from '../prefs.js';

function zones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

export function mount(ctx, outlet) {
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });

  async function change(changes) {
    status.textContent = '';
    try {
      const localeChanged = 'locale' in changes && changes.locale !== prefs.locale;
      await save(changes);
      setClock({ timeZone: prefs.time_zone, hourCycle: prefs.hour_cycle });
      // A new language relabels every screen in place (app.js listens to the locale event).
      if (localeChanged) await setLocale(prefs.locale || navigator.language);
      else render();
      status.textContent = t('preferences.saved');
    } catch (err) {
      status.textContent = err instanceof ApiError ? t('preferences.failed', { reason: err.message }) : String(err);
    }
  }

  const select = (id, label, value, options, key, hint) => h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, 'aria-describedby': hint ? `${id}-hint` : null,
      onchange: (event) => change({ [key]: event.target.value || null }) },
    options.map(([v, text]) => h('option', { value: v, selected: (value ?? '') === v }, text))),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
  const check = (id, label, key, hint, extra) => h('div', { class: 'field checkbox' },
    h('input', { type: 'checkbox', id, checked: !!prefs[key], 'aria-describedby': hint ? `${id}-hint` : null,
      onchange: (event) => change({ [key]: event.target.checked }) }),
    h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null, extra || null);

  function notificationControls() {
    const state = permission();
    if (state === 'unsupported') return h('p', { class: 'hint' }, t('preferences.notifications_unsupported'));
    if (state === 'denied') return h('p', { class: 'hint warn-text' }, t('preferences.notifications_denied'));
    if (state === 'granted') return h('p', { class: 'hint' }, icon('check'), ' ', t('preferences.notifications_granted'));
    return h('button', { type: 'button', class: 'button small', id: 'pref-allow', onclick: async () => {
      const result = await askPermission();
      if (result === 'granted') await change({ notifications: true });
      else render();
    } }, icon('bell'), t('preferences.notifications_allow'));
  }

  function savedViews() {
    const views = prefs.saved_views || [];
    if (!views.length) return h('p', { class: 'hint' }, t('preferences.saved_views_none'));
    return h('ul', { class: 'saved-views' }, views.map((view, index) => h('li', {},
      h('a', { href: `/?${String(view.query || '').replace(/^\?/, '')}` }, view.name),
      h('button', { type: 'button', class: 'button small ghost', 'aria-label': t('preferences.delete_view', { name: view.name }),
        onclick: () => change({ saved_views: views.filter((v, i) => i !== index) }) }, icon('trash-2'), t('common.delete')))));
  }

  function render() {
    const focusedId = outlet.contains(document.activeElement) ? document.activeElement.id : null;
    document.title = t('preferences.page_title');
    const example = time(new Date());
    replace(outlet, h('section', { class: 'page narrow', 'aria-labelledby': 'prefs-title' },
      h('h1', { id: 'prefs-title' }, t('preferences.title')),
      h('form', { class: 'stack', onsubmit: (event) => event.preventDefault() },
        h('fieldset', { class: 'pref-group' }, h('legend', {}, t('preferences.group_language')),
          select('pref-locale', t('preferences.language'), matchLocale(prefs.locale || navigator.language),
            LOCALES.map((code) => [code, t(`languages.${code}`)]), 'locale'),
          select('pref-zone', t('preferences.time_zone'), prefs.time_zone, [['', t('preferences.browser_default')],
            ...zones().map((zone) => [zone, zone.replaceAll('_', ' ')])], 'time_zone'),
          select('pref-clock', t('preferences.clock'), prefs.hour_cycle, [['', t('preferences.browser_default')],
            ['h23', t('preferences.clock_24')], ['h12', t('preferences.clock_12')]], 'hour_cycle',
          t('preferences.clock_hint', { example }))),
        h('fieldset', { class: 'pref-group' }, h('legend', {}, t('preferences.group_look')),
          select('pref-theme', t('preferences.theme'), prefs.theme, [['system', t('preferences.theme_system')],
            ['light', t('preferences.theme_light')], ['dark', t('preferences.theme_dark')]], 'theme')),
        h('fieldset', { class: 'pref-group' }, h('legend', {}, t('preferences.group_notifications')),
          check('pref-notifications', t('preferences.notifications'), 'notifications', t('preferences.notifications_hint'),
            notificationControls()),
          check('pref-sound', t('preferences.sound'), 'sound', t('preferences.sound_hint'),
            h('button', { type: 'button', class: 'button small', id: 'pref-test-sound', onclick: () => playTone() },
              icon('play'), t('preferences.test_sound')))),
        h('fieldset', { class: 'pref-group' }, h('legend', {}, t('preferences.group_keyboard')),
          check('pref-shortcuts', t('preferences.shortcuts'), 'shortcuts', t('preferences.shortcuts_hint'))),
        h('fieldset', { class: 'pref-group' }, h('legend', {}, t('preferences.saved_views')), savedViews()),
        status)));
    if (focusedId) {
      const again = document.getElementById(focusedId);
      if (again) again.focus();
    }
  }
  render();
  const onPrefs = () => render();
  window.addEventListener('helpline:prefs', onPrefs);
  return { update: render, unmount() { window.removeEventListener('helpline:prefs', onPrefs); } };
}
