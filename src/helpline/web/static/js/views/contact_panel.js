// The Contact tab of the side panel: name, identities on every channel, the contact's other conversations,
// the conversation's tags, notes, and merge (supervisors, with a confirmation). Loaded when the tab shows.

import { ApiError, del, get, post } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { full, relative } from '../format.js';
import { has, t } from '../i18n.js';
import { contactName } from '../names.js';
import { navigate } from '../router.js';
import { channelIcon } from './channels.js';

/** "messenger:3" (kind and page) → "messenger". */
const kindOf = (kind) => String(kind || '').split(':')[0];

export class ContactPanel {
  /** host = {ctx, conversation(), editTags(anchor), onIdentities(list)} */
  constructor(host) {
    this.host = host;
    this.ctx = host.ctx;
    this.el = h('div', { class: 'contact-panel' });
    this.contactId = null;
  }

  /** The open conversation's channel kind: anonymous customers are named after it ("Website visitor #12"). */
  kind() {
    const c = this.host.conversation();
    return c ? c.channel.kind : null;
  }

  async load(contactId, { force = false } = {}) {
    if (contactId === this.contactId && !force && this.data) {
      this.render();
      return;
    }
    this.contactId = contactId;
    this.data = null;
    replace(this.el, h('div', { class: 'skeleton-block' }), h('div', { class: 'skeleton-block short' }));
    const id = contactId;
    const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));
    const [contact, identities, others, notes] = await Promise.all([
      settle(get(`/contacts/${id}`)), settle(get(`/contacts/${id}/identities`)),
      settle(get('/conversations', { contact_id: id, limit: 20 })), settle(get(`/contacts/${id}/notes`)),
    ]);
    if (id !== this.contactId) return;
    this.data = { contact, identities, others, notes };
    if (identities.value) this.host.onIdentities(identities.value);
    this.render();
  }

  render() {
    const d = this.data;
    if (!d) return;
    if (d.contact.error) {
      replace(this.el, h('div', { class: 'error-box', role: 'alert' }, h('p', {}, t('contact_panel.load_failed')),
        h('button', { type: 'button', class: 'button small', onclick: () => this.load(this.contactId, { force: true }) }, t('common.retry'))));
      return;
    }
    const contact = d.contact.value;
    const c = this.host.conversation();
    replace(this.el,
      h('section', { class: 'panel-card' },
        h('h3', {}, icon('user'), h('span', { class: 'contact-name' }, contactName(contact, this.kind()))),
        h('dl', { class: 'contact-facts' },
          contact.phone ? [h('dt', {}, t('contact_panel.phone')), h('dd', {}, contact.phone)] : null,
          contact.email ? [h('dt', {}, t('contact_panel.email')), h('dd', {}, contact.email)] : null,
          [h('dt', {}, t('contact_panel.since')), h('dd', {}, h('time', { datetime: contact.created_at, title: full(contact.created_at) }, relative(contact.created_at)))])),
      this.identities(d.identities),
      this.others(d.others, c),
      this.tags(c),
      this.notes(d.notes),
      this.merge(contact));
  }

  identities(result) {
    const list = result.value || [];
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('contact'), h('span', {}, t('contact_panel.identities'))),
      result.error ? h('p', { class: 'form-error' }, t('contact_panel.part_failed')) : list.length
        ? h('ul', { class: 'identities' }, list.map((i) => h('li', {}, channelIcon(kindOf(i.kind)),
        h('span', { class: 'muted' }, t('contact_panel.identity_kind', { kind: has(`kinds.${kindOf(i.kind)}`) ? t(`kinds.${kindOf(i.kind)}`) : i.kind })),
        h('span', { class: 'identity-id' }, i.provider_id))))
        : h('p', { class: 'muted' }, t('contact_panel.no_identities')));
  }

  others(result, current) {
    // An older server ignores contact_id: keep only this contact's conversations.
    const list = (result.value ? result.value.items : []).filter((o) => o.contact.id === this.contactId);
    if (current && current.contact.id === this.contactId && !list.some((o) => o.id === current.id)) list.unshift(current);
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('message-square'), h('span', {}, t('contact_panel.conversations', { count: list.length }))),
      result.error ? h('p', { class: 'form-error' }, t('contact_panel.part_failed')) : h('ul', { class: 'other-conversations' }, list.map((o) => h('li', {},
        h('a', { href: `/conversations/${o.id}${location.search}`, 'aria-current': current && o.id === current.id ? 'page' : null,
          onclick: (event) => { event.preventDefault(); navigate(`/conversations/${o.id}${location.search}`); } },
        channelIcon(o.channel.kind, { labelled: true }), h('span', { class: 'other-channel' }, o.channel.name),
        h('span', { class: `status-chip status-${o.status}` }, t(`status.${o.status}`)),
        h('time', { datetime: o.last_activity_at, title: full(o.last_activity_at), class: 'muted' }, relative(o.last_activity_at)))))));
  }

  tags(c) {
    if (!c) return null;
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('tag'), h('span', {}, t('contact_panel.tags'))),
      c.tags.length ? h('ul', { class: 'tag-chips' }, c.tags.map((tag) => h('li', { class: 'chip' }, tag))) : h('p', { class: 'muted' }, t('contact_panel.no_tags')),
      h('button', { type: 'button', class: 'button small', onclick: (event) => this.host.editTags(event.currentTarget) }, icon('pencil'),
        h('span', {}, t('contact_panel.edit_tags'))));
  }

  notes(result) {
    if (result.error && result.error instanceof ApiError && (result.error.status === 404 || result.error.status === 405)) {
      return null; // this server has no notes yet
    }
    const list = result.value ? (Array.isArray(result.value) ? result.value : result.value.items || []) : [];
    const text = h('textarea', { id: 'note-text', rows: '2', 'aria-label': t('contact_panel.note_label'), maxlength: '5000' });
    const error = h('p', { class: 'form-error', id: 'note-error' });
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('file-text'), h('span', {}, t('contact_panel.notes'))),
      result.error ? h('p', { class: 'form-error' }, t('contact_panel.part_failed')) : null,
      h('ul', { class: 'notes' }, list.map((n) => {
        const author = n.author || n.operator;
        const mine = author && author.id === this.ctx.me.id;
        return h('li', { class: 'note' }, h('p', { class: 'note-text' }, String(n.text)),
          h('p', { class: 'muted small note-foot' }, h('span', {}, t('contact_panel.note_by', {
            operator: mine ? t('author.you') : (author && author.name) || t('author.operator'), when: relative(n.created_at) })),
          mine || this.ctx.me.role === 'admin' ? h('button', { type: 'button', class: 'icon-button small',
            'aria-label': t('contact_panel.delete_note'), title: t('contact_panel.delete_note'), onclick: () => this.deleteNote(n) }, icon('trash-2')) : null));
      })),
      h('form', { class: 'note-form', onsubmit: async (event) => {
        event.preventDefault();
        const value = text.value.trim();
        if (!value) return;
        try {
          await post(`/contacts/${this.contactId}/notes`, { text: value });
          this.load(this.contactId, { force: true });
        } catch (err) {
          error.textContent = t('contact_panel.note_failed', { reason: err.message });
        }
      } }, text, error, h('button', { type: 'submit', class: 'button small' }, icon('plus'), h('span', {}, t('contact_panel.add_note')))));
  }

  async deleteNote(note) {
    try {
      await del(`/contacts/${this.contactId}/notes/${note.id}`);
      this.load(this.contactId, { force: true });
    } catch (err) {
      this.ctx.shell.toast(t('contact_panel.note_delete_failed', { reason: err.message }), { kind: 'error' });
    }
  }

  merge(contact) {
    if (!['admin', 'supervisor'].includes(this.ctx.me.role)) return null;
    return h('section', { class: 'panel-card' }, h('h3', {}, icon('users'), h('span', {}, t('contact_panel.merge'))),
      h('p', { class: 'muted small' }, t('contact_panel.merge_help')),
      h('button', { type: 'button', class: 'button small', onclick: (event) => this.mergeDialog(contact, event.currentTarget) },
        h('span', {}, t('contact_panel.merge_find'))));
  }

  /** Find the duplicate, then confirm in a native <dialog>: "Fold X into Y? Its identities and conversations move." */
  mergeDialog(contact, opener) {
    const dialog = h('dialog', { class: 'dialog merge-dialog', 'aria-labelledby': 'merge-title' });
    const results = h('ul', { class: 'merge-results' });
    const input = h('input', { type: 'search', id: 'merge-search', 'aria-label': t('contact_panel.merge_search'), autocomplete: 'off' });
    const close = () => { dialog.close(); dialog.remove(); if (opener.isConnected) opener.focus(); };
    let timer = null;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        if (!q) { replace(results); return; }
        try {
          const page = await get('/contacts', { q, limit: 10 });
          replace(results, page.items.filter((o) => o.id !== contact.id).map((o) => h('li', {},
            h('button', { type: 'button', class: 'menu-item', onclick: () => confirm(o) },
              h('span', {}, contactName(o)), h('span', { class: 'muted' }, o.phone || o.email || `#${o.id}`)))));
        } catch (err) {
          replace(results, h('li', { class: 'form-error' }, err.message));
        }
      }, 200);
    });
    const confirm = (other) => {
      replace(dialog, h('h2', { id: 'merge-title' }, t('contact_panel.merge_confirm_title')),
        h('p', {}, t('contact_panel.merge_confirm', { other: contactName(other), keep: contactName(contact, this.kind()) })),
        h('p', { class: 'muted' }, t('contact_panel.merge_irreversible')),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'button danger', onclick: async () => {
            try {
              await post(`/contacts/${contact.id}/merge`, { merge_contact_id: other.id });
              close();
              this.ctx.shell.toast(t('contact_panel.merged'));
              this.load(contact.id, { force: true });
            } catch (err) {
              this.ctx.shell.toast(t('contact_panel.merge_failed', { reason: err.message }), { kind: 'error' });
            }
          } }, t('contact_panel.merge_do')),
          h('button', { type: 'button', class: 'button', autofocus: true, onclick: close }, t('common.cancel'))));
      dialog.querySelector('[autofocus]').focus();
    };
    replace(dialog, h('h2', { id: 'merge-title' }, t('contact_panel.merge_title', { name: contactName(contact, this.kind()) })),
      h('label', { for: 'merge-search' }, t('contact_panel.merge_search')), input, results,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'button', onclick: close }, t('common.cancel'))));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }
}
