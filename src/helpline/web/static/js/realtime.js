// The operator websocket: reconnects with backoff and catches up from last_event_id; never reloads the page.
// Emits: 'frame' (detail = frame), 'state' (detail = connecting|open|reconnecting|offline|denied), 'resync',
// 'session-ended' (close 4401).

const MIN_DELAY = 500;
const MAX_DELAY = 30000;
const DEAD_AFTER = 60000; // the server pings every 25 s

export class Realtime extends EventTarget {
  constructor() {
    super();
    this.lastEventId = null;
    this.socket = null;
    this.state = 'connecting';
    this.delay = MIN_DELAY;
    this.retryTimer = null;
    this.watchdog = null;
    this.stopped = false;
    this.seen = new Set();
    window.addEventListener('online', () => this.reconnectNow());
    window.addEventListener('offline', () => this.setState('offline'));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.state !== 'open') this.reconnectNow();
    });
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const after = this.lastEventId !== null ? `?last_event_id=${encodeURIComponent(this.lastEventId)}` : '';
    return `${scheme}//${location.host}/api/v1/realtime${after}`;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  connect() {
    if (this.stopped) return;
    // The session cookie authenticates the socket: no token ever goes into a URL (or an access log).
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener('message', (event) => this.receive(event));
    socket.addEventListener('close', (event) => this.closed(socket, event));
    socket.addEventListener('error', () => {});
  }

  receive(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    this.kick();
    if (frame.type === 'hello') {
      this.delay = MIN_DELAY;
      if (this.lastEventId === null) this.lastEventId = frame.last_event_id ?? null;
      this.setState('open');
      this.dispatchEvent(new CustomEvent('hello', { detail: frame }));
      return;
    }
    if (frame.type === 'ping') return;
    if (frame.type === 'resync') {
      this.dispatchEvent(new CustomEvent('resync'));
      return;
    }
    if (typeof frame.id === 'number') {
      // Replays repeat frames: anything at or below what was applied is dropped.
      if (this.lastEventId !== null && frame.id <= this.lastEventId) return;
      this.lastEventId = frame.id;
    }
    if (typeof frame.event_key === 'string') {
      // At least once: an event published again after a worker crash keeps its key under a new id.
      if (this.seen.has(frame.event_key)) return;
      this.seen.add(frame.event_key);
      if (this.seen.size > 5000) this.seen.delete(this.seen.values().next().value);
    }
    performance.mark('helpline:frame');
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.socket && this.socket.close(4000, 'no frame for 60 s'), DEAD_AFTER);
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    clearTimeout(this.watchdog);
    if (this.stopped) return;
    if (event.code === 4401) {
      this.setState('denied');
      this.dispatchEvent(new CustomEvent('session-ended'));
      return;
    }
    if (event.code === 4403) {
      this.setState('denied');
      return;
    }
    this.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
    const jitter = Math.random() * this.delay * 0.3;
    this.retryTimer = setTimeout(() => this.connect(), this.delay + jitter);
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
  }

  reconnectNow() {
    if (this.stopped) return;
    if (this.socket && this.socket.readyState === 1) {
      // The socket outlived a short offline spell: nothing was missed.
      this.setState('open');
      return;
    }
    if (this.socket && this.socket.readyState === 0) return;
    clearTimeout(this.retryTimer);
    this.delay = MIN_DELAY;
    this.connect();
  }

  /** Test hook and "simulate a drop": close the socket as a network failure would. */
  drop() {
    if (this.socket) this.socket.close(4000, 'dropped');
  }
}
