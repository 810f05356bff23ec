// Reports tab: the team report (GET /api/reports/team) as one table, filtered by team and
// dates (report-table.js); choosing an athlete opens their history chart
// (GET /api/reports/athlete/{id} with the same dates, athlete-history.js). The export
// buttons (GET /api/reports/export?format=csv|xlsx|pdf with the same filters) are links, but a
// click fetches the file first: a refusal (409 when nothing in the range counts) is shown as
// the server's sentence instead of being saved as a file.
import { ApiError, get } from "../api.js";
import { $, $$, clear, h, query } from "../dom.js";
import { errorNodes, fillSelect, on } from "./ui.js";
import { teamTable } from "./report-table.js";
import { createHistoryPanel } from "./athlete-history.js";

function filters() {
  return { team_id: $("#report-team").value, from: $("#report-from").value, to: $("#report-to").value };
}

/** The export's response, or an ApiError carrying the server's sentence. */
async function fetchExport(url) {
  let res;
  try {
    res = await fetch(url, { credentials: "same-origin" });
  } catch (err) {
    throw new ApiError(0, { detail: "cannot reach the server (" + err.message + ")" });
  }
  if (!res.ok) {
    const type = res.headers.get("content-type") || "";
    const body = type.includes("json") ? await res.json() : { detail: await res.text() };
    if (res.status === 401) window.dispatchEvent(new CustomEvent("agility:unauthorized"));
    throw new ApiError(res.status, body);
  }
  return res;
}

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
  let report = null;
  let token = 0;
  const panel = createHistoryPanel($("#athlete-report"), { onClose: (athlete) => {
    markSelected(null);
    const button = $(`#report-table tr[data-athlete-id="${athlete.id}"] .athlete-link`);
    if (button) button.focus();
  } });

  function fillTeams() {
    fillSelect($("#report-team"), ctx.store.teams.map((t) => ({ value: String(t.id), label: t.name })),
               { blank: "All teams" });
  }

  function updateLinks() {
    for (const link of $$("#tab-reports a[data-format]")) {
      link.href = "/api/reports/export" + query({ format: link.dataset.format, ...filters() });
    }
  }

  // Where a refused export says why; made here so the page's markup stays as it is.
  const exportMessage = h("div", { id: "export-message", class: "alert", role: "alert", hidden: true });
  $("#tab-reports .toolbar").after(exportMessage);

  async function download(link) {
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    exportMessage.hidden = true;
    try {
      const res = await fetchExport(link.href);
      save(await res.blob(), filenameOf(res, `agility-export.${link.dataset.format}`));
    } catch (err) {
      const nothing = err instanceof ApiError && err.status === 409;
      clear(exportMessage, ...(nothing ? [h("strong", {}, "Nothing to export: "), err.detail] : errorNodes(err)));
      exportMessage.hidden = false;
    } finally {
      link.removeAttribute("aria-busy");
    }
  }

  for (const link of $$("#tab-reports a[data-format]")) {
    link.addEventListener("click", (event) => {
      // A modified click (new tab, save as) keeps the browser's own handling.
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      download(link);
    });
  }

  function markSelected(id) {
    for (const row of $$("#report-table tbody tr[data-athlete-id]")) {
      const chosen = Number(row.dataset.athleteId) === id;
      row.classList.toggle("selected", chosen);
      const button = $(".athlete-link", row);
      if (button) button.setAttribute("aria-expanded", String(chosen));
    }
  }

  function pick(athlete, { focus = true } = {}) {
    markSelected(athlete.id);
    const { from, to } = filters();
    panel.open(athlete, () => get(`/api/reports/athlete/${athlete.id}` + query({ from, to })), { focus });
  }

  async function show() {
    updateLinks();
    exportMessage.hidden = true;
    const mine = ++token;
    const box = $("#reports-content");
    if (!report) clear(box, h("p", { class: "muted" }, "Loading the team report…"));
    let fresh;
    try {
      fresh = await get("/api/reports/team" + query(filters()));
    } catch (err) {
      if (mine !== token) return;
      report = null;
      panel.close();
      // Litestar's own 404 for a route it does not have says only "Not Found".
      const missing = (err.status === 404 && err.detail === "Not Found") || err.status === 405;
      clear(box, h("div", { class: "alert" }, missing
        ? `Reports are not available on this server (GET /api/reports/team answered ${err.status}).`
        : errorNodes(err)));
      return;
    }
    if (mine !== token) return; // the filters changed while this one loaded
    report = fresh;
    const selected = panel.athleteId;
    const still = (report.athletes || []).find((a) => a.id === selected);
    clear(box, ...teamTable(report, { onPick: (a) => pick(a), selected: still ? still.id : null }));
    // The open chart follows the new filters, or closes when its athlete left the table.
    if (still) pick(still, { focus: false });
    else panel.close();
  }

  for (const id of ["#report-team", "#report-from", "#report-to"]) $(id).addEventListener("change", show);
  on("roster", fillTeams);
  fillTeams();
  return { show };
}
