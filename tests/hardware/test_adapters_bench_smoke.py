"""`python -m bench run adapters` end to end with a tiny load: shapes and counts, and the
device-timed splits far inside the naive receipt baseline's error (never a timing figure itself)."""

from __future__ import annotations

import pytest

from bench.adapters.run import run_adapters_bench
from bench.cli import build_parser
from bench.sections import SECTIONS

STATS = {"p50_ms", "p95_ms", "p99_ms", "max_ms"}


def test_adapters_bench_times_every_split_on_both_links() -> None:
    result = run_adapters_bench(
        chronopics=2, passes=4, impulses=6, gap_s=(0.3, 0.4), timy_gap_s=(0.04, 0.06)
    )
    cp, ty = result["chronopic"], result["timy"]
    # One Chronopic per link; every Timy baud rate (9600, 38400) on each link.
    assert (cp["devices"], cp["passes"], ty["devices"], ty["impulses"]) == (2, 8, 4, 24)
    for figures, splits_per_link in ((cp, 3), (ty, 10)):
        for name in ("ticks_vs_device", "ticks_vs_true"):
            assert set(figures[name]) == STATS | {"splits"}
            assert figures[name]["splits"] == 2 * splits_per_link
        assert set(figures["receipt"]) == {"bridge", "pty"}
        assert all(s["splits"] == splits_per_link for s in figures["receipt"].values())
        # The ticks keep the device's resolution whatever the link; the bridge's USB latency
        # (1-16 ms a chunk) lands whole in the receipt baseline.
        assert figures["ticks_vs_device"]["max_ms"] * 1000 <= figures["target"]["p99_us"]
        assert figures["receipt"]["bridge"]["max_ms"] > 10 * figures["ticks_vs_device"]["max_ms"]
        for mapped in figures["mapped"].values():
            assert set(mapped) >= STATS | {"events", "bound_held", "mean_signed_ms"}
    assert set(cp["mapped"]) == {"bridge", "pty"}
    assert set(ty["mapped"]) == {
        f"{link}, {b} baud" for link in ("bridge", "pty") for b in (9600, 38400)
    }
    assert result["met"] and set(result["targets"]) == {"chronopic_split_p99", "timy_split_p99"}
    assert ty["overflow_bytes"] == 0
    (section,) = [s for s in SECTIONS if s.name == "adapters"]
    text = section.render(result)
    assert "Chronopic split p99 <= 16 µs: **met**" in text
    assert "Timy split p99 <= 0.2 ms: **met**" in text
    assert "python -m bench --only adapters" in text


def test_adapters_bench_refuses_impulses_closer_than_a_line() -> None:
    with pytest.raises(ValueError, match="apart"):
        run_adapters_bench(timy_gap_s=(0.02, 0.1))


def test_cli_offers_the_adapters_section() -> None:
    argv = ["run", "adapters", "--json", "--chronopics", "2", "--passes", "3"]
    args = build_parser().parse_args(argv)
    assert (args.chronopics, args.passes, args.impulses, args.json) == (2, 3, 150, True)
    assert args.command == "run" and args.benchmark == "adapters" and callable(args.func)
