// TV mode (/tv): pages through the boards of today's drills, one page every ROTATE_S seconds
// (or ?every=N), so every athlete of any squad gets the screen in turn: a page holds as many
// rows as fit between the header and the latest-result panel. A rep that ends lights the panel
// up for FRESH_S seconds and updates its board's figures where they stand: the rotation keeps
// its page and its pace. ?group=NAME: that group's athletes only (boards and drills).
// ?station=NAME (a TV beside one course of a testing day): live updates of other stations are
// ignored, and once a rep has ended there the rotation keeps to the drills run there.
import { get } from "./api.js";
import { $, clear, fmtClock, fmtS, h, query } from "./dom.js";
import { describe, lastRepLine, otherStation, renderBoard, stationParam } from "./board.js";
import { LIVE } from "./live-types.js";
import { LiveFeed, liveBadge } from "./live.js";
import { reducedMotion, replay } from "./motion.js";

const params = new URLSearchParams(location.search);
const ROTATE_S = Math.max(3, Number(params.get("every")) || 15);
const FRESH_S = 6;
const STATION = stationParam(params);
const GROUP = (params.get("group") || "").trim();
// index: the drill shown; page: its page (from 0); perPage: the rows that fit the screen;
// seen: the drills of reps that ended at STATION since the page opened.
const state = { drills: [], index: 0, page: 0, perPage: 0, timer: null, board: null, seen: [],
                freshTimer: null };

const boardUrl = (slug) => `/api/leaderboards/${encodeURIComponent(slug)}` +
  query({ day: "today", group: GROUP });

function slugsFrom(answer) {
  const list = Array.isArray(answer) ? answer : answer.drills || answer.slugs || [];
  return list.map((d) => (typeof d === "string" ? d : d.slug)).filter(Boolean);
}

/** Today's drills: GET /api/leaderboards/today; if a server lacks it, today's recent reps. */
async function todaysDrills() {
  try {
    return slugsFrom(await get("/api/leaderboards/today" + query({ group: GROUP })));
  } catch {
    const today = new Date().toISOString().slice(0, 10); // boards count UTC days
    const runs = await get("/api/runs/recent?limit=200");
    const seen = [];
    for (const r of runs) {
      if (String(r.started_wall).slice(0, 10) === today && !seen.includes(r.drill)) seen.push(r.drill);
    }
    return seen;
  }
}

/** A drill this TV shows: any, unless its station has run some (then those only). */
const shown = (drill) => !STATION || state.seen.length === 0 || state.seen.includes(drill);

/** Keeps the drill on screen where it is in a new list of drills. */
function setDrills(drills) {
  const current = state.drills[state.index];
  state.drills = drills;
  state.index = Math.max(0, drills.indexOf(current));
}

async function refreshDrills() {
  const drills = (await todaysDrills()).filter(shown);
  for (const drill of state.seen) if (!drills.includes(drill)) drills.push(drill);
  for (const drill of state.drills) if (!drills.includes(drill) && shown(drill)) drills.push(drill);
  setDrills(drills);
}

const entries = () => (state.board && state.board.entries) || [];
const pageCount = () => Math.max(1, Math.ceil(entries().length / Math.max(1, state.perPage)));

/** How many rows fit: the board's room under its header (and caption) over one row's height. */
function rowsThatFit() {
  const main = $(".tv-main");
  const body = $("#board-body");
  const row = body.querySelector("tr[data-athlete]");
  if (!row) return state.perPage || 1;
  const style = getComputedStyle(main);
  const room = main.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom)
    - (body.closest("table").getBoundingClientRect().height - body.getBoundingClientRect().height);
  return Math.max(1, Math.floor((room - 1) / row.getBoundingClientRect().height));
}

function labels() {
  const slug = state.drills[state.index];
  const pages = pageCount();
  const list = entries();
  const first = state.page * state.perPage;
  const last = Math.min(list.length, first + state.perPage);
  $("#tv-page").textContent = slug && pages > 1
    ? `Page ${state.page + 1} of ${pages} · #${list[first].rank}–${list[last - 1].rank}` : "";
  $("#tv-position").textContent = state.drills.length > 1
    ? `Drill ${state.index + 1} / ${state.drills.length}` : "";
  document.body.dataset.page = String(state.page + 1);
  document.body.dataset.pages = String(pages);
  document.body.dataset.perPage = String(state.perPage);
}

/** Draws the current page, measuring how many rows fit (the screen or the board's header may
 * have changed); if that changed, the first athlete shown stays on the page shown. */
function draw(flash = null) {
  const body = $("#board-body");
  const slug = state.drills[state.index];
  if (!slug || !state.board) {
    $("#tv-title").textContent = "Today";
    renderBoard(body, null, { columns: 5 }); // no ratio column left from a board before
    clear(body, h("tr", {}, h("td", { colspan: 5, class: "empty" }, "Waiting for today's first rep…")));
    labels();
    return;
  }
  const paint = () => renderBoard(body, state.board, {
    flash, offset: state.page * state.perPage, limit: Math.max(1, state.perPage), columns: 5 });
  paint();
  const fit = rowsThatFit();
  if (fit !== state.perPage) {
    const first = state.page * Math.max(1, state.perPage);
    state.perPage = fit;
    state.page = Math.floor(first / fit);
  }
  state.page = Math.min(state.page, pageCount() - 1);
  paint();
  labels();
}

