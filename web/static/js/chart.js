// A small inline-SVG line chart: times over test days, one line per series, drawn at the
// container's own pixel width (so text stays readable on a phone) and redrawn when it resizes.
// Colours come from CSS classes (web/static/chart.css) that follow the theme's variables.
//
//   const chart = lineChart(container, [{ id: "sprint-10m", name: "Sprint 10 m",
//       points: [{ x: "2026-03-02", y: 1.851, note: "best of 3 valid reps" }] }],
//     { title: "…", yLabel: "Best time per day (s), lower is better", unit: "s" });
//   chart.redraw(); chart.destroy();
//
// Every point is a focusable <g class="chart-point"> with a <title> ("Sprint 10 m, 2 Mar 2026:
// 1.851 s …") for hover; a tap, click or keyboard focus also writes that text under the chart.
// The legend's buttons hide and show a series (the y axis then fits the lines still shown).
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const SHAPES = ["circle", "square", "triangle", "diamond", "down", "cross"];
const DAY_MS = 86_400_000;
const PAD = { top: 18, right: 24, bottom: 64, left: 78 };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value != null) el.setAttribute(key, value);
  for (const child of children.flat()) if (child != null) el.append(child);
  return el;
}

/** A day ("YYYY-MM-DD"), a Date or milliseconds as UTC milliseconds. */
export function toTime(x) {
  if (x instanceof Date) return x.getTime();
  if (typeof x === "number") return x;
  const [y, m, d] = String(x).slice(0, 10).split("-").map(Number);
  return Date.UTC(y, m - 1, d);
}

