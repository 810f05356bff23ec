"""The live fan-out benchmark end to end with a tiny load: its report, never its timings."""

from __future__ import annotations

import json

import pytest

from bench.cli import build_parser

STATS = {"p50_ms", "p99_ms", "max_ms", "messages"}


def test_every_client_gets_every_message_and_the_report_has_its_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = "run live --json --clients 4 --rate 20 --duration 1.5 --baseline-s 0.5"
    args = build_parser().parse_args(argv.split())
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["clients"] == 4 and result["config"]["baseline_s"] == 0.5
    for phase, clients, splits in (("baseline", 1, 10), ("fanout", 4, 30)):
        r = result[phase]
        assert set(r) >= STATS, phase
        assert r["clients"] == clients
        assert r["splits_published"] == splits
        # Two splits and a `run` message per rep.
        assert r["messages_published"] == splits * 3 // 2
        assert r["clients_complete"] == clients, f"{phase}: a client missed messages"
        assert r["messages_missing"] == 0
        assert r["messages"] == clients * r["messages_published"]
        assert {"start", "end", "max", "growth_pct", "max_growth_pct", "samples"} <= set(
            r["rss_mb"]
        )
        assert r["rss_mb"]["start"] > 0 and r["rss_mb"]["samples"] >= 1


def test_defaults_are_the_full_benchmark() -> None:
    args = build_parser().parse_args(["run", "live"])
    assert (args.clients, args.rate, args.duration) == (200, 20.0, 600.0)
