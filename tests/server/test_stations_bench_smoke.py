"""`python -m bench run stations` with a tiny load (two stations, four athletes): the JSON's shape,
every crossing given to the right athlete, and the section it writes (never a timing figure)."""

from __future__ import annotations

from bench.cli import build_parser
from bench.sections import SECTIONS
from bench.stations.day import StationsConfig
from bench.stations.run import run_stations_bench

SCENARIO_KEYS = {
    "stations", "sessions", "athletes", "reps", "finished", "not_finished", "crossings",
    "wrong_assignments", "reps_wrong", "crossings_missing", "splits", "splits_off_truth",
    "split_error_max_ms", "flags", "refused", "unassigned", "true_passes", "latency",
    "latency_lanes", "latency_single", "latency_over_target", "slowest", "settle_s", "timed_s",
    "cpu_percent", "duration_s", "full_gc",
}  # fmt: skip
LATENCY_KEYS = {"splits", "p50_ms", "p95_ms", "p99_ms", "max_ms"}


def test_two_stations_four_athletes_every_crossing_to_its_athlete() -> None:
    # No clock settling: nothing here is a timing figure, and assignments go by event number.
    cfg = StationsConfig(athletes=4, stations=2, rounds=1, baseline_reps=2, overtakes=1,
                         settle=False)  # fmt: skip
    result = run_stations_bench(cfg)
    assert set(result) == {"config", "stations", "baseline", "overtakes", "targets", "met"}
    main = result["stations"]
    assert set(main) == SCENARIO_KEYS
    assert set(main["latency"]) == LATENCY_KEYS
    # A sprint lane taking overlapping starts and a 505 run one athlete at a time.
    assert [(s["drill"], s["overlap"]) for s in main["stations"]] == [
        ("sprint-20m", True), ("505-left", False),
    ]  # fmt: skip
    assert [s["state"] for s in main["sessions"]] == ["finished", "finished"]
    assert (main["reps"], main["finished"], main["athletes"]) == (4, 4, 4)
    # Two sprint reps of three gates, two 505 reps through the one gate twice.
    assert main["crossings"] == 2 * 3 + 2 * 2
    assert main["wrong_assignments"] == 0 and main["crossings_missing"] == 0
    assert main["flags"] == main["refused"] == main["unassigned"] == main["true_passes"] == 0
    assert main["latency"]["splits"] == 2 * 2 + 2 * 1
    baseline = result["baseline"]
    assert set(baseline) == SCENARIO_KEYS
    assert (baseline["reps"], baseline["finished"], baseline["wrong_assignments"]) == (2, 2, 0)
    overtakes = result["overtakes"]
    assert SCENARIO_KEYS | {"overtakes", "by_kind", "flagged", "flags_elsewhere"} == set(overtakes)
    assert [o["kind"] for o in overtakes["overtakes"]] == ["steady-jog"]
    assert len(overtakes["overtakes"][0]["passed_splits_s"]) == 2
    assert set(result["targets"]) == {
        "assigned_correctly", "split_to_phone_p99", "no_flags_or_refusals",
    }  # fmt: skip
    assert result["targets"]["assigned_correctly"]["wrong"] == 0
    (section,) = [s for s in SECTIONS if s.name == "stations"]
    text = section.render(result)
    assert "python -m bench --only stations" in text and "**Overtakes.**" in text
    assert ("**NOT met**" in text) is not result["met"]


def test_cli_offers_the_stations_section() -> None:
    argv = ["run", "stations", "--json", "--athletes", "12", "--overtakes", "0"]
    args = build_parser().parse_args(argv)
    assert (args.athletes, args.stations, args.rounds, args.overtakes, args.json) == (
        12, 6, 2, 0, True
    )  # fmt: skip
    assert args.command == "run" and args.benchmark == "stations" and callable(args.func)
