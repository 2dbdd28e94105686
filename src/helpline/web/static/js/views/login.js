// The login screen: e-mail + password against POST /auth/login (lock-out and throttling are the server's), then,
// when the server answers 401 two_factor_required, a second step on the same card: the authenticator code (or a
// recovery code) against POST /auth/login/two-factor — after setting the authenticator up first when an admin
// requires it (`enrol`), in which case the recovery codes are shown once before going on.

import { ApiError, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';
import { current, navigate } from '../router.js';

function safeNext(value) {
  // Only same-origin paths: a crafted ?next= must not send the operator to another site.
  return value && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') && !value.startsWith('/login') ? value : '/';
}

function errorText(err) {
  if (err instanceof ApiError && err.status === 429) return t('login.locked', { seconds: err.details.retry_after ?? '?' });
  if (err instanceof ApiError && err.code === 'deactivated') return t('login.deactivated');
  if (err instanceof ApiError && err.code === 'bad_two_factor_code') return t('login.bad_code');
  if (err instanceof ApiError && err.code === 'bad_challenge') return t('login.expired');
  if (err instanceof ApiError && err.status === 401) return t('login.bad_credentials');
  if (err instanceof ApiError && err.status === 0) return t('app.unreachable');
  return t('login.failed', { reason: err.message });
}

export function mountLogin(root, { onLoggedIn }) {
  document.title = `${t('login.title')} · Helpline`;
  const heading = h('h1', { id: 'login-heading', tabindex: '-1' }, t('login.title'));
  const body = h('div', {});

  async function done() {
    navigate(safeNext(current().query.get('next')), { replace: true });
    await onLoggedIn();
  }

  function show(title, ...content) {
    heading.textContent = title;
    replace(body, ...content);
  }

  function passwordStep() {
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
        await done();
      } catch (err) {
        submit.disabled = false;
        submit.textContent = t('login.submit');
        if (err instanceof ApiError && err.code === 'two_factor_required' && err.details?.challenge) {
          const { challenge, enrol } = err.details;
          if (enrol) await enrolStep(challenge);
          else codeStep(challenge, null);
          return;
        }
        error.textContent = errorText(err);
        password.select();
        password.focus();
      }
    } },
    h('div', { class: 'field' }, h('label', { for: 'login-email' }, t('login.email')), email),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), password),
    error, submit);
    show(t('login.title'), form);
    email.focus();
  }

  function backButton() {
    return h('button', { type: 'button', class: 'button wide', onclick: () => passwordStep() }, t('login.back'));
  }

  // The code step; `setup` (the enrolment's key) is shown above the field while enrolling.
  function codeStep(challenge, setup) {
    const error = h('p', { class: 'form-error', id: 'login-code-error', role: 'alert' });
    const intro = h('p', { id: 'login-code-intro' }, setup ? t('login.enrol_intro') : t('login.code_intro'));
    const code = h('input', { id: 'login-code', name: 'code', type: 'text', inputmode: setup ? 'numeric' : 'text',
      autocomplete: 'one-time-code', autocapitalize: 'off', spellcheck: 'false', maxlength: '20', required: true,
      'aria-describedby': 'login-code-intro login-code-error' });
    const submit = h('button', { type: 'submit', class: 'button primary wide' }, t('login.code_submit'));
    const form = h('form', { class: 'login-form', novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      const value = code.value.trim();
      if (!value) {
        error.textContent = t('login.code_missing');
        code.focus();
        return;
      }
      submit.disabled = true;
      try {
        const answer = await post('/auth/login/two-factor', { challenge, code: value }, { quiet401: true });
        if (answer?.recovery_codes?.length) recoveryStep(answer.recovery_codes);
        else await done();
      } catch (err) {
        submit.disabled = false;
        if (err instanceof ApiError && err.code === 'bad_challenge') {
          passwordStep();
          return;
        }
        error.textContent = errorText(err);
        code.select();
        code.focus();
      }
    } },
    intro,
    setup ? h('div', { class: 'field' },
      h('label', { for: 'login-setup-key' }, t('login.enrol_key')),
      h('input', { id: 'login-setup-key', type: 'text', readonly: true, value: setup.secret, spellcheck: 'false',
        autocomplete: 'off' })) : null,
    h('div', { class: 'field' }, h('label', { for: 'login-code' }, t('login.code')), code),
    error, submit, backButton());
    show(setup ? t('login.enrol_title') : t('login.code_title'), form);
    document.title = `${heading.textContent} · Helpline`;
    code.focus();
  }

  async function enrolStep(challenge) {
    try {
      const setup = await post('/auth/login/two-factor/setup', { challenge }, { quiet401: true });
      codeStep(challenge, setup);
    } catch (err) {
      passwordStep();
      const error = body.querySelector('#login-error');
      if (error) error.textContent = errorText(err);
    }
  }

  function recoveryStep(codes) {
    const next = h('button', { type: 'button', class: 'button primary wide', onclick: () => done() },
      t('login.continue'));
    show(t('login.recovery_title'),
      h('p', { id: 'login-recovery-intro' }, t('login.recovery_intro')),
      h('ol', { class: 'recovery-codes', 'aria-describedby': 'login-recovery-intro' },
        codes.map((value) => h('li', {}, h('code', {}, value)))),
      next);
    document.title = `${heading.textContent} · Helpline`;
    heading.focus();
  }

  replace(root,
    h('main', { class: 'login-page', id: 'main', 'aria-labelledby': 'login-heading' },
      h('div', { class: 'login-card' },
        h('div', { class: 'brand large' }, icon('message-square'), h('span', {}, 'Helpline')),
        heading,
        body)));
  passwordStep();
}
