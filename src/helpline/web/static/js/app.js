// The web app's entry point: session, preferences, language, realtime, then the screen the URL names.

import { ApiError, get } from './api.js';
import { h } from './dom.js';
import { setClock } from './format.js';
import { setLocale, t } from './i18n.js';
import { applyTheme, loadRemote, prefs, reloadLocal } from './prefs.js';
import { current, navigate, onRoute } from './router.js';
import { Realtime } from './realtime.js';
import { Shell } from './shell.js';
import { Store } from './store.js';
import { onBroadcast } from './tabs.js';

performance.mark('helpline:start');

// Screen name → module; each module exports mount(ctx, outlet, route) → {update(route), unmount()}.
const SCREENS = {
  inbox: './views/inbox.js',
  conversation: './views/inbox.js',
  preferences: './views/preferences.js',
  admin: './admin/index.js',
  missing: './views/missing.js',
};

const root = document.getElementById('app');
let ctx = null;
let screen = null;
let screenModule = null;

async function startLocale() {
  applyTheme();
  await setLocale(prefs.locale || navigator.language);
  setClock({ timeZone: prefs.time_zone, hourCycle: prefs.hour_cycle });
}

let teardown = [];

async function showLogin() {
  if (screen) screen.unmount();
  screen = null;
  screenModule = null;
  teardown.forEach((fn) => fn());
  teardown = [];
  if (ctx) {
    ctx.realtime.stop();
    ctx = null;
  }
  const { mountLogin } = await import('./views/login.js');
  mountLogin(root, { onLoggedIn: () => boot() });
}

async function boot() {
  await startLocale();
  if (current().name === 'login') {
    // The server sends a logged-in visitor of /login on to `next` before this page loads, so no /auth/me probe
    // here (its 401 would be logged in the console on every visit of the login page).
    await showLogin();
    return;
  }
  // The operator and their preferences are asked for together (one round trip less before the inbox, ui-guide
  // §10); when /auth/me answers 401 the preferences' answer is a quiet 401 too, and nothing uses it.
  const remotePrefs = loadRemote({ quiet401: true }).catch(() => {});
  let me;
  try {
    me = await get('/auth/me', {}, { quiet401: true });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      const here = location.pathname + location.search;
      navigate(`/login${here !== '/' ? `?next=${encodeURIComponent(here)}` : ''}`, { replace: true });
      await showLogin();
      return;
    }
    root.replaceChildren(h('p', { class: 'page-error', role: 'alert' }, t('app.unreachable')));
    return;
  }
  await remotePrefs;
  await startLocale();
  const store = new Store();
  const realtime = new Realtime();
  realtime.addEventListener('frame', (event) => store.apply(event.detail));
  const shell = new Shell(root, { me, realtime, onLogout: () => showLogin() });
  ctx = { me, store, realtime, shell, prefs, navigate };
  const [{ installPalette }, { Notifier }] = await Promise.all([import('./palette.js'), import('./notify.js')]);
  const notifier = new Notifier(ctx);
  teardown.push(installPalette(ctx), () => notifier.destroy());
  realtime.start();
  await route(current());
}

async function route(where) {
  if (!ctx) return;
  if (where.name === 'login') {
    await showLogin();
    return;
  }
  const module = SCREENS[where.name] || SCREENS.missing;
  if (screen && screenModule === module) {
    screen.update(where);
    return;
  }
  if (screen) screen.unmount();
  screen = null;
  screenModule = module;
  const { mount } = await import(module);
  if (screenModule !== module || !ctx) return; // the URL changed again meanwhile
  ctx.shell.setActive(where.name);
  screen = mount(ctx, ctx.shell.outlet, where);
}

onRoute((where) => {
  route(where).catch((err) => console.error(err));
});

window.addEventListener('helpline:session-ended', () => ctx && ctx.shell.sessionEnded());
// Other tabs of this browser: a logout there ends this session too; preferences follow without a reload.
onBroadcast(async (message) => {
  if (message.type === 'logout' && ctx) {
    ctx.realtime.stop();
    navigate('/login', { replace: true });
    await showLogin();
  } else if (message.type === 'prefs' && ctx) {
    const before = prefs.locale;
    reloadLocal();
    await loadRemote().catch(() => {});
    applyTheme();
    setClock({ timeZone: prefs.time_zone, hourCycle: prefs.hour_cycle });
    if (prefs.locale !== before) await setLocale(prefs.locale || navigator.language);
    window.dispatchEvent(new CustomEvent('helpline:prefs', { detail: prefs }));
  }
});
// A language switch relabels in place: the screen keeps its selection, scroll and drafts.
window.addEventListener('helpline:locale', () => {
  if (!ctx) return;
  ctx.shell.render();
  if (screen) screen.update(current(), { relabel: true });
});

boot().catch((err) => {
  console.error(err);
  root.replaceChildren(h('p', { class: 'page-error', role: 'alert' }, String(err && err.message)));
});
