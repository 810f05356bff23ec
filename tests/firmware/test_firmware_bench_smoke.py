"""`python -m bench run firmware` end to end with tiny loads: shapes and counts, never timings."""

from __future__ import annotations

from pathlib import Path

from bench.firmware import run_firmware_bench
from bench.sections import SECTIONS


def test_firmware_bench_measures_every_split_cue_and_step(firmware_built: Path) -> None:
    result = run_firmware_bench(
        reps=2, cues=2, edge_rates=(100, 200), rate_step_s=0.5, settle=False
    )
    for kind in ("split_one_nano", "split_two_nanos"):
        figures = result[kind]
        assert figures["device_clock_all"]["splits"] == 2
        assert figures["device_clock"]["splits"] == 2 - figures["lagged_splits"]
    assert result["onset"]["onset_vs_pins"]["cues"] == 2
    steps = result["edge_rate"]["steps"]
    assert [s["edges_per_s"] for s in steps] == [100, 200]
    assert all(s["delivered"] == s["edges"] == s["edges_per_s"] // 2 for s in steps)
    assert result["edge_rate"]["sustained_edges_per_s"] == 200
    (section,) = [s for s in SECTIONS if s.name == "firmware"]
    text = section.render(result)
    assert "Target: split error p99" in text and "| 200 | 100 | 100 | 0 |" in text
