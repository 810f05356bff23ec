// One station for its assistant's phone (/station/{name}?key=...): trades the link's key for
// the station's cookie (then drops it from the address bar), shows who is on course, the
// queue and the last results, checks athletes in by tag (a keyboard-wedge reader types the
// tag and Enter; or the camera reads a QR code where the browser can), and runs the session
// controls. Live updates from /ws/live, this station's only; the API decides what is allowed.
import { ApiError, get, post, problemLine } from "./api.js";
import { $, clear, fmtClock, fmtS, fmtState, h } from "./dom.js";
import { LIVE } from "./live-types.js";
import { LiveFeed, liveBadge } from "./live.js";
import { mountThemeToggle } from "./theme.js";

const NAME = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const BASE = "/api/stations/" + encodeURIComponent(NAME);
const RESULTS_SHOWN = 6;
const SCAN_EVERY_MS = 250;
const DONE = { pause: "Paused: no new rep starts.", resume: "Resumed.", skip: "Skipped.",
               void: "Rep voided.", go: "GO: the clock is running." };

let current = null; // the last state the server sent
let refreshTimer = null;
let countdownTimer = null;
let locked = false; // no working link: controls stay off until the page is opened again
const showLive = liveBadge($("#live-status")); // a module runs once the page is parsed

function say(text, kind = "ok") {
  const box = $("#checkin-status");
  box.textContent = text;
  box.dataset.kind = kind;
}

function messageOf(err) {
  if (!(err instanceof ApiError)) return String(err.message || err);
  if (err.errors.length) return err.errors.map(problemLine).join("; ");
  return err.detail;
}

/** 401: the link is gone (expired, revoked, never opened here); nothing more works. */
function lockOut(err) {
  locked = true;
  const box = $("#station-alert");
  box.textContent = err.status === 401
    ? `Station ${NAME}: ${err.detail}. Scan the coach's QR code again.`
    : err.detail;
  box.hidden = false;
  showLive(false, "no link");
  for (const b of document.querySelectorAll(".station-controls button, #checkin-form button")) {
    b.disabled = true;
  }
}

function fail(err) {
  if (err instanceof ApiError && err.status === 401) lockOut(err);
  say(messageOf(err), "bad");
}

// -- the view ---------------------------------------------------------------------------

