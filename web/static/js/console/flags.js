// Console, Stations tab: the course flags the coach has yet to answer, in each station's card
// (server/stations/flags.py). A course that takes several athletes at once gives crossings
// first in first out and keeps one that looks wrong (a pass, a speed nobody runs, a missed
// gate) as an open flag (GET /api/flags?flag_state=open). Each shows who got the crossing, the
// drill, the gate and why it looks wrong, with two answers: Keep (POST .../confirm: the times
// stand) and Swap with the other runner (POST .../swap: both reps exchange their crossings of
// that gate and are timed again), offered only when the flag names both reps. A refusal (409)
// stays beside its flag in the server's words.
//
// The lists follow the live feed: `flag` (a new one), `run` and `plan` (a rep ended, which
// may have flagged or decided something), fetched again after a short quiet spell, and only
// while the tab is shown. Flags of a station without a card are listed below the cards.
import { get, post } from "../api.js";
import { $$, clear, fmtS, fmtState, h, parts } from "../dom.js";
import { LIVE } from "../live-types.js";
import { errorNodes, guarded, notify, showError } from "./ui.js";

const QUIET_MS = 300;
const LIVE_TYPES = new Set([LIVE.FLAG, LIVE.RUN, LIVE.PLAN, LIVE.CORRECTION]);
const DOUBTS = { pass: "Pass", too_fast: "Too fast", missed_gate: "Missed gate",
                 merged: "Lost to the re-arm" };

