// Run view: who is up and who is next, the countdown (with beeps), an interval drill's
// block and its time left (run-blocks.js), splits as they happen
// (with their marks: cross-device bound, coarse, hand time),
// false starts and timeouts, the big START button (space bar), pause, resume, skip, abort
// and swap. Fed by `plan`, `split`, `run` and `cue` messages of /ws/live. A finished rep
// with its crossings on record can be re-timed with another gate rule (a correction).
// A station chosen above (a testing day) keeps the list of live sessions, the session it
// follows on its own and the live splits and results to that station; "All" filters nothing.
import { get, post } from "../api.js";
import { $, clear, fmtS, fmtState, h } from "../dom.js";
import { emit, fillSelect, guarded, notify } from "./ui.js";
import { createBlockPanel, queueAfter } from "./run-blocks.js";

const SESSION_KEY = "agility-session";
const STATION_KEY = "agility-run-station";
const MAIN_STATION = "main";
const LIVE_STATES = ["running", "paused", "scheduled"];

export function createRunView(ctx) {
  const S = {
    id: Number(localStorage.getItem(SESSION_KEY)) || null,
    info: null, phase: null, state: null, next: null, done: 0, total: 0, reason: null,
    countdownEnd: null, lastSecond: null, rep: null, abortArmed: null, refresh: null,
    retimeRun: null, station: localStorage.getItem(STATION_KEY) || "", stationOf: new Map(),
  };

  const drillOf = (slug) => ctx.store.drills.find((d) => d.slug === slug) || {};
  const drillName = (slug) => drillOf(slug).name || slug;
  const blocks = createBlockPanel(ctx.beeper);
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
    renderRep();
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

  function open(id, { switchTab = true } = {}) {
    S.id = id;
    S.rep = null;
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
    fillSelect($("#run-station"), names.map((n) => ({ value: n, label: n })), { blank: "All stations" });
    $("#run-station").value = S.station;
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
    const list = $("#live-sessions");
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
    $("#run-none").hidden = Boolean(S.id && S.info);
    $("#run-view").hidden = !(S.id && S.info);
    if (!S.info) return;
    const over = ["finished", "aborted", "missed"].includes(S.state);
    $("#run-plan").textContent = S.info.plan;
    const badge = $("#run-state");
    badge.textContent = S.state;
    badge.className = "badge " + S.state;
    $("#run-progress").textContent = S.total ? `${S.done} of ${S.total} reps done` : "";
    const reason = $("#run-reason");
    reason.textContent = S.reason || "";
    reason.hidden = !S.reason;
    $("#up-label").textContent = upLabel();
    $("#up-name").textContent = S.next && !over ? S.next.athlete : "–";
    $("#up-drill").textContent = S.next && !over
      ? `${drillName(S.next.drill)} · rep ${S.next.block_rep}${S.next.familiarisation ? " (practice)" : ""}`
      : "";
    renderQueue(over);
    $("#pause-button").disabled = S.state !== "running";
    $("#resume-button").disabled = S.state !== "paused";
    $("#skip-button").disabled = !["running", "paused"].includes(S.state);
    $("#abort-button").disabled = over;
    // START only where the rep waits for it (coach-go drills); others start from the gates.
    const waits = Boolean(S.next && S.next.waits_for_go) && !over;
    $("#go-button").disabled = !waits || S.phase !== "running" || S.state !== "running";
    $("#go-hint").textContent = !S.next || over ? ""
      : waits ? "Space bar = START"
      : intervals() ? "Interval blocks run on the clock: no START needed"
      : "This drill starts from the gates: no START needed";
    tick();
  }

  function renderQueue(over) {
    const queue = over ? [] : queueAfter(S.info);
    const after = queue.slice(1, 4);
    clear($("#next-list"), ...(after.length
      ? after.map((step) => h("li", {}, step.athlete,
          step.drill !== (S.next || {}).drill ? h("span", { class: "muted" }, ` · ${drillName(step.drill)}`) : null))
      : [h("li", { class: "muted" }, over ? "–" : "nobody after this rep")]));
    // Swap: anyone else with a rep left in the current block.
    const block = S.next ? S.next.block : null;
    const names = [...new Set(queue.slice(1).filter((s) => s.block === block).map((s) => s.athlete))]
      .filter((n) => !S.next || n !== S.next.athlete);
    fillSelect($("#swap-select"), names.map((n) => ({ value: n, label: n })));
    $("#swap-button").disabled = names.length === 0 || over;
  }

  function tick() {
    const el = $("#countdown");
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

  /** What a coach must know to read a split or a rep right (the live messages say it). */
  function marks(m) {
    const bound = m.cross_device_error_s;
    return [
      bound != null ? h("span", { class: "manual-mark", title: "cross-device: one end is from a "
        + "receipt-timed device (Chronopic, Timy), so the time is only as good as the receipt jitter" },
        ` ±${(bound * 1000).toFixed(1)} ms, cross-device`) : null,
      m.coarse ? h("span", { class: "manual-mark", title: "an end was placed by the time the host "
        + "received it (the timer's counter ran past its range)" }, " coarse") : null,
      m.manual ? h("span", { class: "manual-mark", title: "an end is a hand time (timer keypad)" },
        " hand time") : null,
      crossingNote(m.crossing),
    ];
  }

  /** Why the split ends where it does: the gate's rule, and what the first break said. */
  function crossingNote(c) {
    if (c && c.retimed) {
      return h("span", { class: "crossing-note muted", title: "timed again from the stored beam edges" },
        ` re-timed: ${c.rule}`);
    }
    if (!c || c.rule === "first-break") return null;
    const lead = c.first_break_lead_ms;
    const why = lead > 0 ? `first break ${lead.toFixed(1)} ms earlier (a limb)` : "first break was the torso";
    return h("span", { class: "crossing-note muted", title: `${c.rule}: ${c.edges} beam edges weighed` },
      ` ${c.rule}, ${why}`);
  }

  function renderRep() {
    const rep = S.rep;
    renderRetime(rep);
    if (!rep) return;
    $("#rep-title").textContent = `${fullName(rep) || ""} · ${drillName(rep.drill)}${rep.rep ? " · rep " + rep.rep : ""}`;
    let elapsed = 0;
    clear($("#splits-body"), ...(rep.splits.length ? rep.splits.map((s) => {
      elapsed += s.elapsed_s;
      return h("tr", { dataset: { split: s.split } }, h("td", {}, s.split),
               h("td", { class: "num" }, fmtS(s.elapsed_s), marks(s)),
               h("td", { class: "num" }, fmtS(elapsed)));
    }) : [h("tr", {}, h("td", { colspan: 3, class: "empty" }, "waiting for the first gate…"))]));
    const out = $("#rep-outcome");
    out.className = "outcome";
    if (!rep.outcome) {
      out.textContent = rep.cue ? `Cue given: ${rep.cue}` : "";
      return;
    }
    const o = rep.outcome;
    out.classList.add(o.state === "finished" ? "good" : "bad");
    if (o.state !== "finished") {
      out.textContent = `${fmtState(o.state).replace(/^./, (c) => c.toUpperCase())}${o.reason ? ": " + o.reason : ""}`;
      return;
    }
    clear(out, `Finished: ${fmtS(o.total_s)}`, ...marks({ ...o, coarse: rep.splits.some((s) => s.coarse) }));
  }

  // -- re-time: POST /api/runs/{id}/rederive, from the rep's stored raw edges --------------

  /** A finished rep whose splits came with their crossings (a rep started at a gate). */
  function retimable(rep) {
    return Boolean(rep && rep.run_id && rep.outcome && rep.outcome.state === "finished"
      && rep.splits.some((s) => s.crossing));
  }

  function renderRetime(rep) {
    const can = retimable(rep);
    const runId = can ? rep.run_id : null;
    if (S.retimeRun !== runId) {
      // Another rep: nothing said yet, and a rule other than the one it was timed with.
      S.retimeRun = runId;
      $("#retime-status").hidden = true;
      if (can) {
        const rule = rep.splits.find((s) => s.crossing).crossing.rule;
        const other = [...$("#retime-rule").options].find((o) => o.value !== rule);
        if (other) $("#retime-rule").value = other.value;
      }
    }
    $("#retime-form").hidden = !can;
  }

  /** The rep's splits and total as re-timed; what changed, said shortly. */
  function applyRetime(rep, trigger, answer, entry) {
    const before = entry ? entry.detail.before.splits : {};
    const after = entry ? entry.detail.after.splits : {};
    const changed = [];
    for (const s of rep.splits) {
      if (s.crossing) s.crossing = { rule: trigger, retimed: true };
      if (after[s.split] == null) continue;
      s.elapsed_s = after[s.split] / 1e6;
      if (before[s.split] != null && before[s.split] !== after[s.split]) {
        changed.push(`${s.split} ${(before[s.split] / 1e6).toFixed(3)} → ${fmtS(s.elapsed_s)}`);
      }
    }
    rep.outcome = { ...rep.outcome, total_s: answer.total_s };
    if (!entry) return `Re-timed with ${trigger}: total ${fmtS(answer.total_s)} (reload for its splits)`;
    return `Re-timed with ${trigger}: ${changed.length ? changed.join(", ") : "no split changed"}`;
  }

  async function retime(ev) {
    ev.preventDefault();
    const rep = S.rep;
    const button = $("#retime-button");
    if (!retimable(rep) || button.disabled) return;
    const trigger = $("#retime-rule").value;
    const status = $("#retime-status");
    button.disabled = true;
    try {
      // A refusal (409: a signal start, a one-beam rep for a two-beam rule...) says why here.
      const answer = await guarded(() => post(`/api/runs/${rep.run_id}/rederive`, { trigger }), status);
      if (answer === undefined) {
        status.classList.add("bad");
        return;
      }
      // The answer has the new total; the audit entry it made has the splits before and after.
      const entry = await get(`/api/runs/${rep.run_id}/corrections`)
        .then((log) => log.filter((c) => c.action === "rederive").pop() || null, () => null);
      const said = applyRetime(rep, trigger, answer, entry);
      if (S.rep !== rep) {
        notify(said); // the next rep is up meanwhile
        return;
      }
      renderRep();
      status.textContent = said;
      status.classList.remove("bad");
      status.hidden = false;
    } finally {
      button.disabled = false;
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
      S.rep = { athlete: S.next.athlete, drill: msg.next.drill, rep: null, run_id: null, splits: [], outcome: null };
      ctx.beeper.go();
      renderRep();
    }
    render();
    refreshSoon();
  }

  function onSplit(msg) {
    if (!S.rep || (S.rep.run_id && S.rep.run_id !== msg.run_id) || S.rep.outcome) {
      S.rep = { athlete: msg.athlete, drill: msg.drill, rep: msg.rep, run_id: msg.run_id, splits: [], outcome: null };
    }
    Object.assign(S.rep, { run_id: msg.run_id, rep: msg.rep, drill: msg.drill });
    S.rep.splits.push({
      split: msg.split, elapsed_s: msg.elapsed_s, cross_device_error_s: msg.cross_device_error_s,
      manual: msg.manual, coarse: msg.coarse, crossing: msg.crossing,
    });
    renderRep();
  }

  function onRun(msg) {
    if (!S.rep || (S.rep.run_id && S.rep.run_id !== msg.run_id)) {
      S.rep = { athlete: msg.athlete, drill: msg.drill, rep: msg.rep, run_id: msg.run_id, splits: [], outcome: null };
    }
    Object.assign(S.rep, { run_id: msg.run_id, rep: msg.rep, outcome: msg });
    renderRep();
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
    $("#go-button").addEventListener("click", () => control("go"));
    $("#pause-button").addEventListener("click", () => control("pause"));
    $("#resume-button").addEventListener("click", () => control("resume"));
    $("#skip-button").addEventListener("click", () => control("skip"));
    $("#swap-button").addEventListener("click", () => {
      const athlete = $("#swap-select").value;
      if (athlete) control("swap", { athlete });
    });
    const abort = $("#abort-button");
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
      if (!$("#go-button").disabled) control("go");
    });
    $("#retime-form").addEventListener("submit", retime);
    $("#run-station").addEventListener("change", (ev) => {
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
      if (msg.type !== "plan" && "station" in msg && !chosen(msg.station)) return;
      if (msg.type === "plan") onPlan(msg);
      else if (msg.type === "split") onSplit(msg);
      else if (msg.type === "run") onRun(msg);
      else if (msg.type === "interval" && S.id && msg.session_id === S.id) blocks.onInterval(msg);
      else if (msg.type === "cue" && S.rep) {
        S.rep.cue = msg.target;
        renderRep();
      }
    },
  };
}
