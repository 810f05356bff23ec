// TV mode (/tv): rotates through the boards of today's drills every ROTATE_S seconds (or
// ?every=N) with live updates; a rep that ends brings its drill's board up at once.
// ?station=NAME (a TV beside one course of a testing day): live updates of other stations are
// ignored, and once a rep has ended there the rotation keeps to the drills run there.
import { $, fmtClock, h, clear } from "./dom.js";
import { describe, lastRepLine, otherStation, renderBoard, stationParam } from "./board.js";
import { LiveFeed } from "./live.js";

const params = new URLSearchParams(location.search);
const ROTATE_S = Math.max(3, Number(params.get("every")) || 15);
const ROWS = 10;
const STATION = stationParam(params);
// seen: the drills of reps that ended at STATION since the page opened.
const state = { drills: [], names: {}, index: 0, timer: null, board: null, seen: [] };

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(url + " answered " + res.status);
  return res.json();
}

function slugsFrom(answer) {
  const list = Array.isArray(answer) ? answer : answer.drills || answer.slugs || [];
  return list.map((d) => (typeof d === "string" ? d : d.slug)).filter(Boolean);
}

/** Today's drills: GET /api/leaderboards/today; if a server lacks it, today's recent reps. */
async function todaysDrills() {
  try {
    return slugsFrom(await getJSON("/api/leaderboards/today"));
  } catch {
    const today = new Date().toISOString().slice(0, 10); // boards count UTC days
    const runs = await getJSON("/api/runs/recent?limit=200");
    const seen = [];
    for (const r of runs) {
      if (String(r.started_wall).slice(0, 10) === today && !seen.includes(r.drill)) seen.push(r.drill);
    }
    return seen;
  }
}

/** A drill this TV shows: any, unless its station has run some (then those only). */
const shown = (drill) => !STATION || state.seen.length === 0 || state.seen.includes(drill);

async function refreshDrills() {
  const drills = (await todaysDrills()).filter(shown);
  for (const drill of state.seen) if (!drills.includes(drill)) drills.push(drill);
  const current = state.drills[state.index];
  state.drills = drills;
  state.index = Math.max(0, drills.indexOf(current));
}

async function show(flash) {
  const slug = state.drills[state.index];
  $("#tv-position").textContent = state.drills.length > 1
    ? `${state.index + 1} / ${state.drills.length}` : "";
  if (!slug) {
    $("#tv-title").textContent = "Today";
    clear($("#board-body"), h("tr", {}, h("td", { colspan: 5, class: "empty" },
                                             "Waiting for today's first rep…")));
    return;
  }
  const board = await getJSON(`/api/leaderboards/${encodeURIComponent(slug)}?day=today`);
  if (state.drills[state.index] !== slug) return;
  state.board = board;
  $("#tv-title").textContent = board.name || slug;
  document.body.dataset.drill = slug;
  renderBoard($("#board-body"), board, { flash, limit: ROWS, columns: 5 });
}

function restartProgress() {
  const bar = $("#tv-progress-bar");
  bar.classList.remove("running");
  bar.style.width = "0";
  void bar.offsetWidth; // restart the transition
  bar.style.transitionDuration = ROTATE_S + "s";
  bar.classList.add("running");
  bar.style.width = "100%";
}

function schedule() {
  clearTimeout(state.timer);
  restartProgress();
  state.timer = setTimeout(next, ROTATE_S * 1000);
}

async function next() {
  if (state.index + 1 >= state.drills.length) {
    await refreshDrills().catch(console.error);
    state.index = 0;
  } else {
    state.index += 1;
  }
  await show().catch(console.error);
  schedule();
}

function onMessage(msg) {
  if (otherStation(msg, STATION)) return;
  const line = describe(msg);
  if (line) $("#latest").textContent = line;
  if (!msg.drill) return;
  const ended = msg.type === "run" && msg.state === "finished";
  if (ended && STATION && !state.seen.includes(msg.drill)) {
    state.seen.push(msg.drill);
    state.drills = state.drills.filter(shown);
  }
  if ((ended || msg.type === "correction") && shown(msg.drill)) {
    if (!state.drills.includes(msg.drill)) state.drills.push(msg.drill);
    if (ended && state.drills[state.index] !== msg.drill) {
      state.index = state.drills.indexOf(msg.drill); // show the rep that just ended
      schedule();
    }
    if (state.drills[state.index] === msg.drill) {
      show(ended ? msg.athlete : null).catch(console.error);
    }
  }
}

function setStatus(on, text) {
  const el = $("#live-status");
  el.textContent = text;
  el.className = "status " + (on ? "status-on" : "status-off");
}

function tick() {
  $("#tv-clock").textContent = fmtClock(new Date().toISOString()).slice(0, 5);
}

window.addEventListener("DOMContentLoaded", async () => {
  tick();
  setInterval(tick, 5000);
  const badge = $("#tv-station");
  badge.textContent = STATION ? "Station " + STATION : "";
  badge.hidden = !STATION;
  try {
    await refreshDrills();
    await show();
    // The stored reps do not say their station: a station's TV waits for its own.
    const line = STATION ? null : await lastRepLine(null);
    if (line) $("#latest").textContent = line;
  } catch (err) {
    $("#latest").textContent = "Cannot reach the server: " + err.message;
  }
  schedule();
  window.agilityLive = new LiveFeed({
    onMessage,
    onReload: () => refreshDrills().then(() => show()).catch(console.error),
    onStatus: setStatus,
  }).start();
});
