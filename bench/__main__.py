"""`python -m bench`: run every benchmark, print a table, rewrite docs/BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.timing import run_timing

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--reps", type=int, default=10, help="reps per lane")
    parser.add_argument("--drift-ppm", type=float, default=80.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = run_timing(
            os.path.join(tmp, "bench.db"), args.lanes, args.reps, args.drift_ppm, args.seed
        )
    command = "make bench" if len(sys.argv) == 1 else "python -m bench " + " ".join(sys.argv[1:])
    header = "| method | runs | p50 error (ms) | p99 error (ms) | max error (ms) |"
    rows = [header, "|---|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r.method} | {r.runs} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.max_ms:.3f} |")
    table = "\n".join(rows)
    print(table)
    if args.no_write:
        return 0
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(
        f"""# Benchmarks

Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({machine}).
Figures from one run; the machine is shared, so compare methods within a run, not across runs.

## Split timing accuracy

Backward sprint 10 m reps by virtual athletes on simulated hubs ({args.lanes} lanes at once,
{args.reps} reps each), each hub on a real pseudo-terminal under the real driver, with its own
clock drifting by ±{args.drift_ppm:g} ppm, random USB latency of 1-16 ms per frame and beam
bounce. Error is the absolute difference between the timed split and the simulator's ground
truth. `device_clock` is the split the server stored (device ticks, rate from clock sync);
`host_receipt` times the same two beam breaks by when their bytes reached the host.

{table}
""",
        encoding="utf-8",
    )
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
