// Run view: who is up and who is next, the countdown (with beeps), an interval drill's
// block and its time left (run-blocks.js), the rep under way with its splits and re-timing
// (run-rep.js), the big START button (space bar), pause, resume, skip, abort and swap. Fed
// by `plan`, `split`, `run`, `cue` and `interval` messages of /ws/live.
// A station chosen above (a testing day) keeps the list of live sessions, the session it
// follows on its own and the live splits and results to that station; "All" filters nothing.
import { get, post } from "../api.js";
import { $, clear, h, parts } from "../dom.js";
import { LIVE } from "../live-types.js";
import { emit, fillSelect, guarded, notify } from "./ui.js";
import { createBlockPanel, queueAfter } from "./run-blocks.js";
import { createRepView } from "./run-rep.js";

const SESSION_KEY = "agility-session";
const STATION_KEY = "agility-run-station";
const MAIN_STATION = "main";
const LIVE_STATES = ["running", "paused", "scheduled"];

export function createRunView(ctx) {
  const S = {
    id: Number(localStorage.getItem(SESSION_KEY)) || null,
    info: null, phase: null, state: null, next: null, done: 0, total: 0, reason: null,
    countdownEnd: null, lastSecond: null, abortArmed: null, refresh: null,
    station: localStorage.getItem(STATION_KEY) || "", stationOf: new Map(),
  };

  const part = parts($("#tab-run"));
  const { drillOf, drillName } = ctx;
  const blocks = createBlockPanel(ctx.beeper, part("countdown"));
  /** An interval drill's rep is under way: its blocks run on the clock, no gate starts it. */
  const intervals = () => Boolean(S.next) && drillOf(S.next.drill).timing === "intervals";

  async function fetchSession() {
    if (!S.id) return;
    const info = await get(`/api/plans/sessions/${S.id}`);
    if (info.id !== S.id) return;
    S.info = info;
    const p = info.progress || {};
    S.state = info.state;
    S.phase = info.state === "finished" || info.state === "aborted" ? "done" : p.phase || null;
    S.next = p.next || null;
    S.done = p.index || 0;
    S.total = p.total || 0;
    S.reason = info.reason || p.reason || null;
    S.countdownEnd = S.phase === "countdown" && p.countdown_end_wall ? Date.parse(p.countdown_end_wall) : null;
    emit("session", info);
    render();
    rep.render();
  }

  // Live messages name athletes as public pages do (privacy setting); the session's
  // progress (coach only) has roster names, so every `plan` message refetches it, one
  // request at a time.
  function refreshSoon() {
    if (S.refresh) {
      S.refresh.again = true;
      return;
    }
    S.refresh = { again: false };
    guarded(fetchSession).finally(() => {
      const again = S.refresh.again;
      S.refresh = null;
      if (again) refreshSoon();
    });
  }

  /** The roster name of the athlete of the rep under way, when the session knows it. */
  function fullName(rep) {
    const next = S.info && S.info.progress && S.info.progress.next;
    if (next && !rep.outcome && next.drill === rep.drill && S.phase === "running") return next.athlete;
    const done = ((S.info && S.info.progress && S.info.progress.done) || []).find((d) => d.run_id && d.run_id === rep.run_id);
    return done ? done.athlete : rep.athlete;
  }

  const rep = createRepView(part, { drillName, nameOf: fullName });

  function open(id, { switchTab = true } = {}) {
    S.id = id;
    rep.forget();
    localStorage.setItem(SESSION_KEY, String(id));
    if (switchTab) ctx.openTab("run");
    return guarded(fetchSession);
  }

  // -- the station selector: messages name their station, `plan` ones their session ---------

  /** True when no station is chosen, or `name` (a message's or session's station) is it. */
  const chosen = (name) => !S.station || (name || MAIN_STATION) === S.station;

  async function fillStations() {
    const names = (await get("/api/stations")).map((s) => s.name);
    if (S.station && !names.includes(S.station)) names.push(S.station); // removed since: still shown
    fillSelect(part("run-station"), names.map((n) => ({ value: n, label: n })), { blank: "All stations" });
    part("run-station").value = S.station;
  }

  /** The station of a session (asked once per session: a session never changes station). */
  function stationOfSession(id) {
    if (!S.stationOf.has(id)) {
      const asked = get(`/api/plans/sessions/${id}`).then((info) => info.station);
      asked.catch(() => S.stationOf.delete(id)); // asked again next time
      S.stationOf.set(id, asked);
    }
    return Promise.resolve(S.stationOf.get(id));
  }

  async function listLiveSessions() {
    const all = (await get("/api/plans/sessions")).filter((s) => LIVE_STATES.includes(s.state));
    for (const s of all) S.stationOf.set(s.id, s.station);
    const sessions = all.filter((s) => chosen(s.station));
    const list = part("live-sessions");
    if (!sessions.length) {
      clear(list, h("li", { class: "muted" }, S.station
        ? `No session is running, paused or scheduled on station ${S.station}.`
        : "No session is running, paused or scheduled."));
      return;
    }
    clear(list, ...sessions.map((s) => h("li", {},
      h("span", { class: "badge " + s.state }, s.state), `${s.plan} (#${s.id})`,
      s.station && s.station !== MAIN_STATION ? h("span", { class: "muted" }, `station ${s.station}`) : null,
      h("button", { type: "button", class: "small", onclick: () => open(s.id) }, "Open"))));
  }

  function upLabel() {
    if (S.state === "scheduled") return "Scheduled";
    if (S.phase === "countdown") return "Up next — get ready";
    if (S.phase === "running") return "Up now";
    if (S.phase === "paused" || S.state === "paused") return "Paused — next up";
    return "Session over";
  }

  function render() {
    part("run-none").hidden = Boolean(S.id && S.info);
    part("run-view").hidden = !(S.id && S.info);
    if (!S.info) return;
    const over = ["finished", "aborted", "missed"].includes(S.state);
    part("run-plan").textContent = S.info.plan;
    const badge = part("run-state");
    badge.textContent = S.state;
    badge.className = "badge " + S.state;
    part("run-progress").textContent = S.total ? `${S.done} of ${S.total} reps done` : "";
    const reason = part("run-reason");
    reason.textContent = S.reason || "";
    reason.hidden = !S.reason;
    part("up-label").textContent = upLabel();
    part("up-name").textContent = S.next && !over ? S.next.athlete : "–";
    part("up-drill").textContent = S.next && !over
      ? `${drillName(S.next.drill)} · rep ${S.next.block_rep}${S.next.familiarisation ? " (practice)" : ""}`
      : "";
    renderQueue(over);
    part("pause-button").disabled = S.state !== "running";
    part("resume-button").disabled = S.state !== "paused";
    part("skip-button").disabled = !["running", "paused"].includes(S.state);
    part("abort-button").disabled = over;
    // START only where the rep waits for it (coach-go drills); others start from the gates.
    const waits = Boolean(S.next && S.next.waits_for_go) && !over;
    part("go-button").disabled = !waits || S.phase !== "running" || S.state !== "running";
    part("go-hint").textContent = !S.next || over ? ""
      : waits ? "Space bar = START"
      : intervals() ? "Interval blocks run on the clock: no START needed"
      : "This drill starts from the gates: no START needed";
    tick();
  }

  function renderQueue(over) {
    const queue = over ? [] : queueAfter(S.info);
    const after = queue.slice(1, 4);
    clear(part("next-list"), ...(after.length
      ? after.map((step) => h("li", {}, step.athlete,
          step.drill !== (S.next || {}).drill ? h("span", { class: "muted" }, ` · ${drillName(step.drill)}`) : null))
      : [h("li", { class: "muted" }, over ? "–" : "nobody after this rep")]));
    // Swap: anyone else with a rep left in the current block.
    const block = S.next ? S.next.block : null;
    const names = [...new Set(queue.slice(1).filter((s) => s.block === block).map((s) => s.athlete))]
      .filter((n) => !S.next || n !== S.next.athlete);
    fillSelect(part("swap-select"), names.map((n) => ({ value: n, label: n })));
    part("swap-button").disabled = names.length === 0 || over;
  }

  function tick() {
    const el = part("countdown");
    el.classList.remove("go");
    if (blocks.tick(el, S.phase === "running" && intervals())) return;
    if (S.phase === "countdown" && S.countdownEnd) {
      const left = Math.max(0, Math.ceil((S.countdownEnd - Date.now()) / 1000));
      el.textContent = String(left);
      if (left !== S.lastSecond) {
        if (left > 0 && left <= 3) ctx.beeper.tick();
        S.lastSecond = left;
      }
    } else if (S.phase === "running" && S.state === "running") {
      el.textContent = "GO";
      el.classList.add("go");
    } else {
      el.textContent = "";
    }
  }

  function onPlan(msg) {
    // A session started elsewhere (another console, the CLI, a planned time) is followed
    // when none is open here, or the open one is over.
    const idle = !S.id || ["finished", "aborted", "missed"].includes(S.state);
    if (idle && msg.session_id !== S.id && LIVE_STATES.includes(msg.state)) {
      if (!S.station) open(msg.session_id, { switchTab: false });
      else {
        guarded(async () => {
          if (chosen(await stationOfSession(msg.session_id)) && S.id !== msg.session_id) {
            await open(msg.session_id, { switchTab: false });
          }
        });
      }
      return;
    }
    if (msg.session_id !== S.id) return;
    const armed = msg.phase === "running" && S.phase !== "running";
    S.state = msg.state;
    S.phase = msg.state === "finished" || msg.state === "aborted" ? "done" : msg.phase;
    // Keep the roster name while the same step is up (no rep done since); the refetch
    // below brings the roster name of the next one.
    const same = S.next && msg.next && msg.done === S.done && S.next.drill === msg.next.drill;
    S.next = msg.next && same ? { ...msg.next, athlete: S.next.athlete } : msg.next;
    S.done = msg.done;
    S.total = msg.total;
    S.reason = msg.reason;
    S.countdownEnd = msg.phase === "countdown" && msg.countdown_end_wall ? Date.parse(msg.countdown_end_wall) : null;
    S.lastSecond = null;
    if (armed && msg.next) {
      rep.arm(S.next.athlete, msg.next.drill);
      ctx.beeper.go();
    }
    render();
    refreshSoon();
  }

  async function control(action, body) {
    if (!S.id) return;
    const info = await guarded(() => post(`/api/plans/sessions/${S.id}/${action}`, body));
    if (info) {
      notify(action === "go" ? "Started." : `Session: ${action} done.`);
      await guarded(fetchSession);
    }
  }

  function bind() {
    part("go-button").addEventListener("click", () => control("go"));
    part("pause-button").addEventListener("click", () => control("pause"));
    part("resume-button").addEventListener("click", () => control("resume"));
    part("skip-button").addEventListener("click", () => control("skip"));
    part("swap-button").addEventListener("click", () => {
      const athlete = part("swap-select").value;
      if (athlete) control("swap", { athlete });
    });
    const abort = part("abort-button");
    abort.addEventListener("click", () => {
      // Two presses, so a stray tap on a sideline laptop cannot end a session.
      if (!S.abortArmed) {
        abort.textContent = "Really abort?";
        S.abortArmed = setTimeout(() => { abort.textContent = "Abort"; S.abortArmed = null; }, 4000);
        return;
      }
      clearTimeout(S.abortArmed);
      S.abortArmed = null;
      abort.textContent = "Abort";
      control("abort");
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.code !== "Space" || document.body.dataset.tab !== "run" || ev.repeat) return;
      const t = ev.target;
      if (t.closest && t.closest("input, select, textarea, dialog")) return;
      ev.preventDefault();
      if (!part("go-button").disabled) control("go");
    });
    part("run-station").addEventListener("change", (ev) => {
      S.station = ev.target.value;
      localStorage.setItem(STATION_KEY, S.station);
      guarded(listLiveSessions);
    });
    setInterval(tick, 100);
  }

  bind();
  return {
    open,
    show: async () => {
      if (S.id) await fetchSession();
      else render();
      await Promise.all([listLiveSessions(), fillStations()]);
    },
    onReload: () => Promise.all([fetchSession(), listLiveSessions(), fillStations()]),
    onLive(msg) {
      if (msg.type !== LIVE.PLAN && "station" in msg && !chosen(msg.station)) return;
      if (msg.type === LIVE.PLAN) onPlan(msg);
      else if (msg.type === LIVE.SPLIT) rep.onSplit(msg);
      else if (msg.type === LIVE.RUN) rep.onRun(msg);
      else if (msg.type === LIVE.INTERVAL && S.id && msg.session_id === S.id) blocks.onInterval(msg);
      else if (msg.type === LIVE.CUE) rep.onCue(msg);
    },
  };
}
