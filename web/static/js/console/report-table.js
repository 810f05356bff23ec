// The team table of the Reports tab, from GET /api/reports/team: per athlete the best of each
// drill (rank, change first to last test day, norm rating), backward ÷ forward time, change of
// direction deficits per side, left/right asymmetry (flagged at 10 % or more, by the API), the
// API's flag sentences and the drills faster beyond the noise. Everything the API gives is in a
// cell as text; titles only add detail (counts, means, the days a figure comes from).
import { h, plural } from "../dom.js";

const FLAG = "⚑";
// The forward:backward ratio's one name (server/leaderboard/ratio.py RATIO_LABEL): what
// drills/metrics.py computes, backward time ÷ forward time over the same distance.
export const RATIO_LABEL = "Backward ÷ forward time";
const s3 = (v) => (v == null ? "–" : Number(v).toFixed(3));
const signed = (pct) => `${pct > 0 ? "+" : pct < 0 ? "−" : "±"}${Math.abs(pct).toFixed(2)}\u00a0%`;

function counts(cell) {
  const parts = [`${cell.valid_reps} of ${plural(cell.reps, "rep")} valid`];
  if (cell.voided) parts.push(`${cell.voided} voided`);
  if (cell.familiarisation) parts.push(`${cell.familiarisation} practice`);
  if (cell.false_starts) parts.push(plural(cell.false_starts, "false start"));
  if (cell.manual) parts.push(`${cell.manual} typed in`);
  return parts.join(", ");
}

function changeNode(change) {
  if (!change) return null;
  const good = change.direction === "improved";
  const cls = !change.flagged ? "change" : good ? "change improved" : "change flagged";
  const mark = change.flagged ? (good ? " ▼" : ` ▲${FLAG}`) : "";
  return h("span", { class: cls, title: `first to last test day: ${change.direction}; `
      + `${change.flagged ? "beyond" : "within"} the noise (${change.threshold_s} s)` },
    `${signed(change.pct)}${mark}`);
}

function ratingNode(rating) {
  if (!rating) return null;
  const text = rating.band || (rating.percentile != null ? `P${Math.round(rating.percentile)}` : null);
  return text ? h("span", { class: "rating", title: `${rating.population}: ${rating.message || ""}` },
                  text) : null;
}

function drillCell(cell) {
  if (!cell) return h("td", { class: "num muted" }, "–");
  const title = [counts(cell), cell.mean_s != null ? `mean ${s3(cell.mean_s)} s` : null,
                 cell.cv_pct != null ? `CV ${cell.cv_pct} %` : null].filter(Boolean).join("; ");
  if (cell.best_s == null) return h("td", { class: "num muted", title }, "no valid rep");
  return h("td", { class: "num", title },
    h("span", { class: "best" }, s3(cell.best_s)),
    cell.rank ? h("span", { class: "manual-mark" }, ` #${cell.rank}`) : null,
    cell.manual ? h("span", { class: "manual-mark", title: "includes times typed in by a coach" }, " ✎")
      : null,
    cell.change || cell.rating ? h("br") : null, changeNode(cell.change), " ",
    ratingNode(cell.rating));
}

function ratioLine(r, names) {
  return [h("div", { class: "cell-line", title: `${RATIO_LABEL}: ${names(r.backward)} `
                       + `${s3(r.backward_best_s)} s ÷ ${names(r.forward)} ${s3(r.forward_best_s)} s, `
                       + `best of ${r.day} each` },
            `${r.distance_m} m: `, h("strong", { class: "ratio" }, s3(r.ratio))),
          h("div", { class: "manual-mark cell-line" }, `${s3(r.backward_best_s)} ÷ ${s3(r.forward_best_s)} s`)];
}

function deficitLine(c, names) {
  const side = c.side ? c.side[0].toUpperCase() + c.side.slice(1) : names(c.drill);
  return h("div", { class: "cell-line" + (c.deficit_s < 0 ? " flagged" : ""),
                    title: `${names(c.drill)} ${s3(c.turn_best_s)} s − 10 m sprint `
                           + `${s3(c.sprint_best_s)} s, ${c.day}` },
    `${side}: `, h("strong", { class: "deficit" }, `${s3(c.deficit_s)} s`));
}

function asymmetryLine(a) {
  return h("div", { class: a.flagged ? "flagged" : null,
                    title: `left ${s3(a.left_best_s)} s, right ${s3(a.right_best_s)} s; `
                           + "flag at 10 % or more" },
    h("div", { class: "cell-line" }, `${a.name}: `,
      h("strong", { class: "asymmetry" }, `${a.pct.toFixed(2)} %`), a.flagged ? ` ${FLAG}` : ""),
    a.worse ? h("div", { class: "manual-mark cell-line" }, `${a.worse} slower`) : null);
}

function cell(cls, items, render) {
  return h("td", { class: cls },
    items && items.length ? items.flatMap(render) : h("span", { class: "muted" }, "–"));
}

