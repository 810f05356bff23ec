// The leaderboard table, shared by the phone page and the TV: rank, athlete, best, last,
// difference to the personal best, reps; times the gates did not take are marked. The board
// of a backward drill with a forward twin adds each athlete's backward ÷ forward time, its
// name in the column's header and its meaning under the table (server/leaderboard/ratio.py).
import { get } from "./api.js";
import { clear, fmtDiff, fmtS, h } from "./dom.js";
import { LIVE } from "./live-types.js";
import { REP_TYPES } from "./live.js";

function timeCell(seconds, manual, cls) {
  return h("td", { class: cls }, fmtS(seconds),
           manual ? h("span", { class: "manual-mark", title: "typed in by a coach" }, " ✎") : null);
}

/** True when the board has a backward ÷ forward time to show for someone. */
export function hasRatio(board) {
  return Boolean(board && board.ratio && (board.entries || []).some((e) => e.ratio != null));
}

/** The ratio's header cell and the table's caption saying what it is, or neither. */
function ratioWords(body, board) {
  const table = body.closest("table");
  const row = table && table.tHead && table.tHead.rows[0];
  if (!row) return;
  let th = row.querySelector("th.ratio");
  table.classList.toggle("has-ratio", hasRatio(board));
  if (!hasRatio(board)) {
    if (th) th.remove();
    table.querySelector("caption.ratio-note")?.remove();
    return;
  }
  const { label, meaning, forward_name: forward } = board.ratio;
  if (!th) {
    th = h("th", { scope: "col", class: "num ratio" });
    row.insertBefore(th, row.querySelector("th.wide"));
  }
  th.title = `${label}: ${meaning}`;
  clear(th, label);
  const caption = table.querySelector("caption.ratio-note") ||
    table.insertBefore(h("caption", { class: "ratio-note" }), table.firstChild);
  caption.textContent = `${label}: ${meaning}. Forward: ${forward}.`;
}

function ratioCell(e, ratio) {
  if (e.ratio == null) {
    return h("td", { class: "num ratio muted",
                     title: `${ratio.label}: no ${ratio.forward_name} time on a day with a backward one` },
             "–");
  }
  return h("td", { class: "num ratio", title: `${ratio.label}: ${fmtS(e.ratio_backward_s)} ÷ `
                     + `${fmtS(e.ratio_forward_s)} (${ratio.forward_name}), ${e.ratio_day}` },
           Number(e.ratio).toFixed(3));
}

/**
 * Fills `body` (a tbody) with the board's entries from `offset`, at most `limit` of them;
 * `flash` names an athlete to highlight; `columns`: 6 with the reps, 5 without.
 */
export function renderBoard(body, board, { flash = null, limit = Infinity, offset = 0, columns = 6 } = {}) {
  const entries = (board && board.entries) || [];
  ratioWords(body, board);
  const ratio = hasRatio(board) ? board.ratio : null;
  if (entries.length === 0) {
    clear(body, h("tr", {}, h("td", { colspan: columns, class: "empty" }, "No runs yet.")));
    return;
  }
  clear(body, ...entries.slice(offset, offset + limit).map((e) => {
    const diff = e.diff_to_pb_s;
    const diffClass = diff == null ? "" : Math.abs(diff) < 0.0005 ? " pb" : " slower";
    return h("tr", { dataset: { athlete: e.athlete }, class: e.athlete === flash ? "flash" : "" },
      h("td", {}, e.rank),
      h("td", { class: "athlete", title: e.athlete }, e.athlete),
      timeCell(e.best_s, e.best_manual, "num best"),
      timeCell(e.last_s, e.last_manual, "num last"),
      h("td", { class: "num diff" + diffClass }, fmtDiff(diff)),
      ratio ? ratioCell(e, ratio) : null,
      columns > 5 ? h("td", { class: "num wide" }, e.runs) : null);
  }));
}

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
  if (msg.type === LIVE.SPLIT) return `${msg.athlete}: ${msg.split} ${fmtS(msg.elapsed_s)}`;
  if (msg.type === LIVE.RUN) {
    const what = msg.state === "finished" ? fmtS(msg.total_s) : String(msg.state).replace(/_/g, " ");
    return `${msg.athlete} · rep ${msg.rep}${msg.familiarisation ? " (practice)" : ""}: ${what}`;
  }
  if (msg.type === LIVE.CORRECTION) return "A rep was corrected by the coach; the board is updated.";
  return null;
}

/** The line for the last rep already stored (from /api/runs/recent), before any live message. */
export async function lastRepLine(drill) {
  const url = "/api/runs/recent?limit=1" + (drill ? "&drill=" + encodeURIComponent(drill) : "");
  // A server that answers with an error has no last rep to tell of; one that does not
  // answer at all is the page's to report.
  const runs = await get(url).catch((err) => {
    if (err.status === 0) throw err;
    return [];
  });
  return runs.length ? describe({ type: LIVE.RUN, ...runs[0] }) : null;
}