export function createFlags(cards) {
  const S = { shown: false, flags: [], errors: new Map(), busy: false, again: false,
              timer: null, drills: null, pending: new Set() };

  // Flags of a station with no card (removed since, say): below the cards, never lost.
  const elsewhere = h("section", { dataset: { part: "flags-elsewhere" }, class: "station-flags", hidden: true,
                                   "aria-labelledby": "flags-elsewhere-title" });
  cards.after(elsewhere);

  // -- fetching -----------------------------------------------------------------------------

  async function refresh() {
    if (S.busy) {
      S.again = true; // the request under way may predate the change: look once more after
      return;
    }
    S.busy = true;
    try {
      do {
        S.again = false;
        if (S.drills === null) {
          const drills = await get("/api/drills");
          S.drills = new Map(drills.map((d) => [d.slug, d.name]));
        }
        S.flags = await get("/api/flags?flag_state=open");
        const open = new Set(S.flags.map((f) => f.id));
        for (const id of S.errors.keys()) if (!open.has(id)) S.errors.delete(id);
        render();
      } while (S.again);
    } finally {
      S.busy = false;
    }
  }

  // From a timer or the tab, a failure shows as the page's alert (guarded), as the cards' do.
  function soon() {
    if (!S.shown || S.timer) return;
    S.timer = setTimeout(() => {
      S.timer = null;
      guarded(refresh);
    }, QUIET_MS);
  }

  // -- the view -----------------------------------------------------------------------------

  const drillName = (slug) => (S.drills && S.drills.get(slug)) || slug;
  const gate = (role) => fmtState(role);

  function cardOf(name) {
    return $$(".station-card", cards).find((el) => el.dataset.station === name) || null;
  }

  // The card's "Flags to answer" section, made once, after its live notes.
  function sectionOf(card) {
    let el = parts(card)("flags");
    if (el) return el;
    el = h("section", { class: "station-flags", dataset: { part: "flags" }, hidden: true });
    const notes = parts(card)("notes");
    if (notes) notes.after(el);
    else card.append(el);
    return el;
  }

  function render() {
    const byStation = new Map();
    for (const flag of S.flags) {
      const name = flag.station || "main";
      if (!byStation.has(name)) byStation.set(name, []);
      byStation.get(name).push(flag);
    }
    const shown = $$(".station-card", cards);
    for (const card of shown) {
      fill(sectionOf(card), byStation.get(card.dataset.station) || [], "Flags to answer");
    }
    // No card yet (main always has one): the cards are on their way, and place() follows.
    if (!shown.length) return;
    const homeless = [...byStation].filter(([name]) => !cardOf(name)).flatMap(([, f]) => f);
    fill(elsewhere, homeless, "Flags of other stations", "flags-elsewhere-title", true);
  }

  function fill(el, flags, title, titleId, named = false) {
    // Unchanged lists stay as they are: a coach's finger may be on a button.
    const key = flags.map((f) => `${f.id}:${S.pending.has(f.id) ? "…" : ""}:`
      + (S.errors.has(f.id) ? S.errors.get(f.id).detail : "")).join("|")
      + (S.drills ? "" : "?");
    if (el.dataset.key === key) return;
    el.dataset.key = key;
    el.hidden = flags.length === 0;
    clear(el, h("p", { class: "label", id: titleId || null }, `${title} (${flags.length})`),
      h("ul", { class: "answer-list" }, ...flags.map((f) => item(f, named))));
  }

  function item(flag, named) {
    const busy = S.pending.has(flag.id);
    const error = S.errors.get(flag.id);
    const canSwap = flag.run_id != null && flag.other_run_id != null;
    const other = flag.alternative || "the other rep";
    const whose = `${flag.athlete}'s ${gate(flag.role)} crossing`;
    return h("li", { class: "flag-answer", dataset: { flag: String(flag.id), doubt: flag.doubt } },
      h("p", { class: "flag-what" },
        h("span", { class: "athlete" }, flag.athlete),
        h("span", { class: "muted" }, ` · ${drillName(flag.drill)} · at ${gate(flag.role)}`
          + (named ? ` · station ${flag.station}` : ""))),
      h("p", { class: "flag-why" },
        h("strong", { class: "flag-doubt" }, `${DOUBTS[flag.doubt] || fmtState(flag.doubt)}:`), " ",
        flag.reason || "check this crossing",
        flag.alternative ? h("span", { class: "flag-alternative" }, `; may be ${flag.alternative}'s`)
          : null),
      error ? h("div", { class: "alert", role: "alert" }, ...errorNodes(error)) : null,
      h("div", { class: "row-actions" },
        h("button", { type: "button", class: "small", dataset: { answer: "confirm" },
                      disabled: busy, "aria-label": `Keep ${whose}`,
                      onclick: () => answer(flag, "confirm") }, "Keep"),
        canSwap ? h("button", { type: "button", class: "small", dataset: { answer: "swap" },
                                disabled: busy,
                                "aria-label": `Swap with ${other}: ${whose}`,
                                onclick: () => answer(flag, "swap") }, `Swap with ${other}`)
          : null));
  }

  // -- answers ------------------------------------------------------------------------------

  async function answer(flag, how) {
    if (S.pending.has(flag.id)) return;
    S.pending.add(flag.id);
    S.errors.delete(flag.id);
    render();
    try {
      const done = await post(`/api/flags/${flag.id}/${how}`);
      S.flags = S.flags.filter((f) => f.id !== flag.id);
      notify(told(flag, how, done));
    } catch (err) {
      if (err.status === 0 || err.status === 401) showError(err);
      else S.errors.set(flag.id, err);
    } finally {
      S.pending.delete(flag.id);
      render();
    }
    // A pass's other flag is decided with it; a flag decided elsewhere leaves the list, and
    // the refusal that said so becomes a notice.
    const error = S.errors.get(flag.id);
    await guarded(refresh);
    if (error && !S.flags.some((f) => f.id === flag.id)) notify(error.detail);
  }

  function told(flag, how, done) {
    const where = `${gate(flag.role)} (${drillName(flag.drill)})`;
    if (how === "confirm") return `Kept: ${flag.athlete}'s crossing at ${where} stands.`;
    const runs = (done && done.runs) || [];
    const totals = runs.map((r) => `${r.athlete} `
      + (r.state === "finished" ? fmtS(r.total_s) : fmtState(r.state)));
    return `Swapped ${flag.athlete}'s and ${flag.alternative || "the other rep"}'s crossings at ${where}`
      + (totals.length ? `: now ${totals.join(", ")}.` : "; both reps timed again.");
  }

  return {
    show: () => {
      S.shown = true;
      clearTimeout(S.timer);
      S.timer = null;
      return guarded(refresh);
    },
    hide: () => { S.shown = false; },
    onLive: (msg) => { if (LIVE_TYPES.has(msg.type)) soon(); },
    // The cards were drawn again (a station came or went): each list into its card.
    place: () => { if (S.shown) render(); },
  };
}
