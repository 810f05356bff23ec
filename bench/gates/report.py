"""The gates benchmark's section of docs/BENCHMARKS.md: a run's result (bench/gates/run.py) in
Markdown. Only words and tables here; every figure comes from the result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bench.common import JsonDict
from bench.gates.config import RUNNING_KINDS, TWO_BEAM_RULES
from bench.gates.live import LATENCY_TARGET_MS
from bench.gates.report_format import (
    LABELS,
    RULE_WORDS,
    TWO_KEYS,
    m_text,
    ms_text,
    pair_text,
    parts_text,
    speeds_text,
    worst_first,
)
from bench.gates.report_tables import (
    causes_table,
    default_table,
    sweep_tables,
    target_table,
    target_words,
)
from bench.markdown import item, met, wrap


def _options(k: JsonDict) -> list[tuple[str, str, float | None]]:
    """Every (rule, heights, p95) of the sweep, the lowest p95 first."""
    sweep = k["sweep"]
    options: list[tuple[str, str, float | None]] = []
    for s in sweep["single"]:
        for rule in ("first_break", "longest_break"):
            options.append((rule, m_text(s["height_m"]), s[rule]["p95_ms"]))
    for d in sweep["dual"]:
        for rule in TWO_BEAM_RULES:
            options.append((rule, pair_text(d["heights_m"]), d[rule]["p95_ms"]))
    return sorted(options, key=lambda o: worst_first(o[2]))


def _kind_words(r: JsonDict, kind: str) -> str:
    cfg, k = r["config"], r["kinds"][kind]
    single, dual = k["default"]["single"], k["default"]["dual"]
    options = _options(k)
    one = next(o for o in options if o[0] not in TWO_BEAM_RULES)
    twos = [next(o for o in options if o[0] == rule) for rule in TWO_BEAM_RULES]
    two_words = ", ".join(f"{RULE_WORDS[o[0]]} at {o[1]} ({ms_text(o[2])} ms)" for o in sorted(
        twos, key=lambda o: worst_first(o[2])
    ))  # fmt: skip
    text = (
        f"**{LABELS[kind]}** ({speeds_text(kind)}): on one beam {RULE_WORDS[one[0]]} at {one[1]} "
        f"(p95 {ms_text(one[2])} ms); on two beams {two_words}. At the default heights: "
        f"first-break {ms_text(single['first_break']['p95_ms'])}, longest-break "
        f"{ms_text(single['longest_break']['p95_ms'])}, dual-beam "
        f"{ms_text(dual['dual_beam']['p95_ms'])}, "
        f"dual-longest {ms_text(dual['dual_longest']['p95_ms'])} ms."
    )
    if single["merged_pct"] >= 20:
        text += (
            f" At {m_text(cfg['default_single_m'])} a limb began the torso's own break in "
            f"{single['merged_pct']:g} % of passes ({parts_text(single['merged_with'][:2])})."
        )
    for rule in TWO_BEAM_RULES:
        pct, by, _ = TWO_KEYS[rule]
        if dual[pct] >= 10:
            text += (
                f" At {pair_text(cfg['default_pair_m'])} {RULE_WORDS[rule]} crossed before the "
                f"torso in {dual[pct]:g} % of passes (in the beams, top / bottom: "
                f"{parts_text(dual[by][:2])})."
            )
    extras = [single["first_extra_pct"], single["longest_extra_pct"]]
    extras += [dual[TWO_KEYS[rule][2]] for rule in TWO_BEAM_RULES]
    if max(extras) > 0:
        text += (
            f" A slow body can still be in the gate when the {cfg['rearm_ms']} ms re-arm "
            f"ends, and then counts twice ({max(extras):g} % of passes at the default heights): "
            f"give this drill a longer re-arm."
        )
    return item(text)


def _guide(r: JsonDict) -> str:
    """Which rule suits which drill, in words, from this run's figures."""
    lines = [_kind_words(r, kind) for kind in r["kinds"]]
    running = [k for k in RUNNING_KINDS if k in r["kinds"]]
    if running:
        cfg = r["config"]
        i, pairs = _one_setting(r, running)
        singles = " / ".join(
            ms_text(r["kinds"][k]["sweep"]["single"][i]["longest_break"]["p95_ms"]) for k in running
        )
        twos = []
        for rule, j in zip(TWO_BEAM_RULES, pairs, strict=True):
            p95s = " / ".join(
                ms_text(r["kinds"][k]["sweep"]["dual"][j][rule]["p95_ms"]) for k in running
            )
            twos.append(f"{RULE_WORDS[rule]} at {pair_text(cfg['pairs_m'][j])} ({p95s} ms)")
        lines.append(
            item(
                f"**One setting for all running drills** (the lowest mean p95 over "
                f"{', '.join(running)}): longest-break at {m_text(cfg['heights_m'][i])} "
                f"({singles} ms), {', '.join(twos)}."
            )
        )
    return "\n".join(lines)