function render(state) {
  current = state;
  $("#station-title").textContent = "Station " + state.station.name;
  document.title = "Station " + state.station.name + " · Agility";
  const session = state.session;
  const p = (session && session.progress) || {};
  const running = p.phase === "running";
  const on = state.station.on_course;
  $("#on-course").textContent = on ? on.athlete : "–";
  $("#on-course-detail").textContent = on ? `${on.drill} · rep ${on.rep}` : "";
  if (!on) $("#live-split").textContent = "";
  const queue = Array.isArray(p.queue) ? p.queue : [];
  const next = running ? queue[0] : p.next;
  $("#up-next").textContent = next ? next.athlete : "–";
  clear($("#queue"), ...(running ? queue.slice(1) : queue).map((q) => h("li", {}, q.athlete,
    h("span", { class: "muted" }, " · " + q.drill))));
  showCountdown(p.phase === "countdown" ? p.countdown_end_wall : null);

  const live = session && ["running", "paused"].includes(session.state);
  const armed = running && p.next && p.next.waits_for_go;
  $("#go-button").hidden = !armed;
  // Several on course at once: each started rep gets its own Void (the server needs to know
  // whose); the one armed and not yet off is passed over with Skip.
  const course = Array.isArray(state.station.course) ? state.station.course : [];
  const several = course.length > 1;
  $("#course-list").hidden = !several;
  clear($("#course-list"), ...(several ? course.map((r) => h("li", {},
    h("span", {}, r.athlete), h("span", { class: "muted" }, ` · ${r.drill} · rep ${r.rep}`),
    r.run_id == null
      ? h("span", { class: "muted" }, " · at the start")
      : h("button", { type: "button", class: "small void-one", disabled: locked,
                      "data-run-id": String(r.run_id),
                      onclick: () => act("void", { run_id: r.run_id }) }, `Void ${r.athlete}`),
  )) : []));
  $("#void-button").hidden = several;
  $("#void-button").disabled = locked || !on;
  $("#skip-button").disabled = locked || !live;
  $("#pause-button").hidden = Boolean(session && session.state === "paused");
  $("#pause-button").disabled = locked || !live;
  $("#resume-button").hidden = !(session && session.state === "paused");
  $("#resume-button").disabled = locked;

  let line;
  if (session) {
    line = `${session.plan} · ${p.index || 0} of ${p.total || 0} reps · ${fmtState(session.state)}`;
    if (session.reason) line += ` (${session.reason})`;
  } else if (state.upcoming) {
    line = `Next session: ${state.upcoming.plan} at ${fmtClock(state.upcoming.scheduled_wall)}`;
  } else {
    line = "No session on this station: the coach starts one from the console.";
  }
  $("#session-line").textContent = line;

  const done = (Array.isArray(p.done) ? p.done : []).slice(-RESULTS_SHOWN).reverse();
  clear($("#results-body"), ...(done.length ? done.map((d) => h("tr", {},
    h("td", {}, d.athlete), h("td", {}, d.drill),
    h("td", { class: "num" }, d.state === "finished" ? fmtS(d.total_s) : fmtState(d.state)),
  )) : [h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No reps yet."))]));

  const unknown = Array.isArray(state.unknown_tags) ? state.unknown_tags : [];
  $("#unknown-box").hidden = unknown.length === 0;
  clear($("#unknown-tags"), ...unknown.map((u) => h("li", {}, h("code", {}, u.tag),
    h("span", { class: "muted" }, ` · read ${u.reads}× · last ${fmtClock(u.last_wall)}`))));
  document.body.dataset.ready = "true";
}

function showCountdown(endIso) {
  clearInterval(countdownTimer);
  const el = $("#countdown");
  const end = endIso ? Date.parse(endIso) : NaN;
  if (Number.isNaN(end)) {
    el.textContent = "";
    return;
  }
  const tick = () => {
    const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    el.textContent = left > 0 ? `starts in ${left} s` : "ready";
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
}

async function refresh() {
  try {
    render(await get(BASE + "/state"));
  } catch (err) {
    if (err instanceof ApiError && [401, 403, 404].includes(err.status)) lockOut(err);
    else say(messageOf(err), "bad");
  }
}

/** Many live messages arrive together (a split, the run, the plan): one reload for them all. */
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 150);
}

function onLive(msg) {
  if (msg.type === LIVE.PLAN) {
    // Plan messages name their session, not their station: ours, or any while we have none.
    if (!current || !current.session || msg.session_id === current.session.id) refreshSoon();
    return;
  }
  if (msg.station !== NAME) return;
  if (msg.type === LIVE.SPLIT && typeof msg.elapsed_s === "number") {
    $("#live-split").textContent = `${msg.split} ${fmtS(msg.elapsed_s)}`;
  } else if (msg.type === LIVE.RUN) {
    const result = msg.state === "finished" ? fmtS(msg.total_s) : fmtState(msg.state);
    $("#live-split").textContent = "Last rep: " + result;
    refreshSoon();
  }
}

// -- check-in ---------------------------------------------------------------------------

async function checkIn(raw) {
  const tag = String(raw || "").trim();
  if (!tag || locked) return;
  say(`Checking ${tag}…`, "busy");
  try {
    const result = await post(BASE + "/checkin", { tag });
    render(result.state);
    say(result.message, "ok");
  } catch (err) {
    fail(err);
  }
}

function bindCheckin() {
  const form = $("#checkin-form");
  const box = $("#checkin-tag");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const tag = box.value;
    box.value = ""; // ready for the next athlete's tag at once
    box.focus();
    checkIn(tag);
  });
  // A reader types whatever has focus: a key typed while no field has it starts a tag here,
  // so a tap on a button never swallows the next athlete's check-in.
  document.addEventListener("keydown", (ev) => {
    const active = document.activeElement;
    // Space stays a button press; a tag's inner spaces arrive once the box has focus.
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.key.length !== 1 || ev.key === " ") return;
    if (active && (active === box || ["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName))) return;
    ev.preventDefault();
    box.focus();
    box.value += ev.key;
  });
  box.focus();
}

/** The camera and the browser's own BarcodeDetector; the button stays hidden without them
 * (and without https or localhost, where browsers give no camera). */
async function bindScanner() {
  const button = $("#scan-button");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) return;
  } catch {
    return;
  }
  button.hidden = false;
  const video = $("#scanner-video");
  let stream = null;
  let timer = null;
  const stop = () => {
    clearTimeout(timer);
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    $("#scanner").hidden = true;
    button.disabled = false;
  };
  $("#scanner-stop").addEventListener("click", () => {
    stop();
    $("#checkin-tag").focus();
  });
  button.addEventListener("click", async () => {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (err) {
      say("No camera: " + (err.message || err.name) + ". Type or scan the tag instead.", "bad");
      return;
    }
    button.disabled = true;
    $("#scanner").hidden = false;
    video.srcObject = stream;
    await video.play().catch(() => {});
    say("Point the camera at the athlete's QR code.", "busy");
    const look = async () => {
      if (!stream) return;
      try {
        const [code] = await detector.detect(video);
        if (code && code.rawValue) {
          stop();
          $("#checkin-tag").focus();
          checkIn(code.rawValue);
          return;
        }
      } catch {
        /* the frame was not ready: try the next one */
      }
      timer = setTimeout(look, SCAN_EVERY_MS);
    };
    look();
  });
}

// -- controls ---------------------------------------------------------------------------

async function act(action, body) {
  if (locked) return;
  try {
    render(await post(`${BASE}/${action}`, body));
    say(DONE[action] || "Done.", "ok");
  } catch (err) {
    fail(err);
  }
}

function bindControls() {
  $("#go-button").addEventListener("click", () => act("go"));
  for (const button of document.querySelectorAll(".station-controls [data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
}

// -- start ------------------------------------------------------------------------------

/** The link's key for this station's cookie; the key then leaves the address bar (and the
 * history), so a screenshot or a shared tab does not hand the station on. */
async function enter() {
  const params = new URLSearchParams(location.search);
  const key = params.get("key");
  if (!key) return true;
  try {
    await post(BASE + "/enter", { key });
    return true;
  } catch (err) {
    lockOut(err);
    say(messageOf(err), "bad");
    return false;
  } finally {
    history.replaceState(null, "", location.pathname);
  }
}

async function start() {
  mountThemeToggle($("#theme-toggle"));
  $("#station-title").textContent = "Station " + NAME;
  bindCheckin();
  bindControls();
  bindScanner();
  if (!(await enter())) return;
  await refresh();
  if (locked) return; // nothing to follow without a working link
  window.agilityLive = new LiveFeed({ onMessage: onLive, onReload: refresh, onStatus: showLive }).start();
}

window.addEventListener("DOMContentLoaded", () => {
  start().catch((err) => fail(err));
});
