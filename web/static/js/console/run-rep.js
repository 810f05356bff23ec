// Run view, the rep under way: its splits as they happen, with the marks a coach needs to
// read them right (cross-device bound, coarse, hand time, the gate rule's crossing), its
// outcome (finished, false start, timeout) or the cue given; and, once finished with its
// crossings on record, re-timing it with another gate rule (POST /api/runs/{id}/rederive, a
// correction). Fed by the `split`, `run` and `cue` messages run.js passes on.
import { get, post } from "../api.js";
import { clear, fmtS, fmtState, h } from "../dom.js";
import { guarded, notify } from "./ui.js";

/** What a coach must know to read a split or a rep right (the live messages say it). */
function marks(m) {
  const bound = m.cross_device_error_s;
  return [
    bound != null ? h("span", { class: "manual-mark", title: "cross-device: one end is from a "
      + "receipt-timed device (Chronopic, Timy), so the time is only as good as the receipt jitter" },
      ` ±${(bound * 1000).toFixed(1)} ms, cross-device`) : null,
    m.coarse ? h("span", { class: "manual-mark", title: "an end was placed by the time the host "
      + "received it (the timer's counter ran past its range, or a gate's clock was not yet fitted)" }, " coarse") : null,
    m.manual ? h("span", { class: "manual-mark", title: "an end is a hand time (timer keypad)" },
      " hand time") : null,
    crossingNote(m.crossing),
  ];
}

/** Why the split ends where it does: the gate's rule, and what the first break said. */
function crossingNote(c) {
  if (c && c.retimed) {
    return h("span", { class: "crossing-note muted", title: "timed again from the stored beam edges" },
      ` re-timed: ${c.rule}`);
  }
  if (!c || c.rule === "first-break") return null;
  const lead = c.first_break_lead_ms;
  const why = lead > 0 ? `first break ${lead.toFixed(1)} ms earlier (a limb)` : "first break was the torso";
  return h("span", { class: "crossing-note muted", title: `${c.rule}: ${c.edges} beam edges weighed` },
    ` ${c.rule}, ${why}`);
}

/** A finished rep whose splits came with their crossings (a rep started at a gate). */
function retimable(rep) {
  return Boolean(rep && rep.run_id && rep.outcome && rep.outcome.state === "finished"
    && rep.splits.some((s) => s.crossing));
}

/** The rep's splits and total as re-timed; what changed, said shortly. */
function applyRetime(rep, trigger, answer, entry) {
  const before = entry ? entry.detail.before.splits : {};
  const after = entry ? entry.detail.after.splits : {};
  const changed = [];
  for (const s of rep.splits) {
    if (s.crossing) s.crossing = { rule: trigger, retimed: true };
    if (after[s.split] == null) continue;
    s.elapsed_s = after[s.split] / 1e6;
    if (before[s.split] != null && before[s.split] !== after[s.split]) {
      changed.push(`${s.split} ${(before[s.split] / 1e6).toFixed(3)} → ${fmtS(s.elapsed_s)}`);
    }
  }
  rep.outcome = { ...rep.outcome, total_s: answer.total_s };
  if (!entry) return `Re-timed with ${trigger}: total ${fmtS(answer.total_s)} (reload for its splits)`;
  return `Re-timed with ${trigger}: ${changed.length ? changed.join(", ") : "no split changed"}`;
}

const newRep = (athlete, drill, rep = null, runId = null) =>
  ({ athlete, drill, rep, run_id: runId, splits: [], outcome: null });

/**
 * The rep part of the run panel (`part`: its lookup by data-part). `drillName(slug)` names a drill;
 * `nameOf(rep)` is the roster name of the rep's athlete (the session knows it, the live
 * messages give the public one).
 */
