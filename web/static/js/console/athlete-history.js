// One athlete's history on the Reports tab, from GET /api/reports/athlete/{id}: a line chart
// of the best valid time per test day for every drill (js/chart.js), a table of the same
// days (per drill: each day's best valid time, its reps, and the marks to read it by), then
// the forward:backward ratios over time and the left/right comparisons. No valid rep: a
// sentence instead of a chart.
import { clear, fmtS, h, plural } from "../dom.js";
import { fmtDay, lineChart, toTime } from "../chart.js";
import { RATIO_LABEL } from "./report-table.js";

const dayOf = (iso) => String(iso).slice(0, 10); // the API's days are UTC dates, as its starts

/** What to know to read a rep's time: hand time, out of range, cross-device, coarse. */
function repMarks(rep) {
  return [
    rep.manual ? "hand time" : null,
    rep.out_of_range ? "out of range, confirmed" : null,
    rep.cross_device_error_ms != null ? `±${rep.cross_device_error_ms} ms cross-device` : null,
    rep.coarse ? "coarse" : null,
  ].filter(Boolean);
}

/** The reps of a day that did not count, by kind: "1 voided, 2 practice". */
function leftOut(reps) {
  const kinds = [
    ["voided", (r) => r.void], ["practice", (r) => r.familiarisation && !r.void],
    ["false start", (r) => r.false_start], ["unfinished", (r) => !r.valid && !r.void
      && !r.familiarisation && !r.false_start],
  ];
  return kinds.map(([word, test]) => [word, reps.filter(test).length])
    .filter(([, n]) => n).map(([word, n]) => `${n} ${word}`).join(", ");
}

/** Per drill, per test day: the best valid time, the reps (valid of all) and the marks. */
function historyTable(history) {
  const groups = [];
  for (const drill of history.drills || []) {
    const days = new Map();
    for (const rep of drill.reps || []) {
      const day = dayOf(rep.started_wall);
      if (!days.has(day)) days.set(day, []);
      days.get(day).push(rep);
    }
    if (!days.size) continue;
    const rows = [...days.keys()].sort().map((day, i) => {
      const reps = days.get(day);
      const valid = reps.filter((r) => r.valid && r.total_s != null);
      const best = valid.reduce((a, r) => (a && a.total_s <= r.total_s ? a : r), null);
      const marks = best ? repMarks(best) : [];
      const out = leftOut(reps);
      return h("tr", { dataset: { drill: drill.slug, day } },
        i === 0 ? h("th", { scope: "rowgroup", rowspan: days.size }, drill.name) : null,
        h("td", {}, fmtDay(toTime(day))),
        h("td", { class: "num best" }, best ? fmtS(best.total_s) : "–"),
        h("td", { class: "num reps" }, `${valid.length} of ${reps.length}`),
        h("td", { class: "marks" }, [marks.join(", "), out ? `not counted: ${out}` : ""]
          .filter(Boolean).join("; ")));
    });
    groups.push(h("tbody", { dataset: { drill: drill.slug } }, rows));
  }
  if (!groups.length) return null;
  return h("table", { class: "board history-table", dataset: { part: "history-table" } },
    h("caption", { class: "muted" }, "Each test day: the best valid time, the valid reps of all "
      + "the reps run, and what to know to read the time."),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Drill"), h("th", { scope: "col" }, "Test day"),
      h("th", { scope: "col", class: "num" }, "Best"), h("th", { scope: "col", class: "num" }, "Reps"),
      h("th", { scope: "col" }, "Marks"))),
    ...groups);
}

function seriesOf(history) {
  return (history.drills || []).map((d) => ({
    id: d.slug,
    name: d.name,
    points: (d.series || []).map((p) => ({
      x: p.day, y: p.best_s,
      note: `best of ${plural(p.valid_reps, "valid rep")}, mean ${p.mean_s.toFixed(3)} s`,
    })),
  }));
}

function extras(history) {
  const out = [];
  const ratios = history.fb_ratios || [];
  if (ratios.length) {
    out.push(h("p", { dataset: { part: "history-ratios" } }, h("strong", {}, `${RATIO_LABEL} over time: `),
      ratios.map((r) => `${r.distance_m} m ${r.ratio.toFixed(3)} (${fmtDay(toTime(r.day))})`)
        .join(", ")));
  }
  for (const a of history.asymmetry || []) {
    out.push(h("p", { class: a.flagged ? "flagged" : null },
      h("strong", {}, `${a.name} left/right: `),
      `left ${a.left_best_s.toFixed(3)} s, right ${a.right_best_s.toFixed(3)} s, `
      + `${a.pct.toFixed(2)} %${a.worse ? `, ${a.worse} slower` : ""}`,
      a.flagged ? " ⚑ (10 % or more)" : ""));
  }
  const idle = (history.drills || []).filter((d) => !(d.series || []).length);
  if (idle.length) {
    out.push(h("p", { class: "muted" }, "No valid rep to chart: ",
      idle.map((d) => `${d.name} (${plural((d.reps || []).length, "rep")}, none valid)`).join("; ")));
  }
  return out;
}

/**
 * The panel in `box` (the #athlete-report section): open(athlete, load) shows `athlete`
 * ({id, name}) while `load()` fetches the history JSON, then the chart; close() empties it.
 * `onClose(athlete)` runs when the coach closes it.
 */
export function createHistoryPanel(box, { onClose }) {
  let chart = null;
  let token = 0;

  function drop() {
    if (chart) chart.destroy();
    chart = null;
  }

  function close() {
    token += 1;
    drop();
    box.hidden = true;
    clear(box);
  }

  /** Shows the panel for `athlete` while `load()` runs; `focus` moves focus to its heading. */
  async function open(athlete, load, { focus = true } = {}) {
    const mine = ++token;
    drop();
    box.hidden = false;
    box.dataset.athleteId = athlete.id;
    const heading = h("h3", { id: "athlete-report-title", tabindex: "-1" }, `${athlete.name}: history`);
    const done = h("button", { type: "button", class: "small", dataset: { part: "athlete-report-close" },
                               onclick: () => { close(); onClose(athlete); } }, "Close chart");
    const body = h("div", { class: "athlete-report-body" }, h("p", { class: "muted" }, "Loading the history…"));
    clear(box, h("div", { class: "athlete-report-head" }, heading, done), body);
    if (focus) {
      heading.focus({ preventScroll: true });
      box.scrollIntoView({ block: "nearest" });
    }
    let history;
    try {
      history = await load();
    } catch (err) {
      if (mine === token) clear(body, h("div", { class: "alert" }, `The history could not load: ${err.message}`));
      return;
    }
    if (mine !== token) return; // another athlete was chosen meanwhile
    const series = seriesOf(history);
    const holder = h("div", { class: "chart-box", dataset: { part: "history-chart" } });
    const counted = series.filter((s) => s.points.length).length;
    const days = new Set(series.flatMap((s) => s.points.map((p) => p.x))).size;
    clear(body,
      counted ? h("p", { class: "muted" }, `${plural(counted, "drill")} over ${plural(days, "test day")}. `
        + "Each point is the best valid time of the day; tap or hover a point for its time.") : null,
      holder, historyTable(history), ...extras(history));
    chart = lineChart(holder, series, {
      title: `${athlete.name}: best time per test day`,
      yLabel: "Best time (s), lower is better",
      xLabel: "Test day",
      empty: `No valid reps for ${athlete.name} in this period: nothing to chart yet.`,
    });
  }

  return { open, close, get athleteId() { return box.hidden ? null : Number(box.dataset.athleteId); } };
}