const SHORT = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const LONG = new Intl.DateTimeFormat(undefined,
  { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
export const fmtDay = (ms) => LONG.format(new Date(ms));

/** Round steps (1, 2, 2.5, 5 × 10^k) covering [lo, hi] with about `count` intervals. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.05 || 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= raw);
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let v = first; v <= last + step / 2; v += step) ticks.push(Number(v.toFixed(10)));
  const places = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / power === 2.5 ? 1 : 0));
  return { ticks, step, places };
}

/** Up to `max` of the sorted days, evenly spread, always the first and the last. */
function thin(days, max) {
  if (days.length <= max) return days;
  const out = [];
  for (let i = 0; i < max; i += 1) out.push(days[Math.round((i * (days.length - 1)) / (max - 1))]);
  return [...new Set(out)];
}

function markerPath(shape, x, y, r) {
  const d = {
    square: `M${x - r} ${y - r}h${2 * r}v${2 * r}h${-2 * r}Z`,
    triangle: `M${x} ${y - r * 1.2}L${x + r * 1.1} ${y + r * 0.8}H${x - r * 1.1}Z`,
    diamond: `M${x} ${y - r * 1.3}L${x + r * 1.3} ${y}L${x} ${y + r * 1.3}L${x - r * 1.3} ${y}Z`,
    down: `M${x} ${y + r * 1.2}L${x + r * 1.1} ${y - r * 0.8}H${x - r * 1.1}Z`,
    cross: `M${x - r} ${y - r}L${x + r} ${y + r}M${x + r} ${y - r}L${x - r} ${y + r}`,
  }[shape];
  return d ? svg("path", { d, class: "chart-marker" }) : svg("circle", { cx: x, cy: y, r, class: "chart-marker" });
}

function swatch(index) {
  const shape = SHAPES[index % SHAPES.length];
  return svg("svg", { viewBox: "0 0 36 16", width: 36, height: 16, "aria-hidden": "true",
                      class: `chart-swatch chart-series-${index % 8}` },
    svg("line", { x1: 2, y1: 8, x2: 34, y2: 8, class: "chart-line" }), markerPath(shape, 18, 8, 5));
}

/**
 * Draws `series` ([{id, name, points: [{x, y, note}]}]) into `container`; returns
 * {redraw, destroy, element}. Options: title (the chart's accessible name), yLabel, xLabel,
 * unit ("s"), height (px), places (decimals in a point's text, 3), empty (text when no point).
 */
export function lineChart(container, series, options = {}) {
  const opts = { unit: "s", places: 3, height: 340, xLabel: "Test day",
                 yLabel: "Time (s)", empty: "Nothing to chart yet.", ...options };
  const list = series.map((s, index) => ({ ...s, index,
    points: s.points.map((p) => ({ ...p, t: toTime(p.x) })).sort((a, b) => a.t - b.t) }))
    .filter((s) => s.points.length);
  const hidden = new Set();
  const figure = h("figure", { class: "chart" });
  const readout = h("p", { class: "chart-readout", "aria-live": "polite" });
  const legend = h("ul", { class: "chart-legend", "aria-label": "Lines" });
  let width = 0;

  const unitText = (v, places) => `${v.toFixed(places)} ${opts.unit}`.trim();
  const pointText = (s, p) =>
    `${s.name}, ${fmtDay(p.t)}: ${unitText(p.y, opts.places)}${p.note ? ` (${p.note})` : ""}`;

  function draw() {
    width = Math.max(280, Math.floor(container.clientWidth || 720));
    const height = opts.height;
    const shown = list.filter((s) => !hidden.has(s.id));
    const all = shown.flatMap((s) => s.points);
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const chart = svg("svg", { class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`,
                               role: "group", "aria-label": opts.title || opts.yLabel });
    if (opts.title) chart.append(svg("title", {}, opts.title));
    if (!all.length) {
      chart.append(svg("text", { x: width / 2, y: height / 2, class: "chart-empty",
                                 "text-anchor": "middle" }, "Every line is hidden."));
      return chart;
    }
    const ys = all.map((p) => p.y);
    const { ticks, places: tickPlaces } = niceTicks(Math.min(...ys), Math.max(...ys), plotH < 200 ? 4 : 5);
    const places = Math.max(1, tickPlaces);
    const [y0, y1] = [ticks[0], ticks[ticks.length - 1]];
    const days = [...new Set(all.map((p) => p.t))].sort((a, b) => a - b);
    let [t0, t1] = [days[0], days[days.length - 1]];
    if (t0 === t1) [t0, t1] = [t0 - DAY_MS, t1 + DAY_MS];
    const sx = (t) => PAD.left + ((t - t0) / (t1 - t0)) * plotW;
    const sy = (v) => PAD.top + (1 - (v - y0) / (y1 - y0)) * plotH;

    const grid = svg("g", { class: "chart-grid", "aria-hidden": "true" });
    for (const v of ticks) {
      grid.append(svg("line", { x1: PAD.left, x2: PAD.left + plotW, y1: sy(v), y2: sy(v) }),
        svg("text", { x: PAD.left - 8, y: sy(v), class: "chart-tick", "text-anchor": "end",
                      "dominant-baseline": "middle" }, unitText(v, places)));
    }
    let lastYear = null;
    for (const t of thin(days, Math.max(2, Math.floor(plotW / 84)))) {
      const year = new Date(t).getUTCFullYear();
      grid.append(svg("line", { x1: sx(t), x2: sx(t), y1: PAD.top + plotH, y2: PAD.top + plotH + 6,
                                class: "chart-tick-mark" }),
        svg("text", { x: sx(t), y: PAD.top + plotH + 22, class: "chart-tick", "text-anchor": "middle" },
            SHORT.format(new Date(t)),
            year !== lastYear ? svg("tspan", { x: sx(t), dy: 18 }, String(year)) : null));
      lastYear = year;
    }
    const axes = svg("g", { class: "chart-axis", "aria-hidden": "true" },
      svg("path", { d: `M${PAD.left} ${PAD.top}V${PAD.top + plotH}H${PAD.left + plotW}` }),
      svg("text", { x: PAD.left + plotW / 2, y: height - 6, class: "chart-label",
                    "text-anchor": "middle" }, opts.xLabel),
      svg("text", { x: 0, y: 0, class: "chart-label", "text-anchor": "middle",
                    transform: `translate(16 ${PAD.top + plotH / 2}) rotate(-90)` }, opts.yLabel));
    chart.append(grid, axes);

    for (const s of shown) {
      const shape = SHAPES[s.index % SHAPES.length];
      const group = svg("g", { class: `chart-series chart-series-${s.index % 8}`,
                               "data-series": s.id, role: "list", "aria-label": s.name });
      group.append(svg("polyline", { class: "chart-line", "aria-hidden": "true",
        points: s.points.map((p) => `${sx(p.t).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ") }));
      for (const p of s.points) {
        const text = pointText(s, p);
        const point = svg("g", { class: "chart-point", tabindex: 0, role: "listitem",
                                 "aria-label": text, "data-day": new Date(p.t).toISOString().slice(0, 10),
                                 "data-y": p.y },
          svg("title", {}, text),
          svg("circle", { cx: sx(p.t), cy: sy(p.y), r: 20, class: "chart-hit" }),
          markerPath(shape, sx(p.t), sy(p.y), 6));
        const say = () => { readout.textContent = text; };
        point.addEventListener("focus", say);
        point.addEventListener("click", say);
        point.addEventListener("pointerenter", say);
        group.append(point);
      }
      chart.append(group);
    }
    return chart;
  }

  function drawLegend() {
    legend.replaceChildren(...list.map((s) => {
      const button = h("button", { type: "button", class: "chart-toggle", "data-series": s.id,
                                      "aria-pressed": String(!hidden.has(s.id)),
                                      title: hidden.has(s.id) ? "Show this line" : "Hide this line" },
        swatch(s.index), s.name);
      button.addEventListener("click", () => {
        if (hidden.has(s.id)) hidden.delete(s.id);
        else hidden.add(s.id);
        redraw();
      });
      return h("li", {}, button);
    }));
  }

  function redraw() {
    if (!list.length) {
      figure.replaceChildren(h("p", { class: "chart-empty muted" }, opts.empty));
      return;
    }
    drawLegend();
    figure.replaceChildren(draw(), legend, readout);
  }

  container.replaceChildren(figure);
  redraw();
  let frame = 0;
  const observer = typeof ResizeObserver === "function" ? new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      if (list.length && Math.abs(Math.floor(container.clientWidth) - width) > 2) redraw();
    });
  }) : null;
  if (observer) observer.observe(container);
  return {
    element: figure,
    redraw,
    destroy() {
      if (observer) observer.disconnect();
      cancelAnimationFrame(frame);
      container.replaceChildren();
    },
  };
}
