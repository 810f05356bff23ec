// Console, Stations tab (#stations): the head coach's overview of a testing day, one card per
// station (GET /api/overview/stations): its session's drills, who is on course (several when
// starts overlap), the next few, progress through the session, the last results, the flags
// and refused starts the live feed told of since the page opened, and the tags nobody has,
// each with a control to attach it to an athlete (PUT /api/athletes/{id}/tag).
//
// A station's live messages (split, run, cue, flag ... carry `station`; `plan` its session)
// mark its card stale; stale cards are fetched together after a short quiet spell, one
// request at a time, and only while the tab is shown (a shown tab fetches them all).
import { get, put } from "../api.js";
import { $, $$, clear, fmtClock, fmtS, fmtState, h, parts } from "../dom.js";
import { LIVE } from "../live-types.js";
import { REP_TYPES } from "../live.js";
import { replay } from "../motion.js";
import { guarded, notify, on } from "./ui.js";
import { makeLink, revokeLinks } from "./stations.js";
import { createDayPlan } from "./dayplan.js";
import { createFlags } from "./flags.js";

// A rep sends a burst (plan, splits, run, plan): one request for it, soon after the last.
const QUIET_MS = 300;
// A tag read at a station says nothing on the live feed: look again now and then.
const POLL_MS = 15000;
// Fetching cards one by one beyond this is slower than fetching them all at once.
const ONE_BY_ONE = 2;
const NOTES_KEPT = 20;
const NOTE_TYPES = new Set([LIVE.FLAG, LIVE.START_REFUSED, LIVE.CROSSING_UNASSIGNED]);

const overviewPath = (name) => "/api/overview/stations" + (name ? "/" + encodeURIComponent(name) : "");

