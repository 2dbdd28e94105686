// Client-side routing over the History API: every screen has its own URL, filters live in the query string.

const listeners = new Set();

/** {name, params, query} for the current URL. Names: login, inbox, conversation, admin, preferences, missing. */
export function parse(url = location) {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const query = new URLSearchParams(url.search);
  let match;
  if (path === '/') return { name: 'inbox', params: {}, query };
  if (path === '/login') return { name: 'login', params: {}, query };
  if (path === '/preferences') return { name: 'preferences', params: {}, query };
  if ((match = path.match(/^\/conversations\/([^/]+)$/))) return { name: 'conversation', params: { id: match[1] }, query };
  if ((match = path.match(/^\/admin(?:\/(.*))?$/))) return { name: 'admin', params: { section: match[1] || '' }, query };
  return { name: 'missing', params: {}, query };
}

export function current() {
  return parse(location);
}

/** Go to `href` (same origin); `replace` keeps history clean for filter edits. */
export function navigate(href, { replace = false } = {}) {
  const url = new URL(href, location.href);
  if (url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  if (url.pathname + url.search === location.pathname + location.search) {
    notify();
    return;
  }
  history[replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search + url.hash);
  notify();
}

export function onRoute(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify() {
  const route = current();
  listeners.forEach((fn) => fn(route));
}

window.addEventListener('popstate', notify);

// Same-origin links navigate in place unless they open elsewhere or carry a modifier key.
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download') || event.defaultPrevented) return;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')
      || url.pathname.startsWith('/redoc') || url.pathname.startsWith('/assets/')) return;
  event.preventDefault();
  navigate(url.href);
});
