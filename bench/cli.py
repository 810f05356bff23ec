"""`python -m bench`: every section into docs/BENCHMARKS.md, or one benchmark with its options.

`python -m bench [--only NAME]...` runs the sections (bench/sections.py) and rewrites the
document; `python -m bench run NAME [--option]...` runs one benchmark with the knobs it has and
prints one JSON object (`--json`) or a short table. Benchmarks run from a checkout: they are
not part of the installed product, so the `agility` command has none.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from bench.adapters.run import run_adapters_bench
from bench.common import JsonDict
from bench.document import write_sections
from bench.firmware import run_firmware_bench
from bench.gates.config import GatesConfig
from bench.gates.run import run_gates_bench
from bench.hotplug import run_hotplug_bench
from bench.live_fanout import run_live_fanout_bench
from bench.reaction import run_reaction_bench
from bench.sections import SECTIONS
from bench.stations.day import StationsConfig
from bench.stations.report import render_text as stations_text
from bench.stations.run import run_stations_bench
from bench.throughput import run_throughput_bench
from bench.timing import run_timing_bench

Option = tuple[str, dict[str, Any]]  # a flag and its add_argument keywords
SEED: Option = ("--seed", {"type": int, "default": 1})


def _opt(flag: str, kind: type, default: object, about: str | None = None, **more: Any) -> Option:
    return flag, {"type": kind, "default": default, "help": about, **more}


def _link(jitter: float = 20.0, spikes: float = 0.01) -> list[Option]:
    """The simulated devices' crystals and USB link, for the benchmarks that run them on ptys."""
    return [
        _opt("--drift-ppm", float, 200.0, "device crystals within +-X"),
        _opt("--jitter-ms", float, jitter, "USB latency 1..Y ms/frame"),
        _opt("--spike-rate", float, spikes, "frames delayed 100 ms more"),
        SEED,
        _opt("--switch-interval-ms", float, None,
             "set Python's GIL switch interval (default: leave Python's 5 ms)"),
    ]  # fmt: skip


def _table(rows: list[tuple[str, JsonDict]], count_key: str) -> str:
    lines = [f"{'figure':<22} {count_key:>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"]
    for name, r in rows:
        lines.append(
            f"{name:<22} {r[count_key]:>6} {r['p50_ms']:>9.3f} {r['p99_ms']:>9.3f}"
            f" {r['max_ms']:>9.3f}"
        )
    return "\n".join(lines)


def _emit(args: argparse.Namespace, result: JsonDict, render: Callable[[JsonDict], str]) -> int:
    print(json.dumps(result) if args.json else render(result))
    return 0


def _timing(args: argparse.Namespace) -> int:
    result = run_timing_bench(
        args.devices, args.drift_ppm, args.jitter_ms, args.spike_rate, args.runs, args.seed,
        switch_interval_ms=args.switch_interval_ms,
    )  # fmt: skip
    return _emit(
        args,
        result,
        lambda r: _table(
            [("device_clock", r["device_clock"]), ("host_receipt", r["host_receipt"])], "runs"
        ),
    )


def _reaction(args: argparse.Namespace) -> int:
    result = run_reaction_bench(
        args.ports, args.pods_per_port, args.cues, args.drift_ppm, args.jitter_ms,
        args.spike_rate, args.seed, switch_interval_ms=args.switch_interval_ms,
    )  # fmt: skip
    keys = ("reaction", "onset_device_truth", "onset_host_mapped")
    return _emit(args, result, lambda r: _table([(k, r[k]) for k in keys], "cues"))


def _throughput(args: argparse.Namespace) -> int:
    result = run_throughput_bench(
        args.ports, args.devices_per_port, args.events, args.rate, args.drift_ppm,
        args.jitter_ms, args.spike_rate, args.seed, switch_interval_ms=args.switch_interval_ms,
    )  # fmt: skip
    return _emit(
        args,
        result,
        lambda r: (
            f"events/s {r['events_per_s']:.0f}  delivered {r['events_delivered']}"
            f" of sent {r['events_sent']}  CPU us/event {r['cpu_us_per_event']}"
        ),
    )


def _hotplug(args: argparse.Namespace) -> int:
    result = run_hotplug_bench(
        args.trials, args.drift_ppm, args.jitter_ms, args.spike_rate, args.seed,
        switch_interval_ms=args.switch_interval_ms,
    )  # fmt: skip
    return _emit(
        args,
        result,
        lambda r: _table([("identified", r["identified"]), ("ready", r["ready"])], "trials"),
    )


