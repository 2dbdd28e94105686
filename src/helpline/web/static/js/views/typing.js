// "Ana is typing…" under the timeline: from `conversation.typing` frames (the website visitor's, or another
// operator's), each true for 5 s unless renewed (senders repeat every 2–3 s while typing), gone at once when that
// person's message arrives. Frames are relayed only to operators who may see the channel (realtime/hub.py).

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';

export const TYPING_TTL_MS = 5000;

export class TypingLine {
  /** host = {ctx, conversationId(), customer() → the customer's name as shown} */
  constructor(host) {
    this.host = host;
    this.ctx = host.ctx;
    this.who = new Map(); // key ('contact' | 'op:<id>') → {name, until}
    this.timer = null;
    this.el = h('p', { class: 'typing-line', role: 'status', 'aria-live': 'polite' });
    this.onFrame = (event) => this.frame(event.detail);
    this.onMessage = (event) => this.message(event.detail);
    this.ctx.store.addEventListener('frame', this.onFrame);
    this.ctx.store.addEventListener('message', this.onMessage);
    this.render();
  }

  frame(frame) {
    if (frame.type !== 'conversation.typing' || frame.conversation_id !== this.host.conversationId()) return;
    const data = frame.data || {};
    let key;
    let name;
    if (data.who === 'contact') {
      key = 'contact';
      name = null; // the customer's name is looked up when shown: it may change (a merge, an edit)
    } else if (data.who === 'operator' && data.operator) {
      if (data.operator.id === this.ctx.me.id) return; // my own typing, echoed to my channel
      key = `op:${data.operator.id}`;
      name = data.operator.name ? String(data.operator.name) : t('author.operator');
    } else {
      return;
    }
    this.who.set(key, { name, until: Date.now() + TYPING_TTL_MS });
    this.render();
  }

  message({ message }) {
    if (!message || message.conversation_id !== this.host.conversationId()) return;
    // Their message is what they were typing.
    const key = message.author_kind === 'contact' ? 'contact'
      : message.author_kind === 'operator' && message.operator ? `op:${message.operator.id}` : null;
    if (key && this.who.delete(key)) this.render();
  }

  /** A new conversation opened: nobody is typing in it as far as we know. */
  reset() {
    this.who.clear();
    this.render();
  }

  render() {
    clearTimeout(this.timer);
    const now = Date.now();
    for (const [key, entry] of this.who) if (entry.until <= now) this.who.delete(key);
    const names = [...this.who].map(([key, entry]) => (key === 'contact' ? this.host.customer() : entry.name));
    const text = !names.length ? '' : names.length === 1 ? t('conversation.typing_one', { name: names[0] })
      : t('conversation.typing_many', { names: names.join(', ') });
    if (this.el.textContent !== text) replace(this.el, text);
    this.el.classList.toggle('active', names.length > 0);
    if (this.who.size) {
      const next = Math.min(...[...this.who.values()].map((entry) => entry.until)) - now;
      this.timer = setTimeout(() => this.render(), Math.max(50, next));
    }
  }

  destroy() {
    clearTimeout(this.timer);
    this.ctx.store.removeEventListener('frame', this.onFrame);
    this.ctx.store.removeEventListener('message', this.onMessage);
  }
}
