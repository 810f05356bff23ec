// Session launcher: drills from /api/drills (or a saved plan), the whole team or chosen
// athletes, order and reps; creates the plan (POST /api/plans, server/plans/README.md)
// and starts it (POST /api/plans/{id}/sessions), then opens the run view.
import { get, post } from "../api.js";
import { $, $$, clear, h, parts } from "../dom.js";
import { fillSelect, guarded, notify, on, showError } from "./ui.js";
import { rememberPlan } from "./plans.js";

const DEFAULT_REPS = 3;

export function createLauncher(ctx) {
  const part = parts($("#tab-launch"));
  const form = part("launch-form");
  const teamSelect = part("plan-team");

  function defaultName() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `Session ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  const teamAthletes = () => ctx.store.athletes.filter((a) => a.team === teamSelect.value && !a.archived);

  function fillTeams() {
    fillSelect(teamSelect, ctx.store.teams.filter((t) => !t.archived).map((t) => ({ value: t.name, label: t.name })));
    fillAthletes();
  }

  function fillAthletes() {
    const athletes = teamAthletes();
    const picked = new Set($$("input:checked", part("athlete-picks")).map((i) => i.value));
    clear(part("athlete-picks"), ...athletes.map((a) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "athlete", value: a.name, checked: picked.has(a.name) }),
      a.name, a.group ? h("span", { class: "muted" }, ` · ${a.group}`) : null)));
    // Quick picks by the roster's group column (Backs, Forwards...).
    const groups = [...new Set(athletes.map((a) => a.group).filter(Boolean))].sort();
    clear(part("group-buttons"), ...groups.map((g) => h("button", {
      type: "button", class: "small", onclick: () => pickGroup(g) }, `Pick ${g}`)),
      athletes.length ? h("button", { type: "button", class: "small", onclick: () => pickGroup(null) }, "Pick none") : null);
    showWho();
  }

  function pickGroup(group) {
    form.elements.who.value = "athletes";
    const inGroup = new Set(teamAthletes().filter((a) => a.group === group).map((a) => a.name));
    for (const box of $$("input", part("athlete-picks"))) box.checked = inGroup.has(box.value);
    showWho();
  }

  function showWho() {
    const chosen = form.elements.who.value === "athletes";
    part("athlete-picks").hidden = !chosen;
    part("group-buttons").hidden = !chosen;
  }

  function addBlock(values = {}) {
    const drills = ctx.store.drills.map((d) => h("option", { value: d.slug }, d.name));
    const row = h("div", { class: "block-row" },
      h("label", {}, "Drill", h("select", { name: "drill", class: "block-drill" }, drills)),
      h("label", {}, "Reps", h("input", { name: "reps", type: "number", min: "1", step: "1", required: true,
                                          value: String(values.reps || DEFAULT_REPS) })),
      h("label", {}, "Rest (s)", h("input", { name: "rest_s", type: "number", min: "0", step: "1",
                                              placeholder: "drill's" })),
      h("label", {}, "Order", h("select", { name: "order" },
        h("option", { value: "round-robin" }, "Round robin"),
        h("option", { value: "athlete" }, "All reps per athlete"))),
      h("button", { type: "button", class: "small danger", "aria-label": "Remove this drill",
                    onclick: () => row.remove() }, "✕"));
    if (values.drill) row.querySelector("select").value = values.drill;
    part("blocks").append(row);
  }

  /** The plan as JSON, and each block's athletes as the server will resolve them. */
  function readPlan() {
    const team = teamSelect.value;
    const wholeTeam = form.elements.who.value === "team";
    const chosen = $$("input:checked", part("athlete-picks")).map((i) => i.value);
    // As server/plans/store.py team_members: every athlete of the team, by name.
    const teamNames = ctx.store.athletes.filter((a) => a.team === team).map((a) => a.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const blocks = $$(".block-row", part("blocks")).map((row) => {
      const get = (name) => row.querySelector(`[name="${name}"]`).value;
      const block = { drill: get("drill"), reps: Number(get("reps")), order: get("order") };
      if (get("rest_s") !== "") block.rest_s = Number(get("rest_s"));
      if (wholeTeam) block.group = team;
      else block.athletes = chosen;
      return block;
    });
    const plan = {
      name: part("plan-name").value.trim(), team,
      countdown_s: Number(part("plan-countdown").value || 0), blocks,
    };
    return { plan, rosters: blocks.map(() => (wholeTeam ? teamNames : chosen)) };
  }

  async function launch(ev) {
    ev.preventDefault();
    const { plan, rosters } = readPlan();
    if (!plan.blocks.length) {
      showError(new Error("add at least one drill"));
      return;
    }
    if (form.elements.who.value === "athletes" && !rosters[0].length) {
      showError(new Error("choose at least one athlete, or run the whole team"));
      return;
    }
    const atValue = part("plan-at").value;
    const at = atValue ? new Date(atValue).toISOString() : null;
    const button = part("launch-button");
    button.disabled = true;
    try {
      const created = await post("/api/plans", plan);
      rememberPlan(created.id, plan, rosters);
      const session = await post(`/api/plans/${created.id}/sessions`, { at });
      notify(at ? `Session planned for ${new Date(at).toLocaleString()}.` : "Session started.");
      part("plan-name").value = defaultName();
      await ctx.openRun(session.id);
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  }

  async function loadPlans() {
    const plans = await get("/api/plans");
    const body = part("plans-body");
    if (!plans.length) {
      clear(body, h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No saved plans yet.")));
      return;
    }
    clear(body, ...plans.slice().reverse().map((p) => h("tr", { dataset: { planId: p.id } },
      h("td", {}, p.name), h("td", { class: "num" }, p.blocks), h("td", { class: "num" }, p.reps ?? "–"),
      h("td", {}, h("button", { type: "button", class: "small", onclick: () => startSaved(p) }, "Start now")))));
  }

  async function startSaved(plan) {
    const session = await guarded(() => post(`/api/plans/${plan.id}/sessions`, { at: null }));
    if (session) {
      notify(`Session of "${plan.name}" started.`);
      await ctx.openRun(session.id);
    }
  }

  form.addEventListener("submit", launch);
  form.addEventListener("change", (ev) => {
    if (ev.target.name === "who") showWho();
  });
  teamSelect.addEventListener("change", fillAthletes);
  part("add-block").addEventListener("click", () => addBlock());
  part("plan-name").value = defaultName();
  addBlock();
  on("roster", fillTeams);
  fillTeams();

  return { show: loadPlans };
}