def _live(args: argparse.Namespace) -> int:
    result = run_live_fanout_bench(
        args.clients, args.rate, args.duration, args.baseline_clients, args.baseline_s,
    )  # fmt: skip
    return _emit(
        args,
        result,
        lambda r: (
            _table([("baseline", r["baseline"]), ("fanout", r["fanout"])], "messages")
            + f"\nserver RSS MB {r['fanout']['rss_mb']}"
            + f"\nclients complete {r['fanout']['clients_complete']} of {r['fanout']['clients']}"
        ),
    )


def _firmware(args: argparse.Namespace) -> int:
    result = run_firmware_bench(args.reps, args.cues, args.seed)
    rows = [
        ("one nano: device", result["split_one_nano"]["device_clock"]),
        ("one nano: receipt", result["split_one_nano"]["host_receipt"]),
        ("two nanos: device", result["split_two_nanos"]["device_clock"]),
        ("two nanos: receipt", result["split_two_nanos"]["host_receipt"]),
    ]
    onset = [("onset vs pins", result["onset"]["onset_vs_pins"]),
             ("onset vs command", result["onset"]["onset_vs_command"])]  # fmt: skip
    return _emit(
        args,
        result,
        lambda r: (
            _table(rows, "splits")
            + "\n"
            + _table(onset, "cues")
            + f"\nsustained edges/s {r['edge_rate']['sustained_edges_per_s']}"
        ),
    )


def _adapters(args: argparse.Namespace) -> int:
    result = run_adapters_bench(
        args.chronopics, args.passes, args.impulses, args.seed, usb_ms=args.usb_ms
    )
    rows = []
    for kind in ("chronopic", "timy"):
        figures = result[kind]
        rows.append((f"{kind}: ticks", figures["ticks_vs_device"]))
        rows.append((f"{kind}: vs true", figures["ticks_vs_true"]))
        rows += [(f"{kind}: rx {link}", s) for link, s in figures["receipt"].items()]
    targets = [
        f"{name}: p99 {t['measured_p99_us']:g} us <= {t['p99_us']} us"
        f" {'met' if t['met'] else 'NOT MET'}"
        for name, t in result["targets"].items()
    ]
    _emit(args, result, lambda r: _table(rows, "splits") + "\n" + "\n".join(targets))
    return 0 if result["met"] else 1  # a missed resolution target fails the command


def _gates(args: argparse.Namespace) -> int:
    result = run_gates_bench(
        args.crossings, args.seed, workers=args.workers, live_lanes=args.lanes,
        live_reps=args.reps, window_ms=args.window_ms,
    )  # fmt: skip

    def pair(p: list[float]) -> str:
        return f"{p[1]} + {p[0]} m"

    def render(r: JsonDict) -> str:
        lines = [f"{'drill, rule':<28} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'missed':>6}"]
        for kind, k in r["kinds"].items():
            single, dual = k["default"]["single"], k["default"]["dual"]
            for rule, s in (("first-break", single["first_break"]),
                            ("longest-break", single["longest_break"]),
                            ("dual-beam", dual["dual_beam"]),
                            ("dual-longest", dual["dual_longest"])):  # fmt: skip
                cells = [
                    "-" if s[key] is None else f"{s[key]:.3f}"
                    for key in ("p50_ms", "p95_ms", "max_ms")
                ]
                lines.append(f"{kind + ', ' + rule:<28} {cells[0]:>9} {cells[1]:>9} {cells[2]:>9}"
                             f" {s['missed']:>6}")  # fmt: skip
            best = k["best"]
            lines.append(
                f"{'':<28} best heights: longest-break {best['longest_break']} m,"
                f" dual-beam {pair(best['dual_beam'])}, dual-longest {pair(best['dual_longest'])}"
            )
        if r["live"] is not None:
            after = r["live"]["after_window"]
            lines.append(
                f"live, after the window: p50 {after['p50_ms']} ms, p95 {after['p95_ms']} ms,"
                f" max {after['max_ms']} ms over {after['splits']} splits"
            )
        for name, t in r["targets"].items():
            line = f"{name}: {'met' if t['met'] else 'NOT MET'}"
            if "best_met" in t:  # the p95 targets: at the default heights, then the best ones
                where = t["best_heights_m"]
                at = f"{where} m" if isinstance(where, float) else pair(where)
                line += (
                    f" ({t['measured_p95_ms']} ms at the default heights); at {at}"
                    f" {'met' if t['best_met'] else 'NOT MET'} ({t['best_measured_p95_ms']} ms)"
                )
            lines.append(line)
        return "\n".join(lines)

    _emit(args, result, render)
    return 0 if result["met"] else 1  # a missed target fails the command


