// Reports tab: the team report (GET /api/reports/team) as one table, athletes by drills
// (best, rank, change), filtered by team and dates; the export downloads
// (GET /api/reports/export?format=csv|xlsx|pdf with the same filters) are plain links.
import { get } from "../api.js";
import { $, $$, clear, h, query } from "../dom.js";
import { errorNodes, fillSelect, on } from "./ui.js";

function filters() {
  return { team_id: $("#report-team").value, from: $("#report-from").value, to: $("#report-to").value };
}

function changeText(change) {
  if (!change) return null;
  const sign = change.pct > 0 ? "+" : "";
  return h("span", { class: "manual-mark" + (change.flagged ? " flagged" : ""),
                     title: `${change.direction}, beyond ${change.threshold_s} s: ${change.flagged ? "yes" : "no"}` },
           ` ${sign}${change.pct}%`);
}

function teamTable(report) {
  const drills = report.drills || [];
  const athletes = report.athletes || [];
  if (!athletes.length) return [h("p", { class: "muted" }, report.message || "No reps in this scope.")];
  return [
    report.message ? h("p", { class: "muted" }, report.message) : null,
    h("table", { class: "board report-table", id: "report-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Athlete"), h("th", {}, "Group"),
        drills.map((d) => h("th", { class: "num", title: d.slug }, d.name)),
        h("th", {}, "Forward:backward"))),
      h("tbody", {}, athletes.map((a) => h("tr", { dataset: { athleteId: a.id } },
        h("td", {}, a.name), h("td", {}, a.group || ""),
        drills.map((d) => {
          const cell = (a.drills || {})[d.slug];
          if (!cell || cell.best_s == null) return h("td", { class: "num muted" }, "–");
          return h("td", { class: "num" }, cell.best_s.toFixed(3),
                   cell.rank ? h("span", { class: "manual-mark" }, ` #${cell.rank}`) : null,
                   changeText(cell.change));
        }),
        h("td", {}, (a.fb_ratios || []).map((r) => `${r.distance_m} m: ${r.ratio}`).join(", ") || "–"))))),
  ];
}

export function createReports(ctx) {
  function fillTeams() {
    fillSelect($("#report-team"), ctx.store.teams.map((t) => ({ value: String(t.id), label: t.name })),
               { blank: "All teams" });
  }

  function updateLinks() {
    for (const link of $$("#tab-reports a[data-format]")) {
      link.href = "/api/reports/export" + query({ format: link.dataset.format, ...filters() });
    }
  }

  async function show() {
    updateLinks();
    const box = $("#reports-content");
    clear(box, h("p", { class: "muted" }, "Loading the team report…"));
    try {
      clear(box, ...teamTable(await get("/api/reports/team" + query(filters()))));
    } catch (err) {
      // Litestar's own 404 for a route it does not have says only "Not Found".
      const missing = (err.status === 404 && err.detail === "Not Found") || err.status === 405;
      clear(box, h("div", { class: "alert" }, missing
        ? `Reports are not available on this server (GET /api/reports/team answered ${err.status}).`
        : errorNodes(err)));
    }
  }

  for (const id of ["#report-team", "#report-from", "#report-to"]) $(id).addEventListener("change", show);
  on("roster", fillTeams);
  fillTeams();
  return { show };
}
