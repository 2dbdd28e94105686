// Several tabs, one operator: a leader tab (Web Locks) owns notifications and sound, and a BroadcastChannel
// tells the other tabs about logout and preference changes (ui-guide §5 "Tabs").

const CHANNEL = 'helpline';
const LOCK = 'helpline-leader';

let leader = !(navigator.locks && navigator.locks.request); // no Web Locks: every tab acts alone
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
const listeners = new Set();

if (!leader) {
  // Held until the tab closes; the next tab in line then becomes the leader.
  navigator.locks.request(LOCK, () => {
    leader = true;
    window.dispatchEvent(new CustomEvent('helpline:leader'));
    return new Promise(() => {});
  }).catch(() => { leader = true; });
}

if (channel) {
  channel.addEventListener('message', (event) => {
    const message = event.data;
    if (message && typeof message.type === 'string') listeners.forEach((fn) => fn(message));
  });
}

/** Is this tab the one that notifies and plays sounds? */
export function isLeader() {
  return leader;
}

/** Tell the other tabs: {type: 'logout'} | {type: 'prefs'} | … */
export function broadcast(message) {
  if (channel) channel.postMessage(message);
}

/** Listen to the other tabs; returns an unsubscribe function. */
export function onBroadcast(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