def _one_setting(r: JsonDict, kinds: Sequence[str]) -> tuple[int, list[int]]:
    """Indexes of the height (longest-break) and of the pair per two-beam rule with the lowest
    mean p95 over `kinds`: for a coach with one set of gates for several drills."""
    sweeps = [r["kinds"][k]["sweep"] for k in kinds]

    def mean(values: Iterable[float | None]) -> float:
        return sum(worst_first(v) for v in values) / len(kinds)

    single = [
        mean(s["single"][i]["longest_break"]["p95_ms"] for s in sweeps)
        for i in range(len(r["config"]["heights_m"]))
    ]
    pairs = []
    for rule in TWO_BEAM_RULES:
        dual = [
            mean(s["dual"][j][rule]["p95_ms"] for s in sweeps)
            for j in range(len(r["config"]["pairs_m"]))
        ]
        pairs.append(dual.index(min(dual)))
    return single.index(min(single)), pairs


def _live_md(r: JsonDict) -> str:
    live = r["live"]
    if live is None:
        return "Live latency: not run (no lanes)."
    after, first = live["after_window"], live["after_first_break"]
    target = r["targets"].get("live_after_window")
    rows = [
        "| figure | what it is | splits | min (ms) | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, what, s in (
        ("after the window", "on the feed - (true first break + window)", after),
        ("after the first break", "on the feed - true first break", first),
    ):
        rows.append(
            f"| {name} | {what} | {s['splits']} | {s['min_ms']:.1f} | {s['p50_ms']:.1f}"
            f" | {s['p95_ms']:.1f} | {s['max_ms']:.1f} |"
        )
    cfg = r["config"]
    setup = wrap(
        f"Live: {live['lanes']} simulated hubs at once, each a lane of its own ("
        f"{', '.join(live['drills'])} in turn, {cfg['live_reps']} reps each, "
        f"{live['reps_finished']} of {live['reps']} finished), bodies breaking the beams, read "
        f"through pseudo-terminals (USB latency 1-16 ms a frame) by the real driver, "
        f"coordinator and recorder (SQLite) with longest-break on every gate; a page's queue on "
        f"the LiveHub stamps each split as it arrives. The coordinator decides a window no "
        f"later edge has closed {live['late_edge_wait_ms']:g} ms after it ends "
        f"(`LATE_EDGE_US`: edges still on their way), so that is the floor. The bodies' edges "
        f"are worked out in a thread (about 9 ms of CPU a pass): on the server's loop, the "
        f"simulator held other lanes' splits up to 120 ms."
    )
    verdict = (
        "" if target is None else "\n\n" + wrap(
            f"Target: every split on the feed within the window + {LATENCY_TARGET_MS:g} ms of "
            f"its first break: {met(target['met'])} (at most {after['max_ms']:.1f} ms after "
            f"the window)."
        )
    )  # fmt: skip
    return setup + "\n\n" + "\n".join(rows) + verdict


def render_markdown(r: JsonDict) -> str:
    """The section of docs/BENCHMARKS.md for one run."""
    cfg = r["config"]
    kinds = ", ".join(f"{LABELS[k].lower()} {speeds_text(k)}" for k in r["kinds"])
    low, high = cfg["pair_spacing_m"]
    setup = wrap(
        f"Virtual athletes with whole bodies (hardware/sim/body.py; sources and assumptions in "
        f"docs/BODY-MODEL.md) cross a gate, {cfg['crossings']} crossings "
        f"per drill kind at speeds drawn uniformly: {kinds}. Each crossing is simulated once "
        f"at every beam height from {cfg['heights_m'][0]:g} to {cfg['heights_m'][-1]:g} m, so "
        f"every rule and height sees the same bodies and strides, and its edges go through a "
        f"real `CrossingDetector` per rule (re-arm {cfg['rearm_ms']} ms): first-break and "
        f"longest-break on each height, dual-beam and dual-longest on each pair {low:g}-{high:g} "
        f"m apart. Error: |crossing - torso truth|, the torso's leading surface reaching the "
        f"gate plane. `missed`: passes with no crossing (counted as an infinite error); `extra "
        f"crossings`: passes the rule counted twice. The single-beam limit is the best any rule "
        f"reading one beam could do: when a limb ahead of the torso overlaps it in the beam, "
        f"the two make one break, which begins with the limb; on its row `missed` counts the "
        f"passes whose torso never reached the beam (a crotch above it). The figures follow "
        f"from the model's assumptions (arm carriage above all); they are not measurements of "
        f"athletes."
    )
    sweep_words = wrap(
        "Beam heights: p95 (ms) of longest-break on one beam (first-break's in brackets), then "
        "of dual-beam and of dual-longest on a pair (in brackets: passes the rule crossed "
        "before the torso). `–`: more than 5 % of passes found nothing. `(default)`: "
        "hardware/sim/body.py's heights; `(previous default)`: the heights it used before, "
        f"{m_text(cfg['published_single_m'])} (the height of Altmann et al. 2017) and "
        f"{pair_text(cfg['published_pair_m'])} (an assumed spacing), kept for comparison."
    )
    return f"""{setup}

Command: `python -m bench --only gates` (or `python -m bench run gates --json`)

At the default heights (hardware/sim/body.py: one beam at {m_text(cfg["default_single_m"])}, two at
{pair_text(cfg["default_pair_m"])}):

{default_table(r)}

Why a rule misses, at the default heights:

{causes_table(r)}

{wrap(target_words(r))}

{target_table(r)}

{sweep_words}

{sweep_tables(r)}

Which rule suits which drill, by these figures:

{_guide(r)}

{_live_md(r)}
"""
