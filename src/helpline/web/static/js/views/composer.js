// The composer: multi-line text (Enter sends, Shift+Enter new line) and files; sends through POST …/messages.

import { ApiError, api } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { t } from '../i18n.js';

export class Composer {
  constructor(ctx, el) {
    this.ctx = ctx;
    this.el = el;
    this.conversation = null;
    this.files = [];
  }

  attach(conversation) {
    this.conversation = conversation;
    this.render();
  }

  detach() {
    this.conversation = null;
    replace(this.el);
  }

  render() {
    const c = this.conversation;
    this.text = h('textarea', { id: 'composer-text', rows: '2', 'aria-label': t('composer.label'),
      placeholder: t('composer.placeholder'), onkeydown: (event) => {
        if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.send();
        }
      } });
    this.fileInput = h('input', { type: 'file', id: 'composer-files', multiple: true, class: 'sr-only',
      onchange: (event) => { this.files = [...event.target.files]; this.renderFiles(); } });
    this.fileList = h('ul', { class: 'file-chips' });
    this.error = h('p', { class: 'form-error', role: 'alert' });
    replace(this.el, h('form', { class: 'composer', onsubmit: (event) => { event.preventDefault(); this.send(); } },
      c && c.handler === 'bot' ? h('p', { class: 'hint' }, t('composer.takes_over')) : null,
      this.text, this.fileList, this.error,
      h('div', { class: 'composer-tools' },
        h('label', { for: 'composer-files', class: 'icon-button', title: t('composer.attach') }, icon('paperclip'),
          h('span', { class: 'sr-only' }, t('composer.attach'))), this.fileInput,
        h('button', { type: 'submit', class: 'button primary' }, icon('send'), h('span', {}, t('composer.send'))))));
  }

  renderFiles() {
    replace(this.fileList, this.files.map((file) => h('li', { class: 'chip' }, icon('file'), file.name)));
  }

  async send() {
    const text = this.text.value.trim();
    if (!text && !this.files.length) return;
    const form = new FormData();
    if (text) form.append('text', text);
    for (const file of this.files) form.append('files', file, file.name);
    this.error.textContent = '';
    try {
      const message = await api('POST', `/conversations/${this.conversation.id}/messages`, { form });
      this.ctx.store.putMessage(message);
      this.text.value = '';
      this.files = [];
      this.fileInput.value = '';
      this.renderFiles();
    } catch (err) {
      this.error.textContent = err instanceof ApiError ? t('composer.failed', { reason: err.message }) : String(err);
    }
  }

  relabel() {
    if (this.conversation) this.render();
  }
}