export function createOverview() {
  const part = parts($("#tab-stations"));
  const S = {
    shown: false, cards: new Map(), sessions: new Map(), notes: new Map(), athletes: null,
    stale: new Set(), all: false, timer: null, busy: false, nextNote: 1, rosterVersion: 0,
  };

  // The day plan's rotations, above the cards (js/console/dayplan.js).
  const dayPlan = createDayPlan(part("overview-cards"));
  // Each card's open course flags, with Keep and Swap (js/console/flags.js).
  const flags = createFlags(part("overview-cards"));

  // From a timer: an error (the server restarting, a sign-in that ran out) says so above.
  const flushSoon = () => setTimeout(() => guarded(flush), QUIET_MS);

  // -- fetching -----------------------------------------------------------------------------

  function mark(name) {
    if (name == null || !S.cards.has(name)) S.all = true; // a new station, or a new session
    else S.stale.add(name);
    if (S.shown && !S.timer) S.timer = flushSoon();
  }

  async function flush() {
    S.timer = null;
    if (S.busy || !S.shown) return; // the request under way looks again when it ends
    const names = S.all || S.stale.size > ONE_BY_ONE ? null : [...S.stale];
    S.all = false;
    S.stale.clear();
    S.busy = true;
    try {
      if (names === null) {
        const cards = await get(overviewPath());
        S.cards = new Map(cards.map((c) => [c.name, c]));
        renderAll();
      } else {
        for (const name of names) {
          const card = await get(overviewPath(name)).catch((err) => {
            if (err.status === 404) S.all = true; // removed meanwhile
            else throw err;
          });
          if (card) {
            S.cards.set(name, card);
            renderCard(card);
          }
        }
      }
      part("overview-updated").textContent = "Updated " + fmtClock(new Date().toISOString());
    } finally {
      S.busy = false;
      if ((S.all || S.stale.size) && !S.timer) S.timer = flushSoon();
    }
  }

  async function loadAthletes() {
    S.athletes = await get("/api/athletes");
    S.rosterVersion += 1;
  }

  // -- live ---------------------------------------------------------------------------------

  function note(msg) {
    const who = msg.athlete ? `${msg.athlete}` : "";
    const where = [msg.role ? `at ${msg.role}` : null, msg.drill || null].filter(Boolean).join(", ");
    let title;
    let text;
    if (msg.type === LIVE.FLAG) {
      title = "Flag";
      text = `${who}${where ? ` (${where})` : ""}: ${msg.reason || "check this crossing"}`
        + (msg.alternative ? `; it may be ${msg.alternative}'s` : "");
    } else if (msg.type === LIVE.START_REFUSED) {
      title = "Start refused";
      text = `${who}${where ? ` (${where})` : ""}: ${msg.reason || "refused"}`;
    } else {
      title = "Crossing nobody's";
      text = `${where || "a gate"}: ${msg.reason || "no runner it belongs to"}`;
    }
    const list = S.notes.get(msg.station) || [];
    list.push({ id: S.nextNote++, type: msg.type, title, text, at: new Date().toISOString() });
    S.notes.set(msg.station, list.slice(-NOTES_KEPT));
    const card = S.cards.get(msg.station);
    if (card) renderNotes(msg.station, true);
  }

  function onLive(msg) {
    dayPlan.onLive(msg);
    flags.onLive(msg);
    if (msg.type === LIVE.PLAN) {
      // `plan` names its session; the station is looked up (unknown: a session just begun).
      mark(S.sessions.get(msg.session_id) ?? null);
      return;
    }
    if (!REP_TYPES.has(msg.type)) return;
    const station = msg.station || "main";
    if (NOTE_TYPES.has(msg.type)) note({ ...msg, station });
    mark(station);
  }

  // -- the view -----------------------------------------------------------------------------

  function renderAll() {
    S.sessions.clear();
    const box = part("overview-cards");
    for (const el of $$(".station-card", box)) {
      if (!S.cards.has(el.dataset.station)) el.remove();
    }
    for (const card of S.cards.values()) renderCard(card);
    // In the server's order: the main station first, then by name.
    for (const card of S.cards.values()) box.append(cardElement(card.name));
    flags.place();
  }

  function cardElement(name) {
    const found = $$(".station-card", part("overview-cards")).find((el) => el.dataset.station === name);
    if (found) return found;
    const id = "station-card-" + name;
    const piece = (key, tag = "div", attrs = {}) => h(tag, { ...attrs, dataset: { part: key } });
    const el = h("article", { class: "station-card", dataset: { station: name }, "aria-labelledby": id },
      h("header", { class: "station-card-head" },
        h("h3", { id }, name), piece("state", "span", { class: "badge" })),
      piece("drills", "p", { class: "muted" }),
      h("div", { class: "station-card-grid" },
        h("section", {}, h("p", { class: "label" }, "On course"), piece("course", "ul", { class: "course-list" })),
        h("section", {}, h("p", { class: "label" }, "Up next"), piece("queue", "ol", { class: "queue-list" }))),
      h("div", { class: "station-progress" },
        piece("progress-bar", "progress", { "aria-label": `Progress of station ${name}` }),
        piece("progress", "span")),
      h("section", {}, h("p", { class: "label" }, "Last results"), piece("results", "ul", { class: "result-list" })),
      piece("notes", "section", { class: "station-notes", "aria-live": "polite" }),
      piece("tags", "section", { class: "station-tags" }),
      h("div", { class: "row-actions" },
        h("button", { type: "button", class: "small",
                      onclick: () => guarded(() => makeLink(name, part("overview-link-box"))) },
          "Link for assistant"),
        h("button", { type: "button", class: "small",
                      onclick: () => guarded(() => revokeLinks(name, part("overview-link-box"))) },
          "Revoke links")));
    part("overview-cards").append(el);
    return el;
  }

  /** One part of a card (a card is a small panel of its own). */
  const partOf = (el, key) => parts(el)(key);

  function renderCard(card) {
    const el = cardElement(card.name);
    const { session, upcoming, ended } = card;
    for (const s of [session, upcoming]) if (s) S.sessions.set(s.id, card.name);
    // The session whose progress and results show: the live one, else the one that ended.
    const shown = session || ended;

    const state = partOf(el, "state");
    state.textContent = session ? session.state : upcoming ? "scheduled" : ended ? ended.state : "no session";
    state.className = "badge " + (session ? session.state : ended && !upcoming ? ended.state : "");

    const drills = card.drills.map((d) => (d.slug === card.drill ? h("strong", {}, d.name) : d.name));
    const planned = session || upcoming || ended;
    const when = session ? "" : upcoming ? ` · from ${fmtClock(upcoming.scheduled_wall)}`
      : ended && ended.finished_wall ? ` · ended ${fmtClock(ended.finished_wall)}` : "";
    clear(partOf(el, "drills"), ...(planned
      ? [planned.plan, drills.length ? " · " : "", ...drills.flatMap((d, i) => (i ? [" · ", d] : [d])), when]
      : ["No session on this station."]));

    clear(partOf(el, "course"), ...(card.course.length
      ? card.course.map((r) => h("li", {}, h("span", { class: "athlete" }, r.athlete),
          h("span", { class: "muted" }, ` · ${drillName(card, r.drill)} · rep ${r.rep}`
            + (r.run_id ? "" : " (ready)"))))
      : [h("li", { class: "muted" }, "–")]));

    clear(partOf(el, "queue"), ...(card.queue.length
      ? card.queue.map((q) => h("li", {}, q.athlete,
          q.drill !== card.drill ? h("span", { class: "muted" }, ` · ${drillName(card, q.drill)}`) : null))
      : [h("li", { class: "muted empty" }, session ? "nobody waiting" : "–")]));

    const bar = partOf(el, "progress-bar");
    const total = shown ? shown.total : null;
    bar.hidden = !total;
    if (total) {
      bar.max = total;
      bar.value = shown.done;
    }
    partOf(el, "progress").textContent = total
      ? `${shown.done} of ${total} reps done` + (shown.reason ? ` · ${shown.reason}` : "")
      : shown ? shown.reason || "" : "";

    clear(partOf(el, "results"), ...(card.results.length
      ? card.results.map((r) => h("li", { class: r.state === "finished" ? "" : "muted" },
          h("span", { class: "athlete" }, r.athlete),
          ` · ${drillName(card, r.drill)}: `,
          h("span", { class: "num" }, r.state === "finished" ? fmtS(r.total_s) : fmtState(r.state))))
      : [h("li", { class: "muted" }, "–")]));

    renderNotes(card.name, false);
    renderTags(card);
  }

  function drillName(card, slug) {
    const found = card.drills.find((d) => d.slug === slug);
    return found ? found.name : slug;
  }

  function renderNotes(name, fresh) {
    const el = partOf(cardElement(name), "notes");
    const notes = S.notes.get(name) || [];
    // Unchanged notes stay as they are: a live region read again on every refresh is noise.
    const key = notes.map((n) => n.id).join(",");
    if (el.dataset.key === key) return;
    el.dataset.key = key;
    el.hidden = notes.length === 0;
    if (fresh && notes.length) replay(el, "fresh"); // the highlight starts over for each new note
    else el.classList.remove("fresh");
    clear(el, h("p", { class: "label" }, "Check"), h("ul", { class: "note-list" },
      ...notes.slice().reverse().map((n) => h("li", { class: "note", dataset: { type: n.type } },
        h("strong", {}, n.title), ` ${fmtClock(n.at)} · ${n.text} `,
        h("button", { type: "button", class: "small", "aria-label": `Dismiss: ${n.title}, ${n.text}`,
                      onclick: () => dismiss(name, n.id) }, "Dismiss")))));
  }

  function dismiss(name, id) {
    S.notes.set(name, (S.notes.get(name) || []).filter((n) => n.id !== id));
    renderNotes(name, false);
  }

  function renderTags(card) {
    const el = partOf(cardElement(card.name), "tags");
    const key = card.unknown_tags.map((t) => `${t.tag}:${t.reads}`).join(",")
      + "|" + S.rosterVersion;
    if (el.dataset.key === key) return; // unchanged: keep the coach's choice in its select
    el.dataset.key = key;
    el.hidden = card.unknown_tags.length === 0;
    const athletes = (S.athletes || []).slice().sort((a, b) => a.name.localeCompare(b.name));
    clear(el, h("p", { class: "label" }, "Tags nobody has"), h("ul", { class: "tag-list" },
      ...card.unknown_tags.map((t) => {
        const select = h("select", { dataset: { tag: t.tag } },
          h("option", { value: "" }, "Choose an athlete…"),
          ...athletes.map((a) => h("option", { value: String(a.id) },
            `${a.name} (${a.team})` + (a.tag ? ` · has ${a.tag}` : ""))));
        return h("li", { class: "tag-row", dataset: { tag: t.tag } },
          h("code", {}, t.tag),
          h("span", { class: "muted" }, ` read ${t.reads}×, last ${fmtClock(t.last_wall)} `),
          h("label", {}, h("span", { class: "visually-hidden" }, `Athlete for tag ${t.tag}`), select),
          h("button", { type: "button", class: "small",
                        onclick: () => guarded(() => attach(card.name, t.tag, select.value)) },
            "Attach to athlete"));
      })));
  }

  async function attach(station, tag, athleteId) {
    const athlete = (S.athletes || []).find((a) => String(a.id) === athleteId);
    if (!athlete) {
      notify(`Choose the athlete who has tag ${tag} first.`);
      return;
    }
    if (athlete.tag && !window.confirm(`${athlete.name} has tag ${athlete.tag}: replace it with ${tag}?`)) return;
    await put(`/api/athletes/${athlete.id}/tag`, { tag });
    notify(`Tag ${tag} attached to ${athlete.name}.`);
    await loadAthletes();
    mark(station);
  }

  // -- the tab ------------------------------------------------------------------------------

  async function show() {
    S.shown = true;
    S.all = true;
    dayPlan.show();
    flags.show();
    clearTimeout(S.timer);
    S.timer = null;
    await loadAthletes(); // athletes may have been added since the roster was read
    await flush();
  }

  function bind() {
    part("overview-refresh").addEventListener("click", () => guarded(show));
    // The roster tab changed someone (a tag, a name): the selects list them as they are now.
    on("roster", (store) => {
      S.athletes = store.athletes.filter((a) => !a.archived);
      S.rosterVersion += 1;
      for (const card of S.cards.values()) if (S.shown) renderTags(card);
    });
    setInterval(() => {
      if (S.shown && document.visibilityState === "visible") mark(null);
    }, POLL_MS);
  }

  bind();
  return {
    show,
    hide: () => { S.shown = false; dayPlan.hide(); flags.hide(); },
    onLive,
    onReload: () => { mark(null); },
  };
}
