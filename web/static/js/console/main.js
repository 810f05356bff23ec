// Coach console (/console): signs the coach in, switches tabs (#run, #launch, #roster,
// #devices, #reports, #settings), follows /ws/live and hands each message to every part.
import { get } from "../api.js";
import { $, $$ } from "../dom.js";
import { logout, me, mountAuthForm } from "../auth.js";
import { Beeper } from "../beeper.js";
import { LiveFeed, liveBadge } from "../live.js";
import { mountThemeToggle } from "../theme.js";
import { emit, guarded, on } from "./ui.js";
import { createRunView } from "./run.js";
import { createCorrections } from "./corrections.js";
import { createLauncher } from "./launcher.js";
import { createRoster } from "./roster.js";
import { createDevices } from "./devices.js";
import { createReports } from "./reports.js";
import { createSettings } from "./settings.js";
import { createOverview } from "./overview.js";

const TABS = ["run", "launch", "stations", "roster", "devices", "reports", "settings"];

const store = { coach: null, drills: [], teams: [], athletes: [] };
const beeper = new Beeper();
const parts = {};
let current = null;

/** Teams and athletes (archived ones too, so old reps keep their names), shared by all parts. */
async function reloadRoster() {
  const [teams, athletes] = await Promise.all([
    get("/api/teams"), get("/api/athletes?include_archived=true"),
  ]);
  store.teams = teams;
  store.athletes = athletes;
  emit("roster", store);
}

function openTab(name) {
  if (!TABS.includes(name)) name = "run";
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  for (const tab of TABS) {
    $("#tab-" + tab).hidden = tab !== name;
    $("#tab-button-" + tab).setAttribute("aria-selected", String(tab === name));
  }
  if (current !== name) {
    $("#alert").hidden = true; // an error belongs to the tab it came from
    const left = parts[current];
    if (left && left.hide) left.hide();
  }
  current = name;
  document.body.dataset.tab = name;
  const part = parts[name];
  if (part && part.show) guarded(() => part.show());
}

function askLogin() {
  const dialog = $("#login-dialog");
  if (dialog.open) return new Promise((resolve) => on("signed-in", resolve));
  return new Promise((resolve) => {
    mountAuthForm($("#login-dialog-form"), "login", (coach) => {
      dialog.close();
      setCoach(coach);
      emit("signed-in", coach);
      resolve(coach);
    });
    dialog.showModal();
    $("#login-name").focus();
  });
}

function setCoach(coach) {
  store.coach = coach;
  $("#coach-name").textContent = coach ? coach.name : "";
}

function bindHeader() {
  mountThemeToggle($("#theme-toggle"));
  const mute = $("#mute-toggle");
  const showMute = () => {
    mute.textContent = beeper.muted ? "Sound off" : "Sound on";
    mute.setAttribute("aria-pressed", String(beeper.muted));
  };
  mute.addEventListener("click", () => {
    beeper.setMuted(!beeper.muted);
    showMute();
    emit("muted", beeper.muted);
  });
  showMute();
  // Audio may only start after a gesture: the first click or key press unlocks it.
  const unlock = () => beeper.unlock();
  window.addEventListener("pointerdown", unlock, { once: true });
  window.addEventListener("keydown", unlock, { once: true });
  $("#logout").addEventListener("click", async () => {
    await logout().catch(() => {});
    location.assign("/setup?next=/console");
  });
  for (const button of $$(".tabs button")) {
    button.addEventListener("click", () => openTab(button.dataset.tab));
  }
  window.addEventListener("hashchange", () => openTab(location.hash.slice(1)));
  // A request answered 401: the login ran out. Sign in again without leaving the page.
  window.addEventListener("agility:unauthorized", () => { askLogin(); });
}

/** A drill of /api/drills by its slug ({} when unknown), and its name (the slug then). */
const drillOf = (slug) => store.drills.find((d) => d.slug === slug) || {};
const drillName = (slug) => drillOf(slug).name || slug;

async function start() {
  bindHeader();
  const who = await me();
  if (!who.coach) {
    if (who.setup_needed) {
      location.assign("/setup?next=/console");
      return;
    }
    await askLogin();
  } else {
    setCoach(who.coach);
  }
  store.drills = await get("/api/drills");
  const ctx = { store, beeper, reloadRoster, openTab, openRun: (id) => parts.run.open(id),
                drillOf, drillName };
  parts.run = createRunView(ctx);
  parts.corrections = createCorrections(ctx);
  parts.launch = createLauncher(ctx);
  parts.roster = createRoster(ctx);
  parts.devices = createDevices(ctx);
  parts.reports = createReports(ctx);
  parts.settings = createSettings(ctx);
  parts.stations = createOverview();
  await guarded(reloadRoster);
  openTab(location.hash.slice(1) || "run");
  window.agilityLive = new LiveFeed({
    onMessage: (msg) => {
      for (const part of Object.values(parts)) if (part.onLive) part.onLive(msg, current);
    },
    onReload: () => {
      for (const part of Object.values(parts)) if (part.onReload) guarded(() => part.onReload());
    },
    onStatus: liveBadge($("#live-status")),
  }).start();
  document.body.dataset.ready = "true";
}

window.addEventListener("DOMContentLoaded", () => {
  start().catch((err) => {
    const box = $("#alert");
    box.textContent = "The console could not start: " + err.message;
    box.hidden = false;
  });
});
