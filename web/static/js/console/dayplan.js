// Console, Stations tab: the day plan panel above the station cards (server/days/README.md).
// It shows the newest day plan (or the one chosen): rotation k of n, which group is at each
// station now with its session's state and reps, and "Start rotation k+1" (POST
// /api/days/{id}/next); a refusal (409: a station still busy or missing) is shown as the
// server words it. A day plan file is pasted or loaded below and saved (POST /api/days); a
// 422 lists every problem with its field.
//
// The panel follows the live feed's `plan` messages (a session of the day moved on), fetching
// the day again after a short quiet spell, and only while the tab is shown.
import { get, post } from "../api.js";
import { clear, fmtState, h } from "../dom.js";
import { LIVE } from "../live-types.js";
import { clearError, guarded, notify, showError } from "./ui.js";

const QUIET_MS = 400;
const EXAMPLE = `name = "Pre-season testing"
date = "2026-12-05"
team = "U16"
[[stations]]
station = "sprint"
drills = [{drill = "sprint-10m", reps = 2}]
[[stations]]
station = "main"
drills = [{drill = "t-test"}]
[[groups]]
name = "A"
athletes = ["Ada", "Bo"]`;

export function createDayPlan(before) {
  const S = { shown: false, days: [], chosen: null, day: null, timer: null, busy: false };

  const status = h("p", { dataset: { part: "dayplan-status" }, "aria-live": "polite" });
  const select = h("select", { dataset: { part: "dayplan-select" }, "aria-label": "Day plan shown" });
  const body = h("tbody", { dataset: { part: "dayplan-body" } });
  const start = h("button", { type: "button", class: "primary", dataset: { part: "dayplan-next" }, hidden: true });
  const hint = h("p", { dataset: { part: "dayplan-hint" }, class: "muted", hidden: true });
  // The day's report: every athlete's results of the day in one row (GET /api/reports/day).
  const reports = h("p", { dataset: { part: "dayplan-reports" }, class: "muted", hidden: true });
  const errors = h("div", { dataset: { part: "dayplan-error" }, class: "alert", role: "alert", hidden: true });
  const text = h("textarea", { dataset: { part: "dayplan-text" }, rows: 10, spellcheck: "false",
                               "aria-label": "Day plan (TOML or JSON)", placeholder: EXAMPLE });
  const file = h("input", { type: "file", dataset: { part: "dayplan-file" }, accept: ".toml,.json,text/plain" });
  const save = h("button", { type: "button", dataset: { part: "dayplan-save" } }, "Save day plan");
  const table = h("table", { class: "board", dataset: { part: "dayplan-table" }, hidden: true },
    h("thead", {}, h("tr", {}, h("th", {}, "Station"), h("th", {}, "Group"),
                     h("th", {}, "State"), h("th", { class: "num" }, "Reps"))),
    body);
  const root = h("fieldset", { class: "day-plan", dataset: { part: "dayplan-panel" } },
    h("legend", {}, "Day plan"),
    h("div", { class: "toolbar" }, status, select),
    errors, table,
    h("div", { class: "form-buttons" }, start), hint, reports,
    h("details", { class: "manual-entry" },
      h("summary", {}, "Upload or paste a day plan"),
      h("p", { class: "muted" }, "Stations in rotation order, then the groups; rotation r puts "
        + "group g at station (g + r − 1) mod S, so every group visits every station once."),
      h("label", {}, "File ", file), text,
      h("div", { class: "form-buttons" }, save)));
  before.before(root);

  // -- fetching -----------------------------------------------------------------------------

  async function refresh() {
    S.days = await get("/api/days");
    if (!S.days.some((d) => d.id === S.chosen)) S.chosen = S.days.length ? S.days[0].id : null;
    clear(select, ...S.days.map((d) => h("option", { value: String(d.id) },
      `${d.name} · ${d.day}`)));
    select.hidden = S.days.length < 2;
    if (S.chosen != null) select.value = String(S.chosen);
    S.day = S.chosen == null ? null : await get(`/api/days/${S.chosen}`);
    render();
  }

  // From a timer or an event: a failure shows in the panel, not as the page's alert.
  const quietly = (action) => guarded(action, errors);

  function soon() {
    if (!S.shown || S.timer) return;
    S.timer = setTimeout(async () => {
      S.timer = null;
      if (S.busy) return;
      S.busy = true;
      try {
        await quietly(refresh);
      } finally {
        S.busy = false;
      }
    }, QUIET_MS);
  }

  // -- the view -----------------------------------------------------------------------------

  function render() {
    const day = S.day;
    table.hidden = !day;
    if (!day) {
      status.textContent = "No day plan yet: paste or load one below.";
      start.hidden = hint.hidden = reports.hidden = true;
      return;
    }
    reports.hidden = day.rotation === 0;
    const link = (fmt) => h("a", { href: `/api/reports/day?date=${encodeURIComponent(day.day)}&format=${fmt}`,
                                   download: "", "data-format": fmt }, fmt.toUpperCase());
    clear(reports, `Report of ${day.day}: `, link("pdf"), " · ", link("xlsx"), " · ", link("csv"));
    const k = day.rotation;
    const where = k === 0 ? `not started · ${day.rotations} rotations`
      : `rotation ${k} of ${day.rotations}` + (day.finished ? " · finished" : "");
    status.textContent = `${day.name} · ${day.day} · ${where}`;
    // The rotation under way, or the first one before the day starts.
    const shown = day.progress[Math.max(k, 1) - 1];
    clear(body, ...(shown ? shown.stations : []).map((slot) => h("tr", { dataset: { station: slot.station } },
      h("td", {}, slot.station),
      h("td", {}, slot.group ? `${slot.group}` : "–",
        slot.group ? h("span", { class: "muted" }, ` · ${slot.athletes.join(", ")}`) : null),
      h("td", {}, h("span", { class: "badge " + slot.state.replace(/ /g, "-") }, fmtState(slot.state))),
      h("td", { class: "num" }, slot.total == null ? "–" : `${slot.done} of ${slot.total}`))));
    const more = k < day.rotations;
    start.hidden = !more;
    start.textContent = `Start rotation ${k + 1}`;
    // A refusal shown above goes once the stations are free; meanwhile it says it all.
    if (errors.dataset.status === "409" && !day.next_refused) clearError(errors);
    hint.hidden = !more || !day.next_refused || !errors.hidden;
    hint.textContent = day.next_refused ? `Not yet: ${day.next_refused}` : "";
  }

  // -- actions ------------------------------------------------------------------------------

  async function startNext() {
    if (!S.day) return;
    clearError(errors);
    start.disabled = true;
    try {
      S.day = await post(`/api/days/${S.day.id}/next`, {});
      notify(`Rotation ${S.day.rotation} of ${S.day.rotations} started.`);
      render();
    } catch (err) {
      showError(err, errors);
      if (err.status === 409) await refresh(); // the day as it is now, beside the reason
    } finally {
      start.disabled = false;
    }
  }

  async function saveDay() {
    clearError(errors);
    if (!text.value.trim()) {
      notify("Paste a day plan or load its file first.");
      return;
    }
    const source = (file.files && file.files[0] && file.files[0].name) || "day plan";
    const day = await post("/api/days", { text: text.value, source });
    S.chosen = day.id;
    notify(`Day plan "${day.name}" saved: ${day.rotations} rotations.`);
    await refresh();
  }

  start.addEventListener("click", () => quietly(startNext));
  save.addEventListener("click", () => quietly(saveDay));
  select.addEventListener("change", () => {
    S.chosen = Number(select.value);
    quietly(refresh);
  });
  file.addEventListener("change", () => quietly(async () => {
    if (file.files && file.files[0]) text.value = await file.files[0].text();
  }));

  return {
    show: () => {
      S.shown = true;
      return quietly(refresh);
    },
    hide: () => { S.shown = false; },
    // A session moved on (a rep, a state): the day's progress may have too.
    onLive: (msg) => { if (msg.type === LIVE.PLAN) soon(); },
  };
}
