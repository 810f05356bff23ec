// Reports tab: the team report (GET /api/reports/team) as one table, filtered by team and
// dates (report-table.js); choosing an athlete opens their history chart
// (GET /api/reports/athlete/{id} with the same dates, athlete-history.js). The export
// buttons (GET /api/reports/export?format=csv|xlsx|pdf with the same filters) are links, but a
// click fetches the file first: a refusal (409 when nothing in the range counts) is shown as
// the server's sentence instead of being saved as a file.
import { ApiError, fetchFile, get } from "../api.js";
import { $, $$, clear, h, query, parts } from "../dom.js";
import { errorNodes, fillSelect, on } from "./ui.js";
import { teamTable } from "./report-table.js";
import { createHistoryPanel } from "./athlete-history.js";


function filenameOf(res, fallback) {
  const match = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") || "");
  return match ? match[1] : fallback;
}

/** Saves `blob` as `name`, as the link's own download would have. */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function createReports(ctx) {
  const panel = $("#tab-reports");
  const part = parts(panel);
  const filters = () => ({ team_id: part("report-team").value, from: part("report-from").value,
                           to: part("report-to").value });
  let report = null;
  let token = 0;
  const historyPanel = createHistoryPanel(part("athlete-report"), { onClose: (athlete) => {
    markSelected(null);
    const button = $(`[data-part="report-table"] tr[data-athlete-id="${athlete.id}"] .athlete-link`, panel);
    if (button) button.focus();
  } });

  function fillTeams() {
    fillSelect(part("report-team"), ctx.store.teams.map((t) => ({ value: String(t.id), label: t.name })),
               { blank: "All teams" });
  }

  function updateLinks() {
    for (const link of $$("a[data-format]", panel)) {
      link.href = "/api/reports/export" + query({ format: link.dataset.format, ...filters() });
    }
  }

  // Where a refused export says why; made here so the page's markup stays as it is.
  const exportMessage = h("div", { dataset: { part: "export-message" }, class: "alert", role: "alert", hidden: true });
  $(".toolbar", panel).after(exportMessage);

  async function download(link) {
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    exportMessage.hidden = true;
    try {
      const res = await fetchFile(link.href);
      save(await res.blob(), filenameOf(res, `agility-export.${link.dataset.format}`));
    } catch (err) {
      const nothing = err instanceof ApiError && err.status === 409;
      clear(exportMessage, ...(nothing ? [h("strong", {}, "Nothing to export: "), err.detail] : errorNodes(err)));
      exportMessage.hidden = false;
    } finally {
      link.removeAttribute("aria-busy");
    }
  }

  for (const link of $$("a[data-format]", panel)) {
    link.addEventListener("click", (event) => {
      // A modified click (new tab, save as) keeps the browser's own handling.
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      download(link);
    });
  }

  function markSelected(id) {
    for (const row of $$('[data-part="report-table"] tbody tr[data-athlete-id]', panel)) {
      const chosen = Number(row.dataset.athleteId) === id;
      row.classList.toggle("selected", chosen);
      const button = $(".athlete-link", row);
      if (button) button.setAttribute("aria-expanded", String(chosen));
    }
  }

  function pick(athlete, { focus = true } = {}) {
    markSelected(athlete.id);
    const { from, to } = filters();
    historyPanel.open(athlete, () => get(`/api/reports/athlete/${athlete.id}` + query({ from, to })), { focus });
  }

  async function show() {
    updateLinks();
    exportMessage.hidden = true;
    const mine = ++token;
    const box = part("reports-content");
    if (!report) clear(box, h("p", { class: "muted" }, "Loading the team report…"));
    let fresh;
    try {
      fresh = await get("/api/reports/team" + query(filters()));
    } catch (err) {
      if (mine !== token) return;
      report = null;
      historyPanel.close();
      // Litestar's own 404 for a route it does not have says only "Not Found".
      const missing = (err.status === 404 && err.detail === "Not Found") || err.status === 405;
      clear(box, h("div", { class: "alert" }, missing
        ? `Reports are not available on this server (GET /api/reports/team answered ${err.status}).`
        : errorNodes(err)));
      return;
    }
    if (mine !== token) return; // the filters changed while this one loaded
    report = fresh;
    const selected = historyPanel.athleteId;
    const still = (report.athletes || []).find((a) => a.id === selected);
    clear(box, ...teamTable(report, { onPick: (a) => pick(a), selected: still ? still.id : null }));
    // The open chart follows the new filters, or closes when its athlete left the table.
    if (still) pick(still, { focus: false });
    else historyPanel.close();
  }

  for (const role of ["report-team", "report-from", "report-to"]) part(role).addEventListener("change", show);
  on("roster", fillTeams);
  fillTeams();
  return { show };
}
