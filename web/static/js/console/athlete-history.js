// One athlete's history on the Reports tab, from GET /api/reports/athlete/{id}: a line chart
// of the best valid time per test day for every drill (js/chart.js), then the forward:backward
// ratios over time and the left/right comparisons. No valid rep: a sentence instead of a chart.
import { clear, h } from "../dom.js";
import { fmtDay, lineChart, toTime } from "../chart.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

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
    out.push(h("p", { id: "history-ratios" }, h("strong", {}, "Forward:backward over time: "),
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
    const done = h("button", { type: "button", class: "small", id: "athlete-report-close",
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
    const holder = h("div", { class: "chart-box", id: "history-chart" });
    const counted = series.filter((s) => s.points.length).length;
    const days = new Set(series.flatMap((s) => s.points.map((p) => p.x))).size;
    clear(body,
      counted ? h("p", { class: "muted" }, `${plural(counted, "drill")} over ${plural(days, "test day")}. `
        + "Each point is the best valid time of the day; tap or hover a point for its time.") : null,
      holder, ...extras(history));
    chart = lineChart(holder, series, {
      title: `${athlete.name}: best time per test day`,
      yLabel: "Best time (s), lower is better",
      xLabel: "Test day",
      empty: `No valid reps for ${athlete.name} in this period: nothing to chart yet.`,
    });
  }

  return { open, close, get athleteId() { return box.hidden ? null : Number(box.dataset.athleteId); } };
}
