// Public leaderboard (/): per drill and segment, best and last, rank and difference to the
// personal best, filtered by group or day. A view of server state: it loads the board over
// HTTP and follows /ws/live; after a reconnect it catches up (js/live.js). With ?station=NAME
// the live line and the board's live reloads follow that station's reps only (the board
// itself is the drill's, every station's reps).
import { get } from "./js/api.js";
import { $, clear, h, query } from "./js/dom.js";
import { describe, lastRepLine, otherStation, renderBoard, stationParam } from "./js/board.js";
import { LIVE } from "./js/live-types.js";
import { LiveFeed, liveBadge } from "./js/live.js";
import { mountThemeToggle } from "./js/theme.js";

const params = new URLSearchParams(location.search);
const state = {
  drill: params.get("drill"), segment: params.get("segment") || "",
  group: params.get("group") || "", day: params.get("day") || "", drills: [],
  station: stationParam(params),
};

function saveUrl() {
  const q = query({ drill: state.drill, segment: state.segment, group: state.group, day: state.day,
                    station: state.station });
  history.replaceState(null, "", location.pathname + q);
}

async function loadDrills() {
  state.drills = await get("/api/drills");
  const select = $("#drill-select");
  clear(select, ...state.drills.map((d) => h("option", { value: d.slug }, d.name)));
  const fallback = state.drills.find((d) => d.slug === "backward-sprint-10m") || state.drills[0];
  const wanted = state.drills.find((d) => d.slug === state.drill) || fallback;
  state.drill = wanted ? wanted.slug : null;
  select.value = state.drill || "";
  fillSegments(wanted ? wanted.segments : []);
}

function fillSegments(segments) {
  const select = $("#segment-select");
  clear(select, h("option", { value: "" }, "Whole rep"),
        ...(segments || []).map((s) => h("option", { value: s }, s)));
  if (!(segments || []).includes(state.segment)) state.segment = "";
  select.value = state.segment;
}

let loading = null;
async function loadBoard(flashAthlete) {
  if (!state.drill) return;
  const url = "/api/leaderboards/" + encodeURIComponent(state.drill) +
    query({ segment: state.segment, group: state.group, day: state.day });
  const mine = (loading = get(url));
  const board = await mine;
  if (mine !== loading) return; // a newer request for other filters won
  const title = board.name + (state.segment ? " · " + state.segment : "");
  $("#drill-name").textContent = title;
  document.title = title + " · Agility";
  if (Array.isArray(board.segments) && board.segments.length) fillSegments(board.segments);
  if (Array.isArray(board.groups)) {
    clear($("#group-list"), ...board.groups.map((g) => h("option", { value: g })));
  }
  renderBoard($("#board-body"), board, { flash: flashAthlete });
}

function onMessage(msg) {
  if (otherStation(msg, state.station)) return;
  if (msg.drill && msg.drill !== state.drill) return;
  const line = describe(msg);
  if (line) $("#latest").textContent = line;
  if ((msg.type === LIVE.RUN && msg.state === "finished") || msg.type === LIVE.CORRECTION) {
    loadBoard(msg.type === LIVE.RUN ? msg.athlete : null).catch(console.error);
  }
}

function bindFilters() {
  $("#filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("#drill-select").addEventListener("change", (ev) => {
    state.drill = ev.target.value;
    const drill = state.drills.find((d) => d.slug === state.drill);
    fillSegments(drill ? drill.segments : []);
    changed();
  });
  $("#segment-select").addEventListener("change", (ev) => { state.segment = ev.target.value; changed(); });
  $("#day-select").addEventListener("change", (ev) => { state.day = ev.target.value; changed(); });
  $("#group-filter").addEventListener("change", (ev) => {
    state.group = ev.target.value.trim();
    changed();
  });
  $("#day-select").value = state.day;
  $("#group-filter").value = state.group;
}

function changed() {
  saveUrl();
  loadBoard().catch((err) => { $("#latest").textContent = "Cannot load the board: " + err.message; });
}

window.addEventListener("DOMContentLoaded", async () => {
  mountThemeToggle($("#theme-toggle"));
  bindFilters();
  if (state.station) {
    $("#station-note").textContent = `Live: station ${state.station} only. `;
    $("#station-note").append(h("a", { href: location.pathname + query({ drill: state.drill }) },
                                "Every station"));
    $("#station-note").hidden = false;
    $("#latest").textContent = `Waiting for a rep at station ${state.station}…`;
  }
  try {
    await loadDrills();
    await loadBoard();
    // The stored reps do not say their station: a station's page waits for its own.
    const line = state.station ? null : await lastRepLine(state.drill);
    if (line && $("#latest").textContent.startsWith("Waiting")) $("#latest").textContent = line;
  } catch (err) {
    $("#latest").textContent = "Cannot reach the server: " + err.message;
  }
  window.agilityLive = new LiveFeed({
    onMessage,
    onReload: () => loadBoard().catch(console.error),
    onStatus: liveBadge($("#live-status")),
  }).start();
});