async function load(flash = null) {
  const slug = state.drills[state.index];
  if (!slug) {
    state.board = null;
    draw();
    return;
  }
  const board = await get(boardUrl(slug));
  if (state.drills[state.index] !== slug) return;
  state.board = board;
  $("#tv-title").textContent = board.name || slug;
  document.body.dataset.drill = slug;
  draw(flash);
}

/** The bar under the header fills in ROTATE_S seconds, the time to the next page; under
 * reduced motion it stays empty (a bar that jumps full at once would say nothing). */
function restartProgress() {
  const bar = $("#tv-progress-bar");
  bar.style.width = "0";
  if (reducedMotion()) {
    bar.classList.remove("running");
    return;
  }
  bar.style.transitionDuration = ROTATE_S + "s";
  replay(bar, "running");
  bar.style.width = "100%";
}

/** The next page in ROTATE_S seconds: called once a page, never by live messages. */
function schedule() {
  clearTimeout(state.timer);
  restartProgress();
  state.timer = setTimeout(next, ROTATE_S * 1000);
}

async function next() {
  schedule(); // the pace is the timer's alone, not the fetches'
  if (state.board && state.page + 1 < pageCount()) {
    state.page += 1;
    draw();
    return;
  }
  if (state.index + 1 >= state.drills.length) {
    await refreshDrills().catch(console.error);
    state.index = 0;
  } else {
    state.index += 1;
  }
  state.page = 0;
  await load().catch(console.error);
}

/** A rep that ended: in the panel for FRESH_S seconds, with its rank on today's board. */
function showFresh(msg, board) {
  const entry = (board.entries || []).find((e) => e.athlete === msg.athlete);
  const footer = $(".tv-latest");
  clear($("#tv-fresh"), h("span", { class: "tv-latest-label" }, "New result"), " ",
        h("strong", {}, msg.athlete), ` · ${board.name} · ${fmtS(msg.total_s)}`,
        entry ? ` · #${entry.rank} today` : "");
  $("#tv-fresh").hidden = false;
  $("#tv-latest-label").hidden = true;
  $("#latest").hidden = true;
  footer.classList.add("fresh");
  clearTimeout(state.freshTimer);
  state.freshTimer = setTimeout(() => {
    footer.classList.remove("fresh");
    $("#tv-fresh").hidden = true;
    $("#tv-latest-label").hidden = false;
    $("#latest").hidden = false;
  }, FRESH_S * 1000);
}

/** A rep ended or was corrected on `drill`: its board is fetched once; the panel shows a new
 * result of this TV's athletes, and the board on screen takes the new figures in place. */
async function onResult(msg) {
  const drill = msg.drill;
  // A practice rep is on no board: it is not a new result.
  const ended = msg.type === LIVE.RUN && msg.state === "finished" && !msg.familiarisation;
  const board = await get(boardUrl(drill));
  const mine = !ended || (board.entries || []).some((e) => e.athlete === msg.athlete);
  if (!mine) return; // another group's athlete
  if (ended) showFresh(msg, board);
  if (!state.drills.includes(drill)) state.drills.push(drill); // joins the rotation's end
  if (state.drills[state.index] !== drill) {
    labels();
    return;
  }
  state.board = board;
  $("#tv-title").textContent = board.name || drill;
  document.body.dataset.drill = drill;
  draw(ended ? msg.athlete : null);
}

function onMessage(msg) {
  if (otherStation(msg, STATION)) return;
  const line = describe(msg);
  if (line) $("#latest").textContent = line;
  if (!msg.drill) return;
  const ended = msg.type === LIVE.RUN && msg.state === "finished";
  if (ended && STATION && !state.seen.includes(msg.drill)) {
    state.seen.push(msg.drill);
    setDrills(state.drills.filter(shown));
  }
  if ((ended || msg.type === LIVE.CORRECTION) && shown(msg.drill)) {
    onResult(msg).catch(console.error);
  }
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
  $("#tv-group").textContent = GROUP ? "Group " + GROUP : "";
  $("#tv-group").hidden = !GROUP;
  try {
    await refreshDrills();
    await load();
    // The stored reps do not say their station: a station's TV waits for its own.
    const line = STATION || GROUP ? null : await lastRepLine(null);
    if (line) $("#latest").textContent = line;
  } catch (err) {
    $("#latest").textContent = "Cannot reach the server: " + err.message;
  }
  schedule();
  window.addEventListener("resize", () => draw());
  window.agilityLive = new LiveFeed({
    onMessage,
    onReload: () => refreshDrills().then(() => load()).catch(console.error),
    onStatus: liveBadge($("#live-status")),
  }).start();
});
