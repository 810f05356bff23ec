"""The stations benchmark in words: the Markdown section of docs/BENCHMARKS.md and the short
table `python -m bench run stations` prints (the figures are made in bench/stations/)."""

from __future__ import annotations

from typing import Any

from bench.common import JsonDict
from bench.markdown import met
from bench.stations.figures import LATENCY_TARGET_MS, SPLIT_TOLERANCE_US


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def _scenarios(result: JsonDict) -> list[tuple[str, JsonDict]]:
    out = [(f"{len(result['stations']['stations'])} stations", result["stations"])]
    if result["baseline"] is not None:
        out.append(("baseline: 1 lane", result["baseline"]))
    if result["overtakes"] is not None:
        out.append(("overtakes: 1 lane", result["overtakes"]))
    return out


def _checks_table(result: JsonDict) -> str:
    rows = [
        "| scenario | athletes | reps finished | crossings | wrong assignments | splits off"
        " truth | max split error (ms) | flags | refused starts | most on one course |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in _scenarios(result):
        error = s["split_error_max_ms"]
        rows.append(
            f"| {name} | {s['athletes']} | {s['finished']} of {s['reps']} | {s['crossings']}"
            f" | {s['wrong_assignments']} | {s['splits_off_truth']} of {s['splits']}"
            f" | {'-' if error is None else f'{error:.3f}'} | {s['flags']} | {s['refused']}"
            f" | {max((st['max_on_course'] for st in s['stations']), default=0)} |"
        )
    return "\n".join(rows)


def _latency_table(result: JsonDict) -> str:
    rows = ["| scenario | splits | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |",
            "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    main = result["stations"]
    lines = [
        (f"{len(main['stations'])} stations at once, all splits", main["latency"]),
        ("... on the sprint lanes (overlapping starts)", main["latency_lanes"]),
        ("... on the one-at-a-time stations", main["latency_single"]),
    ]
    if result["baseline"] is not None:
        lines.append(("baseline: the first sprint lane alone", result["baseline"]["latency"]))
    if result["overtakes"] is not None:
        lines.append(("overtakes: one sprint lane", result["overtakes"]["latency"]))
    for what, s in lines:
        rows.append(
            f"| {what} | {s['splits']} | {_ms(s['p50_ms'])} | {_ms(s['p95_ms'])}"
            f" | {_ms(s['p99_ms'])} | {_ms(s['max_ms'])} |"
        )
    return "\n".join(rows)


def _stations_table(main: JsonDict) -> str:
    rows = [
        "| station (drill) | starts | reps | most on course | closest starts (s) | flags"
        " | p50 (ms) | p99 (ms) | max (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for st in main["stations"]:
        how = f"overlapping, spacing {st['spacing_s']:g} s" if st["overlap"] else "one at a time"
        gap = st["start_gap_min_s"]
        lat = st["latency"]
        rows.append(
            f"| {st['name']} | {how} | {st['reps']} | {st['max_on_course']}"
            f" | {'-' if gap is None else f'{gap:.2f}'} | {st['flags']} | {_ms(lat['p50_ms'])}"
            f" | {_ms(lat['p99_ms'])} | {_ms(lat['max_ms'])} |"
        )
    return "\n".join(rows)


def _overtakes_text(o: JsonDict | None) -> str:
    if o is None:
        return "Overtakes: not run."
    rows = [
        "| passed athlete | 0-10 m, 10-20 m (s) | overtaker | 0-10 m, 10-20 m (s)"
        " | finishes apart (s) | flagged |",
        "|---|---:|---|---:|---:|---|",
    ]
    for x in o["overtakes"]:
        passed, by = x["passed_splits_s"], x["by_splits_s"]
        rows.append(
            f"| {x['passed']} ({x['kind']}) | {passed[0]:.2f}, {passed[1]:.2f} | {x['by']}"
            f" | {by[0]:.2f}, {by[1]:.2f} | {x['finish_gap_s']:.2f}"
            f" | {'yes' if x['flagged'] else '**no**'} |"
        )
    kinds = "; ".join(
        f"{kind}: {k['flagged']} of {k['overtakes']}" for kind, k in o["by_kind"].items()
    )
    total = len(o["overtakes"])
    return f"""**Overtakes.** One sprint-20m lane, spacing as above, starts every 5 s; {total}
athletes are passed between the 10 m gate and the finish by the athlete who set off 5 s after
them (the overtaker at full speed). Two kinds of passed athlete, with 20 m in 9.3-9.7 s: a
steady jogger (`steady-jog`, even pace) and one who sprints to the 10 m gate, then pulls up and
walks in (`pulls-up`). First in, first out per gate gives each passed athlete the overtaker's
finish and the overtaker theirs: {o["wrong_assignments"]} wrong crossings in
{o["reps_wrong"]} reps ({o["true_passes"]} true passes), as designed. What the coach sees is
the flag (on the live feed, and on the station's card to Keep or Swap):
{o["flagged"]} of {total} overtakes were flagged ({kinds};
{o["flags"]} flags in all, {o["flags_elsewhere"]} on reps with no pass).

{chr(10).join(rows)}{_why_unflagged(o)}"""


def _why_unflagged(o: JsonDict) -> str:
    missed = [x for x in o["overtakes"] if not x["flagged"]]
    if not missed:
        return ""
    kinds = {x["kind"] for x in missed}
    which = " and ".join(
        text
        for kind, text in (
            ("pulls-up", "the athletes here who pulled up and were not flagged"),
            ("steady-jog", "the joggers here who were not flagged"),
        )
        if kind in kinds
    )
    return f"""

Why a pass goes unflagged: the pass check (drills/overlap.py) scores each way of giving the
crossings to the runners twice: by how far the runners' pace changes since their last gate
spread around their median (a change both share cancels out), and by how far they are from
the lane's usual change at that gate (the other runners'), which shows one runner alone
slowing. A near tie fits either way, and before anyone else has crossed the gate only the
first score exists, which cannot tell a runner who pulled up from two who both slowed; so it
went for {which}. The coach then sees two wrong times with no warning, here on passes whose
finishes were {min(x["finish_gap_s"] for x in missed):.2f} s or more apart."""


def _problems(result: JsonDict) -> str:
    """Sessions that did not finish and reps that did not: none expected, each named."""
    out = []
    for name, s in _scenarios(result):
        sessions = s["sessions"]
        ended = sum(x["state"] == "finished" for x in sessions)
        stuck = [f"{x['station']} round {x['round']}: {x['state']}, {x['problem']}"
                 for x in sessions if x["state"] != "finished"]  # fmt: skip
        reps = [f"{r['station']} {r['athlete']}: {r['state']} ({r['reason']})"
                for r in s["not_finished"]]  # fmt: skip
        out.append(f"{ended} of {len(sessions)} ({name.split(':')[0]}"
                   + "".join(f"; {p}" for p in stuck + reps) + ")")  # fmt: skip
    return "Plan sessions finished: " + ", ".join(out) + "."


def _slow_note(x: JsonDict) -> str:
    notes = [x["station"], x["split"], f"{x['at_s']:.0f} s in"]
    if x["sessions_starting"]:
        notes.append(f"{x['sessions_starting']} session(s) starting meanwhile")
    if x["full_gc_ms"]:
        notes.append(f"a full GC pass took {x['full_gc_ms']:.0f} ms of it")
    return ", ".join(notes)


def render_markdown(result: JsonDict) -> str:
    cfg, main = result["config"], result["stations"]
    targets = result["targets"]
    lanes = [st for st in main["stations"] if st["overlap"]]
    single = [st for st in main["stations"] if not st["overlap"]]
    slow = ", ".join(f"{x['latency_ms']:.1f} ms ({_slow_note(x)})" for x in main["slowest"])
    gc_passes = main["full_gc"]
    base = result["baseline"]
    base_text = (
        "not run"
        if base is None
        else f"{base['settle_s']:.0f} s to settle, {base['timed_s']:.0f} s of reps,"
        f" CPU {base['cpu_percent']} %"
    )
    every = cfg["start_every_s"]
    spans = [st["rep_s"] for st in lanes if st["rep_s"]]
    lane_s = f"{min(x[0] for x in spans):.1f}-{max(x[1] for x in spans):.1f} s" if spans else "-"
    return f"""A testing day on one server process: {len(main["stations"])} stations at once,
each on its own simulated hub (a real pseudo-terminal, 1-16 ms USB latency per frame, clock
drift within ±{cfg["drift_ppm"]:g} ppm) through the real driver, the real `Stations` (one
`RunCoordinator` each), the recorder on an SQLite file and the `LiveHub`. Sprint lanes
({", ".join(st["drill"] for st in lanes) or "none"}) take a minimum start spacing of
{cfg["spacing_s"]:g} s: the next athlete sets off every {every:g} s while the last is still
running, and crossings are assigned first in first out per gate (`drills/overlap.py` through
`server/runs/course_lane.py`). Three athletes on one lane at once would take a rep longer than
{2 * every:g} s; these took {lane_s}. The change-of-direction stations
({", ".join(st["drill"] for st in single) or "none"}) have no start spacing and run one
athlete at a time (a 505 passes its one gate twice, which a shared course refuses anyway).
{main["athletes"]} athletes in one group per station, {cfg["rounds"]} round(s), each group
moving on to the next station; athletes are called up by plan sessions
(`PlanService.schedule(..., station=...)`, countdown {cfg["countdown_s"]:g} s x
{cfg["time_scale"]:g}). The harness watches each station's coordinator and schedules an
athlete's beam breaks on the hub as soon as they are armed: one clean break per crossing, at
1 to {cfg["slowest"]:g} times the body model's times, so faster athletes often start after
slower ones, but {every:g} s apart none catches up on these lanes.

Checked against the simulator's truth: every crossing a rep took (by its device event number)
must be the athlete's own at that gate, else it counts as a wrong assignment; every split of a
finished rep must equal the truth within {SPLIT_TOLERANCE_US / 1000:g} ms. Split to phone: a
page's queue on the `LiveHub` stamps each split message's arrival; latency is that minus the
true time of the beam break that ended the split (USB, driver, raw event stored, engine, split
committed, published). The baseline is the same measure on the first sprint lane alone, in
the same run.

Command: `python -m bench --only stations` (or `python -m bench run stations --json`)

{_checks_table(result)}

{_problems(result)}

{_latency_table(result)}

{len(main["stations"])} stations: {main["settle_s"]:.0f} s for every hub's clock to settle,
then {main["timed_s"]:.0f} s of reps; process CPU {main["cpu_percent"]} % of one core (the
simulated hubs run in this process too). The start-up heap is frozen first, as `agility serve`
does (server/heap.py); full garbage-collector passes during the reps: {gc_passes["passes"]}
(longest {gc_passes["max_ms"]:.0f} ms). Splits over {LATENCY_TARGET_MS:g} ms:
{main["latency_over_target"]}; slowest: {slow or "-"}. Baseline: {base_text}.

{_stations_table(main)}

{_overtakes_text(result["overtakes"])}

Targets ({len(main["stations"])} stations): every crossing assigned correctly and every split
within {SPLIT_TOLERANCE_US / 1000:g} ms of the truth: {met(targets["assigned_correctly"]["met"])};
split to phone p99 <= {LATENCY_TARGET_MS:g} ms: {met(targets["split_to_phone_p99"]["met"])}
({_ms(targets["split_to_phone_p99"]["measured_ms"])} ms); no flag, refused start or unassigned
crossing: {met(targets["no_flags_or_refusals"]["met"])}.
"""


def render_text(result: JsonDict) -> str:
    """`python -m bench run stations` without --json."""
    lines = [
        f"{'scenario':<20} {'reps':>9} {'wrong':>6} {'off':>5} {'flags':>6} {'refused':>8}"
        f" {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    ]
    for name, s in _scenarios(result):
        lat = s["latency"]
        lines.append(
            f"{name:<20} {s['finished']:>4} of {s['reps']:<2} {s['wrong_assignments']:>6}"
            f" {s['splits_off_truth']:>5} {s['flags']:>6} {s['refused']:>8}"
            f" {_ms(lat['p50_ms']):>8} {_ms(lat['p99_ms']):>8} {_ms(lat['max_ms']):>8}"
        )
    overtakes = result["overtakes"]
    if overtakes is not None:
        kinds = ", ".join(
            f"{kind} {k['flagged']} of {k['overtakes']}" for kind, k in overtakes["by_kind"].items()
        )
        lines.append(f"overtakes flagged: {overtakes['flagged']} of"
                     f" {len(overtakes['overtakes'])} ({kinds})")  # fmt: skip
    for name, t in result["targets"].items():
        lines.append(f"{name}: {'met' if t['met'] else 'NOT MET'}")
    return "\n".join(lines)
