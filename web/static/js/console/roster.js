// Roster: teams and athletes (add, edit, archive), CSV import with each row's problems shown
// next to that row, "import valid rows only", the template and the export.
import { api, ApiError, patch, post } from "../api.js";
import { $, clear, h, query, parts } from "../dom.js";
import { clearError, fillSelect, guarded, notify, on, showError } from "./ui.js";

const FIELDS = ["name", "display_name", "squad_number", "group", "sex", "birth_year"];

export function createRoster(ctx) {
  const part = parts($("#tab-roster"));
  const teamSelect = part("roster-team");
  const form = part("athlete-form");

  const selectedTeam = () => ctx.store.teams.find((t) => String(t.id) === teamSelect.value) || null;

  function render() {
    fillSelect(teamSelect, ctx.store.teams.map((t) => ({
      value: String(t.id), label: `${t.name} (${t.athletes})${t.archived ? " · archived" : ""}` })),
      { blank: "All teams" });
    fillSelect(part("athlete-team"), ctx.store.teams.filter((t) => !t.archived)
      .map((t) => ({ value: String(t.id), label: t.name })));
    clear($("#roster-team-names"), ...ctx.store.teams.map((t) => h("option", { value: t.name })));
    const team = selectedTeam();
    part("team-rename").disabled = part("team-archive").disabled = !team;
    part("team-archive").textContent = team && team.archived ? "Restore team" : "Archive team";
    part("export-link").href = "/api/roster/export.csv" + query({ team_id: team ? team.id : "" });
    const showArchived = part("show-archived").checked;
    const athletes = ctx.store.athletes.filter((a) =>
      (!team || a.team_id === team.id) && (showArchived || !a.archived));
    const body = part("athletes-body");
    if (!athletes.length) {
      clear(body, h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No athletes yet: add one or import a CSV.")));
      return;
    }
    clear(body, ...athletes.map((a) => h("tr", { dataset: { athleteId: a.id, name: a.name },
                                                 class: a.archived ? "voided" : "" },
      h("td", {}, a.name), h("td", {}, a.display_name || ""), h("td", { class: "num" }, a.squad_number ?? ""),
      h("td", {}, a.group || ""), h("td", {}, a.sex || ""), h("td", { class: "num" }, a.birth_year ?? ""),
      h("td", {}, a.team),
      h("td", {}, h("div", { class: "row-actions" },
        h("button", { type: "button", class: "small", onclick: () => edit(a) }, "Edit"),
        h("button", { type: "button", class: "small", onclick: () => archive(a) },
          a.archived ? "Restore" : "Archive"))))));
  }

  function edit(a) {
    form.elements.id.value = a.id;
    form.elements.team_id.value = String(a.team_id);
    for (const f of FIELDS) form.elements[f].value = a[f] ?? "";
    part("athlete-form-title").textContent = `Edit ${a.name}`;
    form.elements.name.focus();
  }

  function resetForm() {
    form.reset();
    form.elements.id.value = "";
    part("athlete-form-title").textContent = "Add an athlete";
    clearError(part("athlete-errors"));
  }

  async function archive(a) {
    if (await guarded(() => patch(`/api/athletes/${a.id}`, { archived: !a.archived }))) {
      notify(`${a.name} ${a.archived ? "is back on the roster" : "is archived"}.`);
      await ctx.reloadRoster();
    }
  }

  async function saveAthlete(ev) {
    ev.preventDefault();
    clearError(part("athlete-errors"));
    const f = form.elements;
    const body = { team_id: Number(f.team_id.value) };
    for (const name of FIELDS) {
      const v = f[name].value.trim();
      body[name] = v === "" ? null : ["squad_number", "birth_year"].includes(name) ? Number(v) : v;
    }
    const id = f.id.value;
    try {
      await (id ? patch(`/api/athletes/${id}`, body) : post("/api/athletes", body));
      notify(`${body.name} saved.`);
      resetForm();
      await ctx.reloadRoster();
    } catch (err) {
      showError(err, part("athlete-errors"));
    }
  }

  async function addTeam(ev) {
    ev.preventDefault();
    const name = part("team-name").value.trim();
    const team = await guarded(() => post("/api/teams", { name }));
    if (team) {
      part("team-name").value = "";
      notify(`Team ${team.name} added.`);
      await ctx.reloadRoster();
      teamSelect.value = String(team.id);
      render();
    }
  }

  async function renameTeam() {
    const team = selectedTeam();
    const name = team && window.prompt("New name of the team", team.name);
    if (name && name.trim() !== team.name) {
      if (await guarded(() => patch(`/api/teams/${team.id}`, { name: name.trim() }))) await ctx.reloadRoster();
    }
  }

  async function archiveTeam() {
    const team = selectedTeam();
    if (team && await guarded(() => patch(`/api/teams/${team.id}`, { archived: !team.archived }))) {
      await ctx.reloadRoster();
    }
  }

  // -- CSV import ---------------------------------------------------------------------------
  async function importCsv(ev) {
    ev.preventDefault();
    const mode = (ev.submitter && ev.submitter.dataset.mode) || "check";
    const file = part("import-file").files[0];
    if (!file) {
      showError(new Error("choose a CSV file first"));
      return;
    }
    const data = new FormData();
    data.append("file", file);
    data.append("mode", mode);
    const team = part("import-team").value.trim();
    if (team) data.append("team", team);
    let report;
    try {
      report = await api("POST", "/api/roster/import", data);
    } catch (err) {
      // 422 is the answer "there are problems and nothing was imported": show them by row.
      if (!(err instanceof ApiError) || err.status !== 422 || !("valid_rows" in err.body)) {
        showError(err);
        return;
      }
      report = err.body;
    }
    showReport(report, mode);
    if (report.imported) await ctx.reloadRoster();
  }

  /** The server's answer, with the file's cells as it read them beside each row's problems. */
  function showReport(report, mode) {
    const rows = report.header && report.header.length ? [report.header, ...(report.rows || [])] : [];
    const errors = report.errors || [];
    const byLine = new Map();
    for (const e of errors) byLine.set(e.line, [...(byLine.get(e.line) || []), e]);
    const badLines = [...byLine.keys()].filter((l) => l > 1).length;
    const fileLevel = errors.filter((e) => !e.line || e.line <= 1);
    const summary = report.imported
      ? `${report.imported} athlete(s) imported` + (badLines ? `; ${badLines} row(s) with problems were skipped.` : ".")
      : errors.length
        ? `${report.valid_rows} valid row(s), ${badLines} row(s) with problems: nothing was imported.`
        : `${report.valid_rows} valid row(s); nothing imported yet (checked only).`;
    part("import-valid").hidden = !(badLines && report.valid_rows && !report.imported);
    const header = rows[0] || [];
    const table = rows.length > 1 ? h("table", { class: "board import-preview" },
      h("thead", {}, h("tr", {}, h("th", { class: "num" }, "Line"), ...header.map((c) => h("th", {}, c)),
                       h("th", {}, "Problem"))),
      h("tbody", {}, ...rows.slice(1).map((cells, i) => {
        const line = i + 2;
        const problems = byLine.get(line) || [];
        return h("tr", { class: problems.length ? "row-error" : "row-ok", dataset: { line } },
          h("td", { class: "num" }, line), ...header.map((_, j) => h("td", {}, cells[j] ?? "")),
          h("td", { class: "problem-cell" }, problems.length
            ? problems.map((p) => `${p.field}: ${p.detail}`).join("; ")
            : report.imported ? "imported" : "ok"));
      }))) : null;
    clear(part("import-result"),
      h("p", { class: report.imported ? "notice" : errors.length ? "alert" : "notice", dataset: { part: "import-summary" } }, summary),
      fileLevel.length ? h("ul", { class: "alert" }, fileLevel.map((e) => h("li", {}, `${e.field}: ${e.detail}`))) : null,
      table);
    if (mode === "valid_only" || report.imported) notify(summary);
  }

  teamSelect.addEventListener("change", render);
  part("show-archived").addEventListener("change", render);
  form.addEventListener("submit", saveAthlete);
  part("athlete-cancel").addEventListener("click", resetForm);
  part("team-form").addEventListener("submit", addTeam);
  part("team-rename").addEventListener("click", renameTeam);
  part("team-archive").addEventListener("click", archiveTeam);
  part("import-form").addEventListener("submit", importCsv);
  part("import-file").addEventListener("change", () => {
    part("import-valid").hidden = true;
    clear(part("import-result"));
  });
  on("roster", render);

  return { show: () => ctx.reloadRoster() };
}