export function createRepView(part, { drillName, nameOf }) {
  let rep = null;
  let retimeRun = null; // the rep the re-time form was last set up for

  function render() {
    renderRetime();
    if (!rep) return;
    part("rep-title").textContent = `${nameOf(rep) || ""} · ${drillName(rep.drill)}${rep.rep ? " · rep " + rep.rep : ""}`;
    let elapsed = 0;
    clear(part("splits-body"), ...(rep.splits.length ? rep.splits.map((s) => {
      elapsed += s.elapsed_s;
      return h("tr", { dataset: { split: s.split } }, h("td", {}, s.split),
               h("td", { class: "num" }, fmtS(s.elapsed_s), marks(s)),
               h("td", { class: "num" }, fmtS(elapsed)));
    }) : [h("tr", {}, h("td", { colspan: 3, class: "empty" }, "waiting for the first gate…"))]));
    const out = part("rep-outcome");
    out.className = "outcome";
    if (!rep.outcome) {
      out.textContent = rep.cue ? `Cue given: ${rep.cue}` : "";
      return;
    }
    const o = rep.outcome;
    out.classList.add(o.state === "finished" ? "good" : "bad");
    if (o.state !== "finished") {
      out.textContent = `${fmtState(o.state).replace(/^./, (c) => c.toUpperCase())}${o.reason ? ": " + o.reason : ""}`;
      return;
    }
    clear(out, `Finished: ${fmtS(o.total_s)}`, ...marks({ ...o, coarse: rep.splits.some((s) => s.coarse) }));
  }

  function renderRetime() {
    const can = retimable(rep);
    const runId = can ? rep.run_id : null;
    if (retimeRun !== runId) {
      // Another rep: nothing said yet, and a rule other than the one it was timed with.
      retimeRun = runId;
      part("retime-status").hidden = true;
      if (can) {
        const rule = rep.splits.find((s) => s.crossing).crossing.rule;
        const other = [...part("retime-rule").options].find((o) => o.value !== rule);
        if (other) part("retime-rule").value = other.value;
      }
    }
    part("retime-form").hidden = !can;
  }

  async function retime(ev) {
    ev.preventDefault();
    const shown = rep;
    const button = part("retime-button");
    if (!retimable(shown) || button.disabled) return;
    const trigger = part("retime-rule").value;
    const status = part("retime-status");
    button.disabled = true;
    try {
      // A refusal (409: a signal start, a one-beam rep for a two-beam rule...) says why here.
      const answer = await guarded(() => post(`/api/runs/${shown.run_id}/rederive`, { trigger }), status);
      if (answer === undefined) {
        status.classList.add("bad");
        return;
      }
      // The answer has the new total; the audit entry it made has the splits before and after.
      const entry = await get(`/api/runs/${shown.run_id}/corrections`)
        .then((log) => log.filter((c) => c.action === "rederive").pop() || null, () => null);
      const said = applyRetime(shown, trigger, answer, entry);
      if (rep !== shown) {
        notify(said); // the next rep is up meanwhile
        return;
      }
      render();
      status.textContent = said;
      status.classList.remove("bad");
      status.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  part("retime-form").addEventListener("submit", retime);

  return {
    render,
    /** Another session is opened: its rep is not this one (shown at the next render). */
    forget() {
      rep = null;
    },
    /** The rep now armed (the session's next step): shown before its first gate. */
    arm(athlete, drill) {
      rep = newRep(athlete, drill);
      render();
    },
    onSplit(msg) {
      if (!rep || (rep.run_id && rep.run_id !== msg.run_id) || rep.outcome) {
        rep = newRep(msg.athlete, msg.drill, msg.rep, msg.run_id);
      }
      Object.assign(rep, { run_id: msg.run_id, rep: msg.rep, drill: msg.drill });
      rep.splits.push({
        split: msg.split, elapsed_s: msg.elapsed_s, cross_device_error_s: msg.cross_device_error_s,
        manual: msg.manual, coarse: msg.coarse, crossing: msg.crossing,
      });
      render();
    },
    onRun(msg) {
      if (!rep || (rep.run_id && rep.run_id !== msg.run_id)) {
        rep = newRep(msg.athlete, msg.drill, msg.rep, msg.run_id);
      }
      Object.assign(rep, { run_id: msg.run_id, rep: msg.rep, outcome: msg });
      render();
    },
    /** A reactive cue was given to the rep under way (none: nothing to say it of). */
    onCue(msg) {
      if (!rep) return;
      rep.cue = msg.target;
      render();
    },
  };
}
