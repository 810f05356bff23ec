// Run view helpers: the block under way in an interval drill (work or rest, which block of
// how many, and a countdown of its time) from the `interval` messages of /ws/live
// (server/runs/series.py); and the queue after this rep, from the session's progress when
// this browser did not launch the plan itself.
import { clear, h } from "../dom.js";
import { queueOf } from "./plans.js";

/** The reps still to come, the current one first: the plan as launched here, else the
 *  server's progress (`next` and the `queue` after it). */
export function queueAfter(info) {
  const known = queueOf(info);
  if (known.length > 1) return known;
  const progress = (info && info.progress) || {};
  if (!progress.next) return known;
  return [{ ...progress.next }, ...(progress.queue || [])];
}

const mmss = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

/** The block panel, made above `countdown` (the run panel's countdown line). */
export function createBlockPanel(beeper, countdown) {
  let block = null; // the last `interval` message of the session, with when its block ends
  const el = h("div", { class: "interval-block", dataset: { part: "interval-block" }, hidden: true },
    h("p", { class: "interval-kind" }), h("p", { class: "interval-where muted" }));
  countdown.before(el);

  function render() {
    el.hidden = !block;
    if (!block) return;
    const kind = block.kind === "work" ? "Work" : "Rest";
    el.dataset.kind = block.kind;
    clear(el.querySelector(".interval-kind"), `${kind}: ${block.block}`);
    const of = block.slots ? ` of ${block.slots}` : "";
    clear(el.querySelector(".interval-where"),
      `Block ${block.slot + 1}${of} · round ${block.round} of ${block.rounds}`);
  }

  return {
    /** An `interval` message of the followed session. */
    onInterval(msg) {
      block = { ...msg, endsAt: Date.now() + Math.max(0, msg.seconds) * 1000 };
      if (msg.beep) beeper.go();
      render();
    },
    /** Show the block's time left in `el` while `active` (an interval rep is under way);
     *  true when it did. */
    tick(el, active) {
      if (!active) {
        if (block) {
          block = null;
          render();
        }
        return false;
      }
      if (!block) return false;
      el.textContent = mmss(Math.max(0, Math.ceil((block.endsAt - Date.now()) / 1000)));
      return true;
    },
  };
}
