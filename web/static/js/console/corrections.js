// Corrections of any rep (docs/CONSOLE-API.md): the latest reps, a session's or a day's,
// a page at a time (GET /api/runs/list); void with a reason, unvoid, reassign to another
// athlete, the history of a rep in words, and a time typed in by hand (stored as manual; a
// time outside the drill's plausible range is stored only when the coach confirms it).
import { ApiError, get, post } from "../api.js";
import { $, clear, fmtClock, fmtS, fmtState, h, query, parts } from "../dom.js";
import { LIVE } from "../live-types.js";
import { clearError, fillSelect, guarded, notify, on, showError } from "./ui.js";

const PAGE = 25;
const SESSIONS = 50;
const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const fmtWhen = (iso) => WHEN.format(new Date(iso));

export function createCorrections(ctx) {
  let timer = null;
  let page = { runs: [], total: 0, offset: 0, limit: PAGE };
  let offset = 0;
  let token = 0;
  let sessionsLoaded = false;

  const panel = $("#tab-run"); // the run panel's "Recent reps"; the dialog is the page's own
  const part = parts(panel);
  const { drillName } = ctx;
  const activeAthletes = () => ctx.store.athletes.filter((a) => !a.archived);
  const athleteItems = () => activeAthletes().map((a) => ({ value: String(a.id), label: `${a.name} (${a.team})` }));
  const sessionSelect = part("corrections-session");
  const dayInput = part("corrections-day");

  function filters() {
    const out = { offset, limit: PAGE };
    if (sessionSelect.value) out.session_id = sessionSelect.value;
    if (dayInput.value) {
      out.date = dayInput.value;
      out.tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    }
    return out;
  }

  async function loadSessions() {
    const answer = await get("/api/runs/sessions" + query({ limit: SESSIONS }));
    fillSelect(sessionSelect, answer.sessions.map((s) => ({
      value: String(s.id),
      label: `${s.plan} · ${s.started_wall ? fmtWhen(s.started_wall) : "not started"}`
        + `${s.station && s.station !== "main" ? ` · ${s.station}` : ""} · ${s.reps} rep${s.reps === 1 ? "" : "s"}`,
    })), { blank: "Latest reps (every session)" });
    sessionsLoaded = true;
  }

  async function load() {
    const mine = ++token;
    if (!sessionsLoaded) await loadSessions();
    const answer = await get("/api/runs/list" + query(filters()));
    if (mine !== token) return; // another page or filter was asked for meanwhile
    page = answer;
    if (page.offset > 0 && page.offset >= page.total) { // the last page emptied (a filter)
      offset = Math.max(0, page.total - PAGE);
      loadSoon(0);
      return;
    }
    render();
  }

  function loadSoon(delay = 200) {
    clearTimeout(timer);
    timer = setTimeout(() => guarded(load), delay);
  }

  function result(run) {
    if (run.state === "finished") return fmtS(run.total_s);
    return fmtState(run.state);
  }

  function marks(run) {
    return [
      run.manual ? h("span", { class: "manual-mark" }, " manual") : null,
      run.out_of_range ? h("span", { class: "manual-mark out-of-range-mark",
        title: "Outside the drill's plausible range; kept on the coach's confirmation" }, " out of range") : null,
      run.voided ? h("span", { class: "manual-mark" }, " void") : null,
    ];
  }

  function renderPager() {
    const { total, runs } = page;
    const first = total ? page.offset + 1 : 0;
    part("corrections-count").textContent = total
      ? `Reps ${first}–${page.offset + runs.length} of ${total}` : "";
    part("corrections-prev").disabled = page.offset <= 0;
    part("corrections-next").disabled = page.offset + runs.length >= total;
  }

  function render() {
    const body = part("recent-body");
    renderPager();
    if (!page.runs.length) {
      const text = sessionSelect.value || dayInput.value ? "No reps match." : "No reps yet.";
      clear(body, h("tr", {}, h("td", { colspan: 6, class: "empty" }, text)));
      return;
    }
    clear(body, ...page.runs.map((run) => {
      const problem = ["false_start", "timeout", "void"].includes(run.state);
      const cls = [run.voided ? "voided" : "", problem ? "problem" : ""].join(" ").trim();
      return h("tr", { dataset: { runId: run.run_id }, class: cls },
        h("td", {}, fmtClock(run.started_wall)),
        h("td", { class: "athlete" }, run.athlete),
        h("td", {}, drillName(run.drill)),
        h("td", { class: "num" }, run.rep),
        h("td", { class: "num" }, result(run), ...marks(run)),
        h("td", {}, h("div", { class: "row-actions" },
          run.voided
            ? h("button", { type: "button", class: "small unvoid", onclick: () => unvoid(run) }, "Unvoid")
            : h("button", { type: "button", class: "small void", onclick: () => openDialog("void", run) }, "Void"),
          h("button", { type: "button", class: "small reassign", onclick: () => openDialog("reassign", run) }, "Reassign"),
          h("button", { type: "button", class: "small history", onclick: () => openDialog("history", run) }, "History"))));
    }));
  }

  /** The server's answer to a correction (RunSummary) replaces the row at once. */
  function apply(summary) {
    const row = page.runs.find((r) => r.run_id === summary.run_id);
    if (row) {
      Object.assign(row, {
        athlete: summary.athlete, athlete_id: summary.athlete_id, state: summary.state,
        total_s: summary.total_s, voided: summary.voided, manual: summary.manual,
        out_of_range: Boolean(summary.out_of_range),
      });
      render();
    }
  }

  async function unvoid(run) {
    const answer = await guarded(() => post(`/api/runs/${run.run_id}/unvoid`));
    if (answer !== undefined) {
      apply(answer);
      notify("The rep counts again.");
    }
    loadSoon();
  }

  // -- the history of a rep, in words ---------------------------------------------------
  const secs = (us) => (us == null ? "–" : `${fmtS(us / 1e6)}`);

  function describe(c) {
    const d = c.detail || {};
    const before = d.before || {};
    const after = d.after || {};
    switch (c.action) {
      case "void": return `voided${d.reason ? `: ${d.reason}` : ""}`;
      case "unvoid": return "counts again";
      case "reassign": return `given to ${after.athlete || `athlete ${after.athlete_id}`} (was ${before.athlete || `athlete ${before.athlete_id}`})`;
      case "manual": {
        const range = d.out_of_range;
        return `time typed in: ${secs(after.total_us)}${d.note ? ` (${d.note})` : ""}`
          + (range ? `; outside the plausible range (${fmtS(range.min_s, 2)} to ${range.max_s == null ? "no limit" : fmtS(range.max_s, 0)}), confirmed` : "");
      }
      case "rederive": {
        const rule = d.rule || {};
        return `re-timed with ${rule.trigger || "another rule"}: ${secs(before.total_us)} → ${secs(after.total_us)}`;
      }
      case "swap-crossing": return `${d.role || "a"} crossing swapped with ${d.with || "another runner"}: `
        + `${secs(before.total_us)} → ${secs(after.total_us)}`;
      default: return c.action;
    }
  }

  // -- the dialog: one form, its fields depend on the action ----------------------------
  const dialog = $("#correction-dialog");
  let pending = null;

  async function openDialog(action, run) {
    pending = { action, run };
    clearError($("#correction-errors"));
    $("#correction-what").textContent = `${run.athlete} · ${drillName(run.drill)} · rep ${run.rep} · ${result(run)}`;
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
        ? history.map((c) => h("li", {}, `${fmtClock(c.at)} ${c.coach || "a script"}: ${describe(c)}`))
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
      const answer = await post(`/api/runs/${run.run_id}/${action}`, body);
      dialog.close();
      apply(answer);
      notify(action === "void" ? "Rep voided: it is off the boards." : `Rep given to ${answer.athlete}.`);
      loadSoon();
    } catch (err) {
      showError(err, $("#correction-errors"));
    }
  });

  // -- the filters and the pages --------------------------------------------------------
  function refilter() {
    offset = 0;
    loadSoon(0);
  }
  sessionSelect.addEventListener("change", refilter);
  dayInput.addEventListener("change", refilter);
  part("corrections-prev").addEventListener("click", () => {
    offset = Math.max(0, page.offset - PAGE);
    loadSoon(0);
  });
  part("corrections-next").addEventListener("click", () => {
    offset = page.offset + PAGE;
    loadSoon(0);
  });

  // -- manual time entry ----------------------------------------------------------------
  const confirmBox = part("manual-confirm");
  let unconfirmed = null; // the body the server asked to confirm

  function fillManual() {
    fillSelect(part("manual-drill"), ctx.store.drills.map((d) => ({ value: d.slug, label: d.name })));
    fillSelect(part("manual-athlete"), athleteItems());
  }

  function askConfirm(body, err) {
    unconfirmed = body;
    clear(confirmBox,
      h("p", {}, h("strong", {}, "Check this time: "), err.detail),
      h("div", { class: "form-buttons" },
        h("button", { type: "button", dataset: { part: "manual-confirm-save" }, class: "danger", onclick: () => save(true) },
          `Save ${fmtS(body.total_s)} anyway (marked out of range)`),
        h("button", { type: "button", dataset: { part: "manual-confirm-cancel" }, onclick: hideConfirm }, "Change the time")));
    confirmBox.hidden = false;
    part("manual-confirm-cancel").focus();
  }

  function hideConfirm() {
    unconfirmed = null;
    confirmBox.hidden = true;
    clear(confirmBox);
  }

  async function save(confirmed) {
    const f = part("manual-form").elements;
    const body = confirmed && unconfirmed ? { ...unconfirmed, confirm: true } : {
      drill: f.drill.value, athlete_id: Number(f.athlete_id.value),
      total_s: Number(f.total_s.value), note: f.note.value.trim(),
    };
    hideConfirm();
    try {
      const answer = await post("/api/runs/manual", body);
      notify(answer.out_of_range ? "Manual rep saved, marked manual and out of range."
        : "Manual rep saved (marked manual).");
      f.total_s.value = "";
      f.note.value = "";
      loadSoon();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.body.confirm_needed) askConfirm(body, err);
      else showError(err);
    }
  }

  part("manual-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    save(false);
  });
  part("manual-form").addEventListener("input", () => { if (unconfirmed) hideConfirm(); });

  $(".manual-entry", panel).addEventListener("toggle", (ev) => {
    if (ev.target.open) guarded(ctx.reloadRoster); // athletes a plan or the CLI added meanwhile
  });
  on("roster", fillManual);
  fillManual();

  return {
    show: () => {},
    onReload: () => {
      sessionsLoaded = false;
      return load();
    },
    onLive(msg, tab) {
      if (msg.type === LIVE.RUN || msg.type === LIVE.CORRECTION) loadSoon();
      if (msg.type === LIVE.PLAN) sessionsLoaded = false; // a session began: list it
      if (tab === "run" && !page.runs.length && !page.total) loadSoon();
    },
  };
}
