// Corrections on recent reps (docs/CONSOLE-API.md): void with a reason, unvoid, reassign to
// another athlete, the history of a rep, and a time typed in by hand (stored as manual).
import { get, post } from "../api.js";
import { $, clear, fmtClock, fmtS, fmtState, h } from "../dom.js";
import { clearError, fillSelect, guarded, notify, on, showError } from "./ui.js";

const RECENT = 12;

export function createCorrections(ctx) {
  const fullNames = new Map(); // run id -> roster name, from the session's progress
  let timer = null;
  let runs = [];

  const drillName = (slug) => (ctx.store.drills.find((d) => d.slug === slug) || {}).name || slug;
  const activeAthletes = () => ctx.store.athletes.filter((a) => !a.archived);
  const athleteItems = () => activeAthletes().map((a) => ({ value: String(a.id), label: `${a.name} (${a.team})` }));

  async function load() {
    runs = await get(`/api/runs/recent?limit=${RECENT}`);
    render();
  }

  function loadSoon() {
    clearTimeout(timer);
    timer = setTimeout(() => guarded(load), 200);
  }

  function result(run) {
    if (run.state === "finished") return fmtS(run.total_s);
    return fmtState(run.state);
  }

  function render() {
    const body = $("#recent-body");
    if (!runs.length) {
      clear(body, h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No reps yet.")));
      return;
    }
    clear(body, ...runs.map((run) => {
      const name = fullNames.get(run.run_id) || run.athlete;
      const problem = ["false_start", "timeout", "void"].includes(run.state);
      const cls = [run.voided ? "voided" : "", problem ? "problem" : ""].join(" ").trim();
      return h("tr", { dataset: { runId: run.run_id }, class: cls },
        h("td", {}, fmtClock(run.started_wall)),
        h("td", {}, name),
        h("td", {}, drillName(run.drill)),
        h("td", { class: "num" }, run.rep),
        h("td", { class: "num" }, result(run), run.manual ? h("span", { class: "manual-mark" }, " manual") : null,
          run.voided ? h("span", { class: "manual-mark" }, " void") : null),
        h("td", {}, h("div", { class: "row-actions" },
          run.voided
            ? h("button", { type: "button", class: "small unvoid", onclick: () => unvoid(run) }, "Unvoid")
            : h("button", { type: "button", class: "small void", onclick: () => openDialog("void", run) }, "Void"),
          h("button", { type: "button", class: "small reassign", onclick: () => openDialog("reassign", run) }, "Reassign"),
          h("button", { type: "button", class: "small history", onclick: () => openDialog("history", run) }, "History"))));
    }));
  }

  async function unvoid(run) {
    if (await guarded(() => post(`/api/runs/${run.run_id}/unvoid`)) !== undefined) notify("The rep counts again.");
    loadSoon();
  }

  // -- the dialog: one form, its fields depend on the action ----------------------------
  const dialog = $("#correction-dialog");
  let pending = null;

  async function openDialog(action, run) {
    pending = { action, run };
    clearError($("#correction-errors"));
    const name = fullNames.get(run.run_id) || run.athlete;
    $("#correction-what").textContent = `${name} · ${drillName(run.drill)} · rep ${run.rep} · ${result(run)}`;
    const fields = $("#correction-fields");
    $("#correction-ok").hidden = action === "history";
    if (action === "void") {
      $("#correction-title").textContent = "Void this rep";
      clear(fields, h("label", { class: "field" }, "Reason (shown in the history)",
        h("input", { id: "void-reason", name: "reason", required: true, placeholder: "slipped at the turn" })));
    } else if (action === "reassign") {
      $("#correction-title").textContent = "Give this rep to another athlete";
      await guarded(ctx.reloadRoster); // athletes a plan or the CLI added meanwhile
      const select = h("select", { id: "reassign-athlete", name: "athlete_id", required: true });
      fillSelect(select, athleteItems());
      clear(fields, h("label", { class: "field" }, "Athlete", select));
    } else {
      $("#correction-title").textContent = "Corrections of this rep";
      clear(fields, h("p", { class: "muted" }, "Loading…"));
      const history = await guarded(() => get(`/api/runs/${run.run_id}/corrections`), $("#correction-errors"));
      clear(fields, h("ul", { id: "correction-history" }, ...(history && history.length
        ? history.map((c) => h("li", {}, `${fmtClock(c.at)} ${c.coach}: ${c.action}`,
                                 c.detail ? ` — ${typeof c.detail === "string" ? c.detail : JSON.stringify(c.detail)}` : ""))
        : [h("li", { class: "muted" }, history ? "No corrections." : "")])));
    }
    if (!dialog.open) dialog.showModal();
  }

  $("#correction-cancel").addEventListener("click", () => dialog.close());
  $("#correction-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!pending || pending.action === "history") {
      dialog.close();
      return;
    }
    const { action, run } = pending;
    const form = ev.target;
    const body = action === "void"
      ? { reason: form.elements.reason.value.trim() }
      : { athlete_id: Number(form.elements.athlete_id.value) };
    try {
      await post(`/api/runs/${run.run_id}/${action}`, body);
      dialog.close();
      notify(action === "void" ? "Rep voided: it is off the boards." : "Rep reassigned.");
      loadSoon();
    } catch (err) {
      showError(err, $("#correction-errors"));
    }
  });

  // -- manual time entry ----------------------------------------------------------------
  function fillManual() {
    fillSelect($("#manual-drill"), ctx.store.drills.map((d) => ({ value: d.slug, label: d.name })));
    fillSelect($("#manual-athlete"), athleteItems());
  }

  $("#manual-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const body = {
      drill: f.drill.value, athlete_id: Number(f.athlete_id.value),
      total_s: Number(f.total_s.value), note: f.note.value.trim(),
    };
    if (await guarded(() => post("/api/runs/manual", body)) !== undefined) {
      notify("Manual rep saved (marked manual).");
      f.total_s.value = "";
      f.note.value = "";
      loadSoon();
    }
  });

  $(".manual-entry").addEventListener("toggle", (ev) => {
    if (ev.target.open) guarded(ctx.reloadRoster); // athletes a plan or the CLI added meanwhile
  });
  on("roster", fillManual);
  on("session", (info) => {
    for (const rep of ((info.progress || {}).done || [])) if (rep.run_id) fullNames.set(rep.run_id, rep.athlete);
    render();
  });
  fillManual();

  return {
    show: () => {},
    onReload: load,
    onLive(msg, tab) {
      if (msg.type === "run" || msg.type === "correction") loadSoon();
      if (tab === "run" && !runs.length) loadSoon();
    },
  };
}
