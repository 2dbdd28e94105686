// Noise, only where it helps (ui-guide §5): a hand-off the operator may see and an assignment to them raise a
// browser notification (tagged per conversation) and an optional sound, at most one per 10 s with bursts
// summarised; screen readers hear "New hand-off: …"; the tab title counts conversations needing me.
// Only the leader tab notifies and plays sounds. Permission is only ever asked from a button.

import { isolate } from './bidi.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { customerName, reasonText } from './names.js';
import { prefs } from './prefs.js';
import { navigate } from './router.js';
import { isLeader } from './tabs.js';

const QUIET = 10000; // one notification / sound per 10 s at most
const HANDOFF_FRESH = 120000; // a hand-off first seen in a frame counts as new for 2 min
const ASKED_KEY = 'helpline.notify-asked';

let audio = null;

/** A short two-note chime made with the Web Audio API (no audio file); needs one user gesture first. */
export function playTone() {
  try {
    if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === 'suspended') audio.resume();
    const now = audio.currentTime;
    [[880, 0], [1320, 0.12]].forEach(([frequency, start]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + start);
      gain.gain.exponentialRampToValueAtTime(0.2, now + start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + start + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + start);
      osc.stop(now + start + 0.3);
    });
    return true;
  } catch {
    return false;
  }
}

export function notificationsSupported() {
  return typeof Notification === 'function';
}

