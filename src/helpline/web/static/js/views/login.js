// The login screen: e-mail + password against POST /auth/login (lock-out and throttling are the server's).

import { ApiError, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { current, navigate } from '../router.js';

function safeNext(value) {
  // Only same-origin paths: a crafted ?next= must not send the operator to another site.
  return value && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/login') ? value : '/';
}

export function mountLogin(root, { onLoggedIn }) {
  document.title = `${t('login.title')} · Helpline`;
  const error = h('p', { class: 'form-error', id: 'login-error', role: 'alert' });
  const email = h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true,
    'aria-describedby': 'login-error' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true, 'aria-describedby': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'button primary wide' }, t('login.submit'));
  const form = h('form', { class: 'login-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!email.value.trim() || !password.value) {
      error.textContent = t('login.missing');
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.submitting');
    performance.mark('helpline:login-submit');
    try {
      await post('/auth/login', { email: email.value.trim(), password: password.value }, { quiet401: true });
      navigate(safeNext(current().query.get('next')), { replace: true });
      await onLoggedIn();
    } catch (err) {
      submit.disabled = false;
      submit.textContent = t('login.submit');
      if (err instanceof ApiError && err.status === 429) {
        error.textContent = t('login.locked', { seconds: err.details.retry_after ?? '?' });
      } else if (err instanceof ApiError && err.code === 'deactivated') {
        error.textContent = t('login.deactivated');
      } else if (err instanceof ApiError && err.status === 401) {
        error.textContent = t('login.bad_credentials');
      } else if (err instanceof ApiError && err.status === 0) {
        error.textContent = t('app.unreachable');
      } else {
        error.textContent = t('login.failed', { reason: err.message });
      }
      password.select();
      password.focus();
    }
  } },
  h('div', { class: 'field' }, h('label', { for: 'login-email' }, t('login.email')), email),
  h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), password),
  error, submit);
  replace(root,
    h('main', { class: 'login-page', id: 'main' },
      h('div', { class: 'login-card' },
        h('div', { class: 'brand large' }, icon('message-square'), h('span', {}, 'Helpline')),
        h('h1', {}, t('login.title')),
        form)));
  email.focus();
}