def _stations(args: argparse.Namespace) -> int:
    result = run_stations_bench(
        StationsConfig(
            athletes=args.athletes, stations=args.stations, rounds=args.rounds,
            baseline_reps=args.baseline_reps, overtakes=args.overtakes, seed=args.seed,
        )
    )  # fmt: skip
    _emit(args, result, stations_text)
    return 0 if result["met"] else 1  # a missed target fails the command


def _benchmarks() -> list[tuple[str, str, Callable[[argparse.Namespace], int], list[Option]]]:
    """`run NAME`'s benchmarks: name, help, what runs it, and its options after `--json`."""
    gates, stations = GatesConfig(), StationsConfig()
    return [
        ("timing", "split accuracy, start and finish on two devices", _timing, [
            *_link(),
            _opt("--devices", int, 8, "even: lanes x 2 gates"),
            _opt("--runs", int, 500),
        ]),
        ("reaction", "reaction time and light onset on pods", _reaction, [
            *_link(),
            _opt("--ports", int, 8),
            _opt("--pods-per-port", int, 1),
            _opt("--cues", int, 240),
        ]),
        ("throughput", "events/s through the host", _throughput, [
            *_link(jitter=1.0, spikes=0.0),
            _opt("--ports", int, 4),
            _opt("--devices-per-port", int, 8),
            _opt("--events", int, 15_000),
            _opt("--rate", float, 6_000.0, "offered events/s"),
        ]),
        ("firmware", "the reference firmware in simavr: splits, onsets, edge rate", _firmware, [
            _opt("--reps", int, 30, "splits of each kind"),
            _opt("--cues", int, 30),
            SEED,
        ]),
        ("adapters",
         "Chronopic and Timy splits against their simulators' truth (exit 1: target missed)",
         _adapters, [
            _opt("--chronopics", int, 12, "simulated at once"),
            _opt("--passes", int, 25, "beam breaks per Chronopic"),
            _opt("--impulses", int, 150, "impulses per Timy"),
            _opt("--usb-ms", float, 16.0, "bridge latency 1..X ms"),
            SEED,
        ]),
        ("gates",
         "gate rules against the torso's truth, beam heights, live latency"
         " (exit 1: target missed)",
         _gates, [
            _opt("--crossings", int, gates.crossings, "per drill kind"),
            _opt("--workers", int, 0, "processes; 0: one per CPU"),
            _opt("--window-ms", int, gates.window_ms, "longest-break window"),
            _opt("--lanes", int, gates.live_lanes, "live: simulated hubs at once"),
            _opt("--reps", int, gates.live_reps, "live: reps per lane (0: skip)"),
            SEED,
        ]),
        ("hotplug", "plug-in to identified and ready", _hotplug, [
            *_link(),
            _opt("--trials", int, 10),
        ]),
        ("live", "live feed: commit-to-client latency and server memory", _live, [
            _opt("--clients", int, 200, "WebSocket clients"),
            _opt("--rate", float, 20.0, "splits per second"),
            _opt("--duration", float, 600.0, metavar="S"),
            _opt("--baseline-clients", int, 1),
            _opt("--baseline-s", float, 30.0, metavar="S"),
        ]),
        ("stations",
         "stations at once on one server: crossings against the truth, split to phone"
         " (exit 1: target missed)",
         _stations, [
            _opt("--athletes", int, stations.athletes),
            _opt("--stations", int, stations.stations, "how many of the six stations run"),
            _opt("--rounds", int, stations.rounds, "stations each athlete visits"),
            _opt("--baseline-reps", int, stations.baseline_reps,
                 "reps on one lane alone (0: skip)"),
            _opt("--overtakes", int, stations.overtakes,
                 "passes in the overtakes scenario (0: skip)"),
            SEED,
        ]),
    ]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the section runner's options, and `run NAME` for each
    benchmark that has options of its own (each sets func(args) -> exit status)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    names = [s.name for s in SECTIONS]
    parser.add_argument("--only", action="append", choices=names, help="run just this section")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="run")
    run = commands.add_parser("run", help="one benchmark with its own options")
    sub = run.add_subparsers(dest="benchmark", required=True)
    for name, about, func, options in _benchmarks():
        bench = sub.add_parser(name, help=about)
        bench.add_argument("--json", action="store_true", help="print one JSON object")
        for flag, keywords in options:
            bench.add_argument(flag, **keywords)
        bench.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.command == "run":
        status: int = args.func(args)
        return status
    # The document names the command that wrote each section, so a reader can rerun it.
    command = "python -m bench " + " ".join(argv) if argv else "make bench"
    chosen = args.only or [s.name for s in SECTIONS]
    return write_sections(chosen, args.seed, command, write=not args.no_write)
