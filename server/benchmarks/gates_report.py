"""The gates benchmark's section of docs/BENCHMARKS.md: a run's result (server/benchmarks/
gates.py) in Markdown. Only words and tables here; every figure comes from the result."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, Final

from server.benchmarks.common import JsonDict
from server.benchmarks.gates import (
    KINDS,
    RUNNING_KINDS,
    TARGET_KINDS,
    TARGET_RULES,
    TWO_BEAM_RULES,
    against_target,
)
from server.benchmarks.gates_live import LATENCY_TARGET_MS

LABELS: Final = {
    "backward": "Backward runs",
    "lateral": "Lateral shuffles",
    "forward": "Forward sprints",
    "retro-walk": "Retro walking",
}
RULE_WORDS: Final = {
    "first_break": "first-break",
    "longest_break": "longest-break",
    "dual_beam": "dual-beam",
    "dual_longest": "dual-longest",
}
# Keys of a pair's figures per two-beam rule: (both beams before the torso, by what, extra).
TWO_KEYS: Final = {
    "dual_beam": ("before_torso_pct", "before_torso_by", "extra_pct"),
    "dual_longest": (
        "dual_longest_before_torso_pct", "dual_longest_before_torso_by", "dual_longest_extra_pct",
    ),
}  # fmt: skip


def _met(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def _ms(value: float | None) -> str:
    return "–" if value is None or math.isinf(value) else f"{value:.1f}"


def _m(height: float) -> str:
    return f"{height:.1f} m"


def _heights(pair: Sequence[float]) -> str:
    return f"{pair[1]:.1f} + {pair[0]:.1f} m"


def _where(heights: float | Sequence[float]) -> str:
    return _m(heights) if isinstance(heights, float | int) else _heights(heights)


def _speeds(kind: str) -> str:
    low, high = KINDS[kind][1]
    return f"{low:g}-{high:g} m/s"


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96, break_long_words=False, break_on_hyphens=False)


def _item(text: str) -> str:
    return "- " + _wrap(text).replace("\n", "\n  ")


def _mark(cfg: JsonDict, heights: float | Sequence[float]) -> str:
    """The sweep's row label: which heights are the defaults and which the previous ones."""
    single = not isinstance(heights, Sequence)
    if heights == (cfg["default_single_m"] if single else cfg["default_pair_m"]):
        return f"{_where(heights)} (default)"
    if heights == (cfg["published_single_m"] if single else cfg["published_pair_m"]):
        return f"{_where(heights)} (previous default)"
    return _where(heights)


