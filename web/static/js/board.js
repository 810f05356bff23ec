// The leaderboard table, shared by the phone page and the TV: rank, athlete, best, last,
// difference to the personal best, reps; times the gates did not take are marked.
import { clear, fmtDiff, fmtS, h } from "./dom.js";

function timeCell(seconds, manual, cls) {
  return h("td", { class: cls }, fmtS(seconds),
           manual ? h("span", { class: "manual-mark", title: "typed in by a coach" }, " ✎") : null);
}

/** Fills `body` (a tbody) with the board's entries; `flash` names an athlete to highlight. */
export function renderBoard(body, board, { flash = null, limit = Infinity, columns = 6 } = {}) {
  const entries = (board && board.entries) || [];
  if (entries.length === 0) {
    clear(body, h("tr", {}, h("td", { colspan: columns, class: "empty" }, "No runs yet.")));
    return;
  }
  clear(body, ...entries.slice(0, limit).map((e) => {
    const diff = e.diff_to_pb_s;
    const diffClass = diff == null ? "" : Math.abs(diff) < 0.0005 ? " pb" : " slower";
    return h("tr", { dataset: { athlete: e.athlete }, class: e.athlete === flash ? "flash" : "" },
      h("td", {}, e.rank),
      h("td", { class: "athlete" }, e.athlete),
      timeCell(e.best_s, e.best_manual, "num best"),
      timeCell(e.last_s, e.last_manual, "num last"),
      h("td", { class: "num diff" + diffClass }, fmtDiff(diff)),
      columns > 5 ? h("td", { class: "num wide" }, e.runs) : null);
  }));
}

// Live messages about a rep name the station (course) it ran on; a rep of the lane of
// before names "main".
const REP_TYPES = new Set(["split", "run", "cue", "stimulus", "flag", "start_refused",
                           "crossing_unassigned"]);

/** The `?station=NAME` of the page's address: "" shows every station. */
export function stationParam(params = new URLSearchParams(location.search)) {
  return (params.get("station") || "").trim();
}

/** True when a station is chosen and `msg` is about a rep on another one. */
export function otherStation(msg, station) {
  return Boolean(station) && REP_TYPES.has(msg.type) && (msg.station || "main") !== station;
}

/** One line about a live message, or null when it says nothing for a board's audience. */
export function describe(msg) {
  if (msg.type === "split") return `${msg.athlete}: ${msg.split} ${fmtS(msg.elapsed_s)}`;
  if (msg.type === "run") {
    const what = msg.state === "finished" ? fmtS(msg.total_s) : String(msg.state).replace(/_/g, " ");
    return `${msg.athlete} · rep ${msg.rep}: ${what}`;
  }
  if (msg.type === "correction") return "A rep was corrected by the coach; the board is updated.";
  return null;
}

/** The line for the last rep already stored (from /api/runs/recent), before any live message. */
export async function lastRepLine(drill) {
  const url = "/api/runs/recent?limit=1" + (drill ? "&drill=" + encodeURIComponent(drill) : "");
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  const runs = res.ok ? await res.json() : [];
  return runs.length ? describe({ type: "run", ...runs[0] }) : null;
}