export function permission() {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

/** Ask for permission (call only from a click). Resolves to 'granted' | 'denied' | 'default' | 'unsupported'. */
export async function askPermission() {
  if (!notificationsSupported()) return 'unsupported';
  try {
    localStorage.setItem(ASKED_KEY, '1');
  } catch { /* private mode */ }
  return Notification.requestPermission();
}

export class Notifier {
  constructor(ctx) {
    this.ctx = ctx;
    this.me = ctx.me;
    this.lastNoise = 0;
    this.burst = [];
    this.burstTimer = null;
    this.notified = new Map(); // conversation id → {key, at} of the hand-off already announced
    this.needsMe = new Set();
    this.baseTitle = document.title;
    this.onChange = (event) => this.changed(event.detail);
    ctx.store.addEventListener('conversation-change', this.onChange);
    this.onFrame = (event) => this.frame(event.detail);
    ctx.store.addEventListener('frame', this.onFrame);
    this.onLoaded = (event) => {
      for (const c of event.detail) this.track(c);
      this.updateTitle();
    };
    ctx.store.addEventListener('conversations', this.onLoaded);
    this.onCounts = (event) => {
      const value = event.detail && (event.detail.needs_me ?? event.detail.needs_you);
      this.serverNeedsMe = typeof value === 'number' ? value : null;
      this.updateTitle();
    };
    window.addEventListener('helpline:counts', this.onCounts);
    const titleEl = document.querySelector('title') || document.head.appendChild(h('title'));
    this.titleObserver = new MutationObserver(() => this.updateTitle());
    this.titleObserver.observe(titleEl, { childList: true, characterData: true, subtree: true });
    for (const c of ctx.store.conversations.values()) this.track(c);
  }

  /** Does this conversation need me: an unassigned hand-off, or mine with unread messages? */
  needs(c) {
    const mine = c.assignee && c.assignee.id === this.me.id;
    return Boolean((c.waiting_since && !c.assignee) || (mine && c.unread_count > 0 && c.status !== 'resolved'));
  }

  track(c) {
    if (this.needs(c)) this.needsMe.add(c.id);
    else this.needsMe.delete(c.id);
  }

  updateTitle() {
    const count = this.serverNeedsMe ?? this.needsMe.size;
    const current = document.title;
    const base = current.replace(/^\(\d+\+?\) /, '');
    const wanted = count ? `(${count > 99 ? '99+' : count}) ${base}` : base;
    if (current !== wanted) document.title = wanted;
  }

  frame(frame) {
    if (frame.type !== 'conversation.escalated') return;
    // The conversation.updated frame that follows usually carries the new state; act now only if it came first.
    const c = this.ctx.store.conversations.get(frame.conversation_id);
    if (c && c.waiting_since) this.handoff(c);
  }

  changed({ conversation: c, previous }) {
    this.track(c);
    this.updateTitle();
    const mineNow = c.assignee && c.assignee.id === this.me.id;
    // A hand-off is the bot escalating (a new escalation, or the bot giving way to a waiting customer), not a
    // customer writing again in a conversation people already handle; one we only now see must be recent.
    const recent = (iso) => iso && Date.now() - Date.parse(iso) < HANDOFF_FRESH;
    const escalated = c.escalation && (previous ? !previous.escalation || previous.escalation.at !== c.escalation.at
      : recent(c.escalation.at));
    const gaveWay = previous && previous.handler === 'bot' && c.handler === 'human' && c.waiting_since && !previous.waiting_since;
    if ((escalated || gaveWay) && c.waiting_since && (!c.assignee || mineNow)) this.handoff(c);
    const wasMine = previous && previous.assignee && previous.assignee.id === this.me.id;
    if (previous && mineNow && !wasMine && !c.waiting_since) this.assigned(c);
  }

  /** Is the operator looking at this very conversation right now? */
  looking(c) {
    return document.visibilityState === 'visible' && location.pathname === `/conversations/${c.id}`;
  }

  handoff(c) {
    const key = (c.escalation && c.escalation.at) || c.waiting_since;
    const last = this.notified.get(c.id);
    if (last && (last.key === key || Date.now() - last.at < 60000)) return;
    this.notified.set(c.id, { key, at: Date.now() });
    if (c.assignee && c.assignee.id !== this.me.id) return;
    const name = customerName(c);
    this.ctx.shell.announce(t('notify.handoff_announce', { name, channel: t(`kinds.${c.channel.kind}`) }));
    this.offerPermissionOnce();
    if (!this.looking(c)) this.noise(c, t('notify.handoff_title', { name }), this.reason(c));
  }

  assigned(c) {
    if (this.looking(c)) return;
    const name = customerName(c);
    this.ctx.shell.toast(t('notify.assigned_toast', { name }), {
      action: { label: t('notify.open'), run: () => navigate(`/conversations/${c.id}${location.search}`) },
    });
    this.noise(c, t('notify.assigned_title', { name }), t(`kinds.${c.channel.kind}`));
  }

  reason(c) {
    const words = reasonText(c.escalation && c.escalation.reason, 'inbox.waiting_short');
    return t('notify.handoff_body', { channel: t(`kinds.${c.channel.kind}`), reason: words });
  }

  /** Notification and sound, from the leader tab only, at most one per 10 s; a burst becomes "3 hand-offs". */
  noise(c, title, body) {
    if (!isLeader()) return;
    const now = Date.now();
    if (now - this.lastNoise < QUIET) {
      this.burst.push(c);
      if (!this.burstTimer) {
        this.burstTimer = setTimeout(() => this.flushBurst(), QUIET - (now - this.lastNoise));
      }
      return;
    }
    this.lastNoise = now;
    this.show(`conversation-${c.id}`, title, body, c.id);
    if (prefs.sound) playTone();
  }

  flushBurst() {
    this.burstTimer = null;
    const items = this.burst;
    this.burst = [];
    if (!items.length) return;
    this.lastNoise = Date.now();
    if (items.length === 1) {
      const c = items[0];
      this.show(`conversation-${c.id}`, t('notify.handoff_title', { name: customerName(c) }), this.reason(c), c.id);
    } else {
      this.show('handoffs', t('notify.burst', { count: items.length }), t('notify.burst_body'), null);
    }
    if (prefs.sound) playTone();
  }

  show(tag, title, body, conversationId) {
    if (!prefs.notifications || permission() !== 'granted') return;
    try {
      // The system draws these outside the page: a customer's name is isolated and its overrides shown here too.
      const notification = new Notification(isolate(title), { body: isolate(body), tag, renotify: false, silent: true });
      notification.onclick = () => {
        window.focus();
        notification.close();
        if (conversationId) {
          navigate(`/conversations/${conversationId}${location.search}`);
          window.dispatchEvent(new CustomEvent('helpline:handoff-open', { detail: { id: conversationId } }));
        } else {
          navigate('/?view=waiting');
        }
      };
    } catch {
      /* some platforms only allow notifications from a service worker */
    }
  }

  /** The first hand-off, when the operator has never been asked: a one-time offer with a button. */
  offerPermissionOnce() {
    if (permission() !== 'default' || this.offered) return;
    let asked = false;
    try { asked = localStorage.getItem(ASKED_KEY) === '1'; } catch { /* private mode */ }
    if (asked || this.offered) return;
    this.offered = true;
    // Offered once per browser, answered or not: Preferences keeps the switch for later.
    try { localStorage.setItem(ASKED_KEY, '1'); } catch { /* private mode */ }
    this.ctx.shell.offer(t('notify.offer'), { action: { label: t('notify.offer_button'), run: async () => {
      const result = await askPermission();
      if (result === 'granted') {
        const { save } = await import('./prefs.js');
        save({ notifications: true }).catch(() => {});
      }
    } } });
  }

  destroy() {
    clearTimeout(this.burstTimer);
    this.ctx.store.removeEventListener('conversation-change', this.onChange);
    this.ctx.store.removeEventListener('frame', this.onFrame);
    this.ctx.store.removeEventListener('conversations', this.onLoaded);
    window.removeEventListener('helpline:counts', this.onCounts);
    this.titleObserver.disconnect();
  }
}
