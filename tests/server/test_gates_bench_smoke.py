"""`python -m bench run gates` with a tiny load: shapes and counts, the ordering of the rules'
errors on the same crossings, and the live split matched to its window (never a timing figure)."""

from __future__ import annotations

from bench.cli import build_parser
from bench.gates.config import DEFAULT_PAIR_M, HEIGHTS_M, KINDS, PAIRS_M, GatesConfig
from bench.gates.report import render_markdown
from bench.gates.run import run_crossings, run_gates_bench
from bench.sections import SECTIONS

STATS = {"p50_ms", "p95_ms", "max_ms", "mean_signed_ms", "crossings", "missed"}


def test_every_rule_and_height_sees_the_same_crossings() -> None:
    result = run_gates_bench(crossings=12, workers=1, live_lanes=0)
    assert set(result["kinds"]) == set(KINDS)
    # The pairs the issue names are in the sweep, (top, bottom), and pairs 0.1 m apart.
    assert {(1.2, 0.8), (1.3, 0.9), (1.4, 1.0), (1.1, 0.7)} <= set(PAIRS_M)
    assert {(0.9, 0.8), (1.0, 0.9), DEFAULT_PAIR_M} <= set(PAIRS_M)
    for kind, k in result["kinds"].items():
        assert k["crossings"] == 12, kind
        assert len(k["sweep"]["single"]) == len(HEIGHTS_M)
        assert len(k["sweep"]["dual"]) == len(PAIRS_M)
        single, dual = k["default"]["single"], k["default"]["dual"]
        assert dual["heights_m"] == list(DEFAULT_PAIR_M)
        for stats in (
            single["first_break"], single["longest_break"], dual["dual_beam"],
            dual["dual_longest"],
        ):  # fmt: skip
            assert set(stats) == STATS and stats["crossings"] == 12
            assert stats["missed"] == 0, kind  # the torso breaks every default beam
        for pair in k["sweep"]["dual"]:
            assert set(pair["dual_longest"]) == STATS
            assert {"dual_longest_before_torso_pct", "dual_longest_extra_pct"} <= set(pair)
        # No single-beam rule beats the start of the break that holds the torso's start, and
        # first-break, which takes the earliest break of all, is never closer than that.
        for key in ("p50_ms", "p95_ms", "max_ms"):
            assert single["first_break"][key] >= single["single_beam_limit"][key], (kind, key)
        assert k["best"]["longest_break"] in HEIGHTS_M
        assert tuple(k["best"]["dual_beam"]) in PAIRS_M
        assert tuple(k["best"]["dual_longest"]) in PAIRS_M
    # Side shuffles lead with the arm and the foot by tens of ms: longest-break finds the
    # torso's break far more often than first-break does.
    lateral = result["kinds"]["lateral"]["default"]["single"]
    assert lateral["first_break"]["p50_ms"] > lateral["longest_break"]["p50_ms"]
    assert result["live"] is None and "live_after_window" not in result["targets"]
    assert set(result["targets"]) == {
        f"{kind}_{rule}_p95" for kind in ("backward", "lateral")
        for rule in ("longest_break", "dual_beam", "dual_longest")
    }  # fmt: skip
    for target in result["targets"].values():
        # The drill's best heights are in the sweep, so they do no worse than the defaults.
        assert target["best_met"] or not target["met"]
    assert result["met"] is all(t["met"] for t in result["targets"].values())
    text = render_markdown(result)
    assert "python -m bench --only gates" in text and "Live latency: not run" in text
    assert "dual-longest, 0.9 + 1.1 m" in text and "| dual-longest at |" in text
    assert "1.0 m (previous default)" in text and "0.8 + 1.2 m (previous default)" in text
    assert "**One setting for all running drills**" in text
    assert ("**NOT met**" in text) is not result["met"]


def test_dual_longest_beats_first_break_on_backward_runs() -> None:
    # The same seeded backward runs: first-break takes a heel or an elbow ahead of the back
    # now and then; dual-longest at 0.9 + 1.1 m waits for the break both beams hold longest.
    backward = run_crossings(GatesConfig(crossings=12, workers=1))["kinds"]["backward"]
    dual = backward["sweep"]["dual"][PAIRS_M.index((1.1, 0.9))]["dual_longest"]
    for height in (0.9, 1.0):
        first = backward["sweep"]["single"][HEIGHTS_M.index(height)]["first_break"]
        assert dual["missed"] == 0
        assert dual["p95_ms"] < first["p95_ms"], height
        assert abs(dual["mean_signed_ms"]) < abs(first["mean_signed_ms"]), height


def test_figures_do_not_depend_on_the_number_of_workers() -> None:
    one = run_crossings(GatesConfig(crossings=3, workers=1))
    two = run_crossings(GatesConfig(crossings=3, workers=2))
    assert one["kinds"] == two["kinds"]


def test_a_longest_break_split_reaches_the_feed_after_its_window() -> None:
    result = run_gates_bench(crossings=1, workers=1, live_lanes=1, live_reps=1)
    live = result["live"]
    assert (live["reps"], live["reps_finished"]) == (1, 1)
    # backward-sprint-20m: the 10 m split and the second 10 m, each matched to its gate.
    after = live["after_window"]
    assert after["splits"] == 2
    # The coordinator waits for late edges past the window: never sooner than that.
    assert after["min_ms"] > 0
    assert live["after_first_break"]["min_ms"] > result["config"]["window_ms"]
    assert "live_after_window" in result["targets"]
    (section,) = [s for s in SECTIONS if s.name == "gates"]
    assert "Target: every split on the feed" in section.render(result)


def test_cli_offers_the_gates_section() -> None:
    argv = ["run", "gates", "--json", "--crossings", "30", "--reps", "0"]
    args = build_parser().parse_args(argv)
    assert (args.crossings, args.reps, args.lanes, args.window_ms, args.json) == (
        30, 0, 4, 250, True
    )  # fmt: skip
    assert args.command == "run" and args.benchmark == "gates" and callable(args.func)
