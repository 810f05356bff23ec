"""The hardware benchmarks run end to end with tiny loads: shapes and counts, never timings."""

from __future__ import annotations

import gc
import json
import math

import pytest

from bench.cli import build_parser
from bench.hotplug import run_hotplug_bench
from bench.reaction import run_reaction_bench
from bench.stats import percentile, summarize
from bench.throughput import run_throughput_bench
from bench.timing import run_timing_bench

STATS = {"p50_ms", "p99_ms", "max_ms"}


def test_timing_bench_times_every_requested_run() -> None:
    result = run_timing_bench(2, 200.0, 20.0, 0.01, 6, 1, settle=False, warmup_s=0.0)
    assert set(result) >= {"device_clock", "host_receipt", "config"}
    for method in ("device_clock", "host_receipt"):
        assert set(result[method]) == STATS | {"runs"}
        assert result[method]["runs"] == 6
    assert result["config"]["runs"] == 6 and result["config"]["devices"] == 2
    assert result["run"]["runs_matched"] == result["run"]["runs_planned"] == 6


def test_timing_bench_refuses_an_odd_number_of_devices() -> None:
    with pytest.raises(ValueError, match="even"):
        run_timing_bench(devices=3, runs=1)


def test_reaction_bench_measures_every_cue() -> None:
    result = run_reaction_bench(2, 1, 4, settle=False, warmup_s=0.0)
    for figure in ("reaction", "onset_device_truth", "onset_host_mapped"):
        assert set(result[figure]) == STATS | {"cues"}
        assert result[figure]["cues"] == 4
    assert result["config"]["cues"] == 4


def test_throughput_bench_delivers_exactly_what_was_sent() -> None:
    result = run_throughput_bench(1, 2, 200, 2000.0)
    assert result["events_sent"] == result["events_offered"] == 200
    assert result["events_delivered"] == result["events_sent"]
    assert result["events_unique"] == result["events_delivered"]
    assert result["events_suppressed"] == 0
    assert set(result["cpu_us_per_event"]) == {"total", "host", "simulator"}


def test_hotplug_bench_reports_each_trial() -> None:
    result = run_hotplug_bench(1, interval_s=0.05)
    for figure in ("identified", "ready"):
        assert set(result[figure]) == STATS | {"trials"}
        assert result[figure]["trials"] == 1


def test_cli_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "run throughput --json --ports 1 --devices-per-port 2 --events 100 --rate 2000"
    args = build_parser().parse_args(argv.split())
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["events_delivered"] == printed["events_sent"] == 100


def test_sections_are_chosen_on_the_same_command_line() -> None:
    args = build_parser().parse_args(["--only", "timing", "--only", "report-pdf", "--no-write"])
    assert args.command is None and args.only == ["timing", "report-pdf"] and args.no_write
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--only", "no-such-section"])


def test_board_scale_benchmark_runs_on_a_small_history() -> None:
    from bench.board_scale import run_board_scale_bench
    from bench.bulk_history import HistorySize

    size = HistorySize(teams=1, athletes_per_team=4, drills=3, days=5, reps_per_athlete_drill=6)
    result = run_board_scale_bench(size, queries=8, postgres=False)
    sqlite = result["sqlite"]
    assert sqlite["counts"]["runs"] == size.runs == 72
    assert sqlite["counts"]["splits"] > 0
    kinds = ("board", "board_segment", "board_group", "board_day", "naive_python",
             "board_unsettled")  # fmt: skip
    for key in kinds:
        assert sqlite[key]["queries"] > 0 and sqlite[key]["p95_ms"] >= sqlite[key]["p50_ms"]
    for phase in ("gc_unsettled", "gc_settled"):
        # A phase may see no full pass; the longest is 0 exactly when there was none.
        passes = sqlite[phase]
        assert set(passes) == {"full_passes", "full_pass_max_ms"}, phase
        assert (passes["full_passes"] > 0) == (passes["full_pass_max_ms"] > 0), phase
    assert gc.get_freeze_count() == 0, "the bench must unfreeze the heap it settled"
    assert result["postgresql"] is None


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 501)]
    assert percentile(values, 0.99) == 495.0  # never between two measured values
    assert percentile(values, 0.50) == 250.0
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_summarize_orders_by_size_unless_told_to_keep_the_sign() -> None:
    errors = [-3.0, 1.0, 2.0]
    assert summarize(errors, "runs") == {"p50_ms": 2.0, "p99_ms": 3.0, "max_ms": 3.0, "runs": 3}
    signed = summarize(errors, "splits", quantiles=(0.50, 0.95), absolute=False)
    assert signed == {"p50_ms": 1.0, "p95_ms": 2.0, "max_ms": 2.0, "splits": 3}
    empty = summarize([], "cues")
    assert empty["cues"] == 0 and math.isnan(empty["p50_ms"]) and math.isnan(empty["max_ms"])
