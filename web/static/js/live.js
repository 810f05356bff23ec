// The live feed for every page: one WebSocket to /ws/live that reconnects on its own, and
// after a reconnect asks /api/live/since for the messages it missed (docs/CONSOLE-API.md,
// "Live feed catch-up"). Each message reaches the page once, in order, by its `seq`.
import { get } from "./api.js";
import { LIVE } from "./live-types.js";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 10000;

// The messages about a rep: each names the station (course) it ran on; a rep of the lane of
// before names none, which is "main".
export const REP_TYPES = new Set([LIVE.SPLIT, LIVE.RUN, LIVE.CUE, LIVE.STIMULUS, LIVE.FLAG,
                                  LIVE.START_REFUSED, LIVE.CROSSING_UNASSIGNED]);

/** The page's live badge (`el`, class "status"): onStatus(connected, text) for a LiveFeed. */
export function liveBadge(el) {
  return (on, text) => {
    el.textContent = text;
    el.classList.toggle("status-on", on);
    el.classList.toggle("status-off", !on);
  };
}

/** The wait before the next try: the backoff step with jitter, from half of it to all of
 * it, so 200 phones that lost the server at one instant do not all come back at the next. */
export function retryDelay(stepMs, random = Math.random) {
  return Math.round(stepMs / 2 + (random() * stepMs) / 2);
}

export class LiveFeed {
  /**
   * onMessage(msg): every message but `hello`, each once, in `seq` order.
   * onReload(why): the page must reload its data ("connect", "epoch" or "gap").
   * onStatus(connected, text): for the page's live badge.
   */
  constructor({ onMessage, onReload = () => {}, onStatus = () => {} }) {
    this.onMessage = onMessage;
    this.onReload = onReload;
    this.onStatus = onStatus;
    this.epoch = null;
    this.seq = 0;
    this.socket = null;
    this.retryMs = FIRST_RETRY_MS;
    this.retryTimer = null;
    this.catchingUp = false;
    this.buffer = [];
    this.caughtUp = 0; // how many catch-ups filled a gap (for the page and the tests)
  }

  start() {
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
    this.connect();
    return this;
  }

  reconnectNow() {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${proto}//${location.host}/ws/live`);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("message", (ev) => {
      if (socket !== this.socket) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === LIVE.HELLO) this.hello(msg);
      else if (this.catchingUp) this.buffer.push(msg);
      else this.deliver(msg);
    });
    socket.addEventListener("close", () => {
      if (socket !== this.socket) return;
      this.onStatus(false, "reconnecting…");
      this.scheduleRetry();
    });
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), retryDelay(this.retryMs));
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  async hello(msg) {
    this.retryMs = FIRST_RETRY_MS;
    this.onStatus(true, "live");
    if (this.epoch === null || msg.epoch !== this.epoch) {
      // First connection, or the server restarted: nothing to ask for, reload instead.
      const why = this.epoch === null ? "connect" : "epoch";
      this.epoch = msg.epoch;
      this.seq = msg.seq || 0;
      this.onReload(why);
      return;
    }
    if ((msg.seq || 0) <= this.seq) return; // nothing was missed
    this.catchingUp = true;
    try {
      const url = `/api/live/since?epoch=${encodeURIComponent(this.epoch)}&seq=${this.seq}`;
      const data = await get(url);
      if (data.reload) {
        this.seq = Math.max(this.seq, msg.seq || 0);
        this.onReload("gap");
      } else {
        for (const missed of data.messages || []) this.deliver(missed);
        this.caughtUp += 1;
      }
    } catch (err) {
      // No answer, or an error for one: the gap cannot be filled, so the page reloads.
      this.seq = Math.max(this.seq, msg.seq || 0);
      this.onReload("gap");
    } finally {
      this.catchingUp = false;
      const waiting = this.buffer;
      this.buffer = [];
      for (const m of waiting) this.deliver(m);
    }
  }

  deliver(msg) {
    if (typeof msg.seq === "number") {
      if (msg.seq <= this.seq) return; // already seen (catch-up and socket overlap)
      this.seq = msg.seq;
    }
    try {
      this.onMessage(msg);
    } catch (err) {
      console.error("live message handler failed", err);
    }
  }
}