/** The API's flag sentences and the drills faster beyond the noise, under the athlete's row. */
function flagsRow(a, names, span, pick) {
  const items = (a.flags || []).map((f) => h("li", { class: "flag" }, `${FLAG} ${f}`));
  if (a.improved && a.improved.length) {
    items.push(h("li", { class: "improved" }, "▼ Faster beyond the noise: ",
      a.improved.map((i) => `${names(i.drill)} ${signed(i.change_pct)}`).join("; ")));
  }
  if (!items.length) return null;
  return h("tr", { class: "flags-row", dataset: { flagsFor: a.id }, onclick: pick },
    h("td", { colspan: span, class: "flags-cell" }, h("ul", { class: "flag-list" }, items)));
}

/**
 * Nodes for the report: the table (a row `tr[data-athlete-id]` per athlete, and under it a
 * `tr.flags-row[data-flags-for]` when the API has flags or good news; the name is a button
 * that calls onPick(athlete)), a key to its marks and the norms used. `selected`: an id.
 */
export function teamTable(report, { onPick, selected = null } = {}) {
  const drills = report.drills || [];
  const athletes = report.athletes || [];
  if (!athletes.length) return [h("p", { class: "muted" }, report.message || "No reps in this scope.")];
  const byslug = Object.fromEntries(drills.map((d) => [d.slug, d.name]));
  const names = (slug) => byslug[slug] || slug;
  const allTeams = !(report.scope && report.scope.team);
  const span = drills.length + 4;
  const rows = (a) => {
    const pick = (ev) => { if (!ev || !ev.target.closest("button, a")) onPick(a); };
    const isSelected = a.id === selected;
    const flags = flagsRow(a, names, span, pick);
    const main = h("tr", { dataset: { athleteId: a.id }, onclick: pick,
                           class: [isSelected ? "selected" : "", flags ? "has-flags" : ""].join(" ").trim() },
      h("th", { scope: "row", class: "athlete-cell" },
        h("button", { type: "button", class: "athlete-link", onclick: () => onPick(a),
                      "aria-controls": "athlete-report", "aria-expanded": String(isSelected),
                      title: `${a.name}: history chart` }, a.name),
        h("div", { class: "manual-mark" }, [allTeams ? a.team : null, a.group].filter(Boolean).join(" · "))),
      drills.map((d) => drillCell((a.drills || {})[d.slug])),
      cell("fb-cell", a.fb_ratios, (r) => ratioLine(r, names)),
      cell("cod-cell", a.cod_deficits, (c) => deficitLine(c, names)),
      cell("asym-cell", a.asymmetry, asymmetryLine));
    return [main, flags];
  };
  const norms = report.norms || [];
  const without = report.without_norms || [];
  return [
    report.message ? h("p", { class: "muted" }, report.message) : null,
    h("div", { class: "table-scroll" },
      h("table", { class: "board report-table", dataset: { part: "report-table" } },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Athlete"),
          drills.map((d) => h("th", { scope: "col", class: "num", title: `${d.slug}; smallest `
              + `worthwhile change ${d.swc_s ?? "–"} s, typical error ${d.te_s ?? "–"} s` },
            d.name, h("div", { class: "manual-mark" }, "best (s)"))),
          h("th", { scope: "col", class: "fb-head",
                    title: "best backward time ÷ best forward time over the same distance, same day" },
            RATIO_LABEL, h("div", { class: "manual-mark" }, "backward best ÷ forward best, same day")),
          h("th", { scope: "col" }, "COD deficit", h("div", { class: "manual-mark" }, "505 − 10 m")),
          h("th", { scope: "col" }, "Asymmetry", h("div", { class: "manual-mark" }, `${FLAG} ≥ 10 %`)))),
        h("tbody", {}, athletes.flatMap(rows)))),
    h("p", { class: "muted small-print report-key" },
      "Best time per drill (lower is better), #rank in the team, change from the first to the "
      + "last test day (▼ faster or ▲ slower beyond the smallest worthwhile change and the "
      + `typical error), ✎ typed-in times among the reps, ${FLAG} a flag. ${RATIO_LABEL}: the `
      + "backward best divided by the forward best over the same distance on the same day (above "
      + "1, backward is slower); the COD deficit is the 505 time minus the same "
      + "day's 10 m sprint. Choose an athlete for the history chart."),
    norms.length ? h("p", { class: "muted small-print", dataset: { part: "report-norms" } }, "Norms: ",
      norms.map((n) => `${n.protocol}, ${n.population} (${n.citation})`).join("; ")) : null,
    // Said, not left out: a coach should know a drill has no norm rather than wonder.
    without.length ? h("p", { class: "muted small-print", dataset: { part: "report-no-norms" } },
      "No published norm for " + without.map((d) => d.name).join(", ")
      + ": times compared within the group only.") : null,
  ];
}
