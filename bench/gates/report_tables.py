"""The tables of the gates benchmark's section: the default heights, the causes of misses,
the targets, and the height sweep."""

from __future__ import annotations

from bench.common import JsonDict
from bench.gates.config import TARGET_KINDS, TARGET_RULES, TWO_BEAM_RULES
from bench.gates.figures import against_target
from bench.gates.report_format import (
    LABELS,
    RULE_WORDS,
    TWO_KEYS,
    m_text,
    ms_text,
    pair_text,
    parts_text,
    row_label,
    speeds_text,
    where_text,
)
from bench.markdown import met


def default_table(r: JsonDict) -> str:
    cfg = r["config"]
    out = [
        "| drill | rule | crossings | p50 (ms) | p95 (ms) | max (ms) | missed | extra crossings |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    one, two = m_text(cfg["default_single_m"]), pair_text(cfg["default_pair_m"])
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
            drill = f"{LABELS[kind]}, {speeds_text(kind)}" if i == 0 else ""
            extra_cell = "" if extra is None else f"{extra:g} %"
            out.append(
                f"| {drill} | {rule} | {s['crossings']} | {ms_text(s['p50_ms'])}"
                f" | {ms_text(s['p95_ms'])} | {ms_text(s['max_ms'])} | {s['missed']}"
                f" | {extra_cell} |"
            )
    return "\n".join(out)


def causes_table(r: JsonDict) -> str:
    cfg = r["config"]
    out = [
        f"| drill | torso merged with a limb, {m_text(cfg['default_single_m'])} | begun by |"
        f" dual-beam before the torso, {pair_text(cfg['default_pair_m'])}"
        " | broken by (top / bottom) | dual-longest before the torso"
        " | in the beams (top / bottom) |",
        "|---|---:|---|---:|---|---:|---|",
    ]
    for kind, k in r["kinds"].items():
        single, dual = k["default"]["single"], k["default"]["dual"]
        cells = [LABELS[kind], f"{single['merged_pct']:g} %", parts_text(single["merged_with"])]
        for rule in TWO_BEAM_RULES:
            pct, by, _ = TWO_KEYS[rule]
            cells += [f"{dual[pct]:g} %", parts_text(dual[by][:3])]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _verdict(ok: bool, targeted: bool) -> str:
    return met(ok) if targeted else f"no target ({'within' if ok else 'over'})"


def target_table(r: JsonDict) -> str:
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
                f"| {head} | {LABELS[kind].lower()} | {where_text(t['heights_m'])}"
                f" | {ms_text(t['measured_p95_ms'])} | {_verdict(t['met'], targeted)}"
                f" | {where_text(t['best_heights_m'])} | {ms_text(t['best_measured_p95_ms'])}"
                f" | {_verdict(t['best_met'], targeted)} |"
            )
    return "\n".join(out)


def target_words(r: JsonDict) -> str:
    limits = ", ".join(
        f"{ms_text(r['kinds'][kind]['default']['single']['single_beam_limit']['p95_ms'])} ms"
        f" ({kind})"
        for kind in TARGET_KINDS
    )
    return (
        "The issue's targets (issue 14) are for backward and lateral drills; the dual-beam one "
        "holds for both two-beam rules. A coach sets gate heights per drill, so each target is "
        "judged at the default heights (the command's exit status follows these) and at the "
        "drill's best heights in the sweep below. On one beam the limit is the torso's merged "
        f"break: its p95 is {limits} at {m_text(r['config']['default_single_m'])}, whatever the"
        " rule."
    )


def sweep_tables(r: JsonDict) -> str:
    cfg, kinds = r["config"], list(r["kinds"])
    head = " | ".join(LABELS[k].lower() for k in kinds) + " |"
    rule = "|---|" + "---:|" * len(kinds)
    singles = [f"| one beam at | {head}", rule]
    for i, height in enumerate(cfg["heights_m"]):
        cells = []
        for kind in kinds:
            s = r["kinds"][kind]["sweep"]["single"][i]
            longest, first = s["longest_break"]["p95_ms"], s["first_break"]["p95_ms"]
            cells.append(f"{ms_text(longest)} ({ms_text(first)})")
        singles.append(f"| {row_label(cfg, height)} | " + " | ".join(cells) + " |")
    tables = ["\n".join(singles)]
    for two in TWO_BEAM_RULES:
        pct = TWO_KEYS[two][0]
        rows = [f"| {RULE_WORDS[two]} at | {head}", rule]
        for i, pair in enumerate(cfg["pairs_m"]):
            cells = []
            for kind in kinds:
                d = r["kinds"][kind]["sweep"]["dual"][i]
                cells.append(f"{ms_text(d[two]['p95_ms'])} ({d[pct]:g} %)")
            rows.append(f"| {row_label(cfg, pair)} | " + " | ".join(cells) + " |")
        tables.append("\n".join(rows))
    return "\n\n".join(tables)