def _default_table(r: JsonDict) -> str:
    cfg = r["config"]
    out = [
        "| drill | rule | crossings | p50 (ms) | p95 (ms) | max (ms) | missed | extra crossings |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    one, two = _m(cfg["default_single_m"]), _heights(cfg["default_pair_m"])
    window = cfg["window_ms"]
    for kind, k in r["kinds"].items():
        single, dual = k["default"]["single"], k["default"]["dual"]
        rows = [
            (f"first-break, {one} (baseline)", single["first_break"], single["first_extra_pct"]),
            (f"longest-break, {one}, {window} ms window", single["longest_break"],
             single["longest_extra_pct"]),
            ("single-beam limit (the torso's merged break)", single["single_beam_limit"], None),
            (f"dual-beam, {two}", dual["dual_beam"], dual["extra_pct"]),
            (f"dual-longest, {two}, {window} ms window", dual["dual_longest"],
             dual["dual_longest_extra_pct"]),
        ]  # fmt: skip
        for i, (rule, s, extra) in enumerate(rows):
            drill = f"{LABELS[kind]}, {_speeds(kind)}" if i == 0 else ""
            extra_cell = "" if extra is None else f"{extra:g} %"
            out.append(
                f"| {drill} | {rule} | {s['crossings']} | {_ms(s['p50_ms'])} | {_ms(s['p95_ms'])}"
                f" | {_ms(s['max_ms'])} | {s['missed']} | {extra_cell} |"
            )
    return "\n".join(out)


def _parts_words(top: list[list[Any]]) -> str:
    return ", ".join(f"{name} {pct:g} %" for name, pct in top) or "none"


def _causes_table(r: JsonDict) -> str:
    cfg = r["config"]
    out = [
        f"| drill | torso merged with a limb, {_m(cfg['default_single_m'])} | begun by |"
        f" dual-beam before the torso, {_heights(cfg['default_pair_m'])}"
        " | broken by (top / bottom) | dual-longest before the torso"
        " | in the beams (top / bottom) |",
        "|---|---:|---|---:|---|---:|---|",
    ]
    for kind, k in r["kinds"].items():
        single, dual = k["default"]["single"], k["default"]["dual"]
        cells = [LABELS[kind], f"{single['merged_pct']:g} %", _parts_words(single["merged_with"])]
        for rule in TWO_BEAM_RULES:
            pct, by, _ = TWO_KEYS[rule]
            cells += [f"{dual[pct]:g} %", _parts_words(dual[by][:3])]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _verdict(ok: bool, targeted: bool) -> str:
    return _met(ok) if targeted else f"no target ({'within' if ok else 'over'})"


def _target_table(r: JsonDict) -> str:
    """Each target at the default heights and at the drill's best heights in the sweep; the
    forward sprints against the same figures, though the issue sets them no target."""
    out = [
        "| rule, target | drill | default heights | p95 (ms) | at the default heights"
        " | the drill's best heights | p95 (ms) | at the best heights |",
        "|---|---|---|---:|---|---|---:|---|",
    ]
    for rule, (_, limit) in TARGET_RULES.items():
        for i, kind in enumerate([*TARGET_KINDS, "forward"]):
            if kind not in r["kinds"]:
                continue
            t = r["targets"].get(f"{kind}_{rule}_p95") or against_target(r["kinds"][kind], rule)
            targeted = kind in TARGET_KINDS
            head = f"{RULE_WORDS[rule]}, p95 <= {limit:g} ms" if i == 0 else ""
            out.append(
                f"| {head} | {LABELS[kind].lower()} | {_where(t['heights_m'])}"
                f" | {_ms(t['measured_p95_ms'])} | {_verdict(t['met'], targeted)}"
                f" | {_where(t['best_heights_m'])} | {_ms(t['best_measured_p95_ms'])}"
                f" | {_verdict(t['best_met'], targeted)} |"
            )
    return "\n".join(out)


def _target_words(r: JsonDict) -> str:
    limits = ", ".join(
        f"{_ms(r['kinds'][kind]['default']['single']['single_beam_limit']['p95_ms'])} ms ({kind})"
        for kind in TARGET_KINDS
    )
    return (
        "The issue's targets (issue 14) are for backward and lateral drills; the dual-beam one "
        "holds for both two-beam rules. A coach sets gate heights per drill, so each target is "
        "judged at the default heights (the command's exit status follows these) and at the "
        "drill's best heights in the sweep below. On one beam the limit is the torso's merged "
        f"break: its p95 is {limits} at {_m(r['config']['default_single_m'])}, whatever the rule."
    )


def _sweep_tables(r: JsonDict) -> str:
    cfg, kinds = r["config"], list(r["kinds"])
    head = " | ".join(LABELS[k].lower() for k in kinds) + " |"
    rule = "|---|" + "---:|" * len(kinds)
    singles = [f"| one beam at | {head}", rule]
    for i, height in enumerate(cfg["heights_m"]):
        cells = []
        for kind in kinds:
            s = r["kinds"][kind]["sweep"]["single"][i]
            cells.append(f"{_ms(s['longest_break']['p95_ms'])} ({_ms(s['first_break']['p95_ms'])})")
        singles.append(f"| {_mark(cfg, height)} | " + " | ".join(cells) + " |")
    tables = ["\n".join(singles)]
    for two in TWO_BEAM_RULES:
        pct = TWO_KEYS[two][0]
        rows = [f"| {RULE_WORDS[two]} at | {head}", rule]
        for i, pair in enumerate(cfg["pairs_m"]):
            cells = []
            for kind in kinds:
                d = r["kinds"][kind]["sweep"]["dual"][i]
                cells.append(f"{_ms(d[two]['p95_ms'])} ({d[pct]:g} %)")
            rows.append(f"| {_mark(cfg, pair)} | " + " | ".join(cells) + " |")
        tables.append("\n".join(rows))
    return "\n\n".join(tables)


def _worst_first(p95_ms: float | None) -> float:
    """A sort key: a p95 that found nothing is the worst."""
    return math.inf if p95_ms is None else p95_ms


def _options(k: JsonDict) -> list[tuple[str, str, float | None]]:
    """Every (rule, heights, p95) of the sweep, the lowest p95 first."""
    sweep = k["sweep"]
    options: list[tuple[str, str, float | None]] = []
    for s in sweep["single"]:
        for rule in ("first_break", "longest_break"):
            options.append((rule, _m(s["height_m"]), s[rule]["p95_ms"]))
    for d in sweep["dual"]:
        for rule in TWO_BEAM_RULES:
            options.append((rule, _heights(d["heights_m"]), d[rule]["p95_ms"]))
    return sorted(options, key=lambda o: _worst_first(o[2]))


def _kind_words(r: JsonDict, kind: str) -> str:
    cfg, k = r["config"], r["kinds"][kind]
    single, dual = k["default"]["single"], k["default"]["dual"]
    options = _options(k)
    one = next(o for o in options if o[0] not in TWO_BEAM_RULES)
    twos = [next(o for o in options if o[0] == rule) for rule in TWO_BEAM_RULES]
    two_words = ", ".join(f"{RULE_WORDS[o[0]]} at {o[1]} ({_ms(o[2])} ms)" for o in sorted(
        twos, key=lambda o: _worst_first(o[2])
    ))  # fmt: skip
    text = (
        f"**{LABELS[kind]}** ({_speeds(kind)}): on one beam {RULE_WORDS[one[0]]} at {one[1]} "
        f"(p95 {_ms(one[2])} ms); on two beams {two_words}. At the default heights: "
        f"first-break {_ms(single['first_break']['p95_ms'])}, longest-break "
        f"{_ms(single['longest_break']['p95_ms'])}, dual-beam {_ms(dual['dual_beam']['p95_ms'])}, "
        f"dual-longest {_ms(dual['dual_longest']['p95_ms'])} ms."
    )
    if single["merged_pct"] >= 20:
        text += (
            f" At {_m(cfg['default_single_m'])} a limb began the torso's own break in "
            f"{single['merged_pct']:g} % of passes ({_parts_words(single['merged_with'][:2])})."
        )
    for rule in TWO_BEAM_RULES:
        pct, by, _ = TWO_KEYS[rule]
        if dual[pct] >= 10:
            text += (
                f" At {_heights(cfg['default_pair_m'])} {RULE_WORDS[rule]} crossed before the "
                f"torso in {dual[pct]:g} % of passes (in the beams, top / bottom: "
                f"{_parts_words(dual[by][:2])})."
            )
    extras = [single["first_extra_pct"], single["longest_extra_pct"]]
    extras += [dual[TWO_KEYS[rule][2]] for rule in TWO_BEAM_RULES]
    if max(extras) > 0:
        text += (
            f" A slow body can still be in the gate when the {cfg['rearm_ms']} ms re-arm "
            f"ends, and then counts twice ({max(extras):g} % of passes at the default heights): "
            f"give this drill a longer re-arm."
        )
    return _item(text)


def _guide(r: JsonDict) -> str:
    """Which rule suits which drill, in words, from this run's figures."""
    lines = [_kind_words(r, kind) for kind in r["kinds"]]
    running = [k for k in RUNNING_KINDS if k in r["kinds"]]
    if running:
        cfg = r["config"]
        i, pairs = _one_setting(r, running)
        singles = " / ".join(
            _ms(r["kinds"][k]["sweep"]["single"][i]["longest_break"]["p95_ms"]) for k in running
        )
        twos = []
        for rule, j in zip(TWO_BEAM_RULES, pairs, strict=True):
            p95s = " / ".join(
                _ms(r["kinds"][k]["sweep"]["dual"][j][rule]["p95_ms"]) for k in running
            )
            twos.append(f"{RULE_WORDS[rule]} at {_heights(cfg['pairs_m'][j])} ({p95s} ms)")
        lines.append(
            _item(
                f"**One setting for all running drills** (the lowest mean p95 over "
                f"{', '.join(running)}): longest-break at {_m(cfg['heights_m'][i])} "
                f"({singles} ms), {', '.join(twos)}."
            )
        )
    return "\n".join(lines)


def _one_setting(r: JsonDict, kinds: Sequence[str]) -> tuple[int, list[int]]:
    """Indexes of the height (longest-break) and of the pair per two-beam rule with the lowest
    mean p95 over `kinds`: for a coach with one set of gates for several drills."""
    sweeps = [r["kinds"][k]["sweep"] for k in kinds]

    def mean(values: Iterable[float | None]) -> float:
        return sum(_worst_first(v) for v in values) / len(kinds)

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
    setup = _wrap(
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
        "" if target is None else "\n\n" + _wrap(
            f"Target: every split on the feed within the window + {LATENCY_TARGET_MS:g} ms of "
            f"its first break: {_met(target['met'])} (at most {after['max_ms']:.1f} ms after "
            f"the window)."
        )
    )  # fmt: skip
    return setup + "\n\n" + "\n".join(rows) + verdict


def render_markdown(r: JsonDict) -> str:
    """The section of docs/BENCHMARKS.md for one run."""
    cfg = r["config"]
    kinds = ", ".join(f"{LABELS[k].lower()} {_speeds(k)}" for k in r["kinds"])
    low, high = cfg["pair_spacing_m"]
    setup = _wrap(
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
    sweep_words = _wrap(
        "Beam heights: p95 (ms) of longest-break on one beam (first-break's in brackets), then "
        "of dual-beam and of dual-longest on a pair (in brackets: passes the rule crossed "
        "before the torso). `–`: more than 5 % of passes found nothing. `(default)`: "
        "hardware/sim/body.py's heights; `(previous default)`: the heights it used before, "
        f"{_m(cfg['published_single_m'])} (the height of Altmann et al. 2017) and "
        f"{_heights(cfg['published_pair_m'])} (an assumed spacing), kept for comparison."
    )
    return f"""{setup}

Command: `python -m bench --only gates` (or `agility bench gates --json`)

At the default heights (hardware/sim/body.py: one beam at {_m(cfg["default_single_m"])}, two at
{_heights(cfg["default_pair_m"])}):

{_default_table(r)}

Why a rule misses, at the default heights:

{_causes_table(r)}

{_wrap(_target_words(r))}

{_target_table(r)}

{sweep_words}

{_sweep_tables(r)}

Which rule suits which drill, by these figures:

{_guide(r)}

{_live_md(r)}
"""
