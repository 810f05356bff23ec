"""The adapters benchmark's section of docs/BENCHMARKS.md: a run's result (bench/adapters/run.py)
in Markdown. Only words and tables here; every figure comes from the result."""

from __future__ import annotations

from bench.common import JsonDict
from bench.markdown import met, stats_table, wrap


def _split_rows(r: JsonDict, tick: str) -> list[tuple[str, str, JsonDict]]:
    rows = [
        ("ticks vs device time", f"Δticks x {tick} - true interval x (1 + drift)",
         r["ticks_vs_device"]),
        ("ticks vs true time", "the same split against the true interval (drift in)",
         r["ticks_vs_true"]),
    ]  # fmt: skip
    what = {
        "bridge": "baseline: Δ receipt, UART + USB bridge",
        "pty": "baseline: Δ receipt, bare pty",
    }
    for link, stats in r["receipt"].items():
        rows.append((f"host receipt, {link}", what[link], stats))
    return rows


def _mapped_table(rows: list[tuple[str, JsonDict]]) -> str:
    out = [
        "| device, link | events | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | mean signed (ms)"
        " | stated bound p50 (ms) | within bound |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in rows:
        out.append(
            f"| {name} | {s['events']} | {s['p50_ms']:.3f} | {s['p95_ms']:.3f}"
            f" | {s['p99_ms']:.3f} | {s['max_ms']:.3f} | {s['mean_signed_ms']:+.3f}"
            f" | {s['bound_p50_ms']:.3f} | {s['bound_held']} ({s['bound_held_pct']:g} %) |"
        )
    return "\n".join(out)


def _target_line(name: str, target: JsonDict) -> str:
    limit_us, measured_us = target["p99_us"], target["measured_p99_us"]
    limit = f"{limit_us} µs" if limit_us < 100 else f"{limit_us / 1000:g} ms"
    return f"{name} split p99 <= {limit}: {met(target['met'])} ({measured_us:g} µs)"


def _times(baseline: JsonDict | None, device: JsonDict) -> str:
    """How many times the device-timed error the baseline's is, at p99."""
    if baseline is None or not device["p99_ms"]:
        return "n/a"
    return f"{baseline['p99_ms'] / device['p99_ms']:.0f}"


def _baseline_words(cp: JsonDict, ty: JsonDict) -> str:
    cb, tb = cp["receipt"].get("bridge"), ty["receipt"].get("bridge")
    cpty, tpty = cp["receipt"].get("pty"), ty["receipt"].get("pty")
    words = ["The baseline is what a program without device timestamps gets."]
    if cb is not None and tb is not None:
        words.append(
            f"Through the bridge its error is the difference of two USB latencies and of the "
            f"host's delays in reading them: p50 {cb['p50_ms']:.1f} ms and p99 "
            f"{cb['p99_ms']:.1f} ms (Chronopic), p50 {tb['p50_ms']:.1f} ms and p99 "
            f"{tb['p99_ms']:.1f} ms (Timy), {_times(cb, cp['ticks_vs_true'])} and "
            f"{_times(tb, ty['ticks_vs_true'])} times the device-timed split's p99 against the "
            f"same true time."
        )
    if cpty is not None and tpty is not None:
        misses = (
            cpty["p99_ms"] * 1000 > cp["target"]["p99_us"]
            and tpty["p99_ms"] * 1000 > ty["target"]["p99_us"]
        )
        words.append(
            f"On the bare pty nothing delays the bytes but the host's own scheduling (p50 "
            f"{cpty['p50_ms']:.2f} and {tpty['p50_ms']:.2f} ms, p99 {cpty['p99_ms']:.2f} and "
            f"{tpty['p99_ms']:.2f} ms)"
            + (", which alone misses the devices' resolution;" if misses else ";")
            + " a real cable adds its bridge's latency to that."
        )
    drifts = cp["drifts_ppm"]
    if drifts and cp["split_range_s"]:
        worst, span_s = max(drifts, key=abs), cp["split_range_s"][1]
        words.append(
            f"Against the true time a device-timed split also carries its crystal's drift, "
            f"which its ticks cannot know (the largest here, {worst:+g} ppm, is "
            f"{abs(worst) * span_s / 1000:.2f} ms over {span_s:g} s): the Chronopic's "
            f"`ticks vs true time` row."
        )
    return wrap(" ".join(words))


def _bare_pty_words(cp: JsonDict, ty: JsonDict) -> str:
    rows = [(f"Chronopic {g}", st) for g, st in cp["mapped"].items()]
    rows += [(f"Timy {g}", st) for g, st in ty["mapped"].items()]
    if not rows:
        return ""
    late = ", ".join(f"{st['mean_signed_ms']:+.1f} ms ({name})" for name, st in rows)
    held = sum(st["bound_held"] for _, st in rows)
    events = sum(st["events"] for _, st in rows)
    return wrap(
        f"Mapped times come out late by the least delay any record took beyond its line time, "
        f"which no receipt can reveal (mean signed error: {late}): on the bridge its 1 ms "
        f"minimum latency plus the host's wake-up, on the bare pty the wake-up alone. The "
        f"stated bound is the spread of receipts above that floor, so it held for {held} of "
        f"{events} events; a cross-device split with such a device is off by about the "
        f"difference of the two floors, well inside the bound it is marked with."
    )


def render_markdown(r: JsonDict) -> str:
    """The section of docs/BENCHMARKS.md for one run."""
    cp, ty, cfg, run = r["chronopic"], r["timy"], r["config"], r["run"]
    mapped = [(f"Chronopic, {g}", s) for g, s in cp["mapped"].items()]
    mapped += [(f"Timy, {g}", s) for g, s in ty["mapped"].items()]
    usb = cfg["usb_ms"]
    bauds = " and ".join(str(b) for b in cfg["timy_bauds"])
    splits = cp["split_range_s"] or ["-", "-"]
    setup = wrap(
        f"Chronopic and Timy simulators (hardware/sim/) on real pseudo-terminals, opened "
        f'through `DevicePorts.open("chronopic:PATH")` and `open("timy:PATH@BAUD")`, their bytes '
        f"turned into DeviceEvents by the real adapters. {cp['devices']} Chronopics at once, "
        f"crystals drawn within ±{cfg['chronopic_drift_ppm']:g} ppm ({cp['drifts_ppm']}), "
        f"{cfg['passes']} passes each on one input: a break of "
        f"{cfg['break_ms'][0]:g}-{cfg['break_ms'][1]:g} ms, then a gap log-uniform over "
        f"{cfg['gap_s'][0]:g}-{cfg['gap_s'][1]:g} s, mostly the short gaps between the gates "
        f"of a sprint and a few long ones (true splits {splits[0]}-{splits[1]} s). "
        f"{ty['devices']} Timys at {cfg['timy_drift_ppm']:+g} ppm, {bauds} baud, each rate "
        f"on both links, {cfg['impulses']} impulses each on channels 0, 2, 1 in turn, "
        f"{cfg['timy_gap_s'][0] * 1000:g}-{cfg['timy_gap_s'][1] * 1000:g} ms apart. A split "
        f"is the difference of two successive beam breaks of one device. The truth is the "
        f"simulator's: the true (host monotonic) time of each edge, and the device clock's "
        f"drift. The splits are dense so that a few hundred fit in a minute; only the drift "
        f"term grows with a split's length."
    )
    links = wrap(
        f"Links: **bridge** relays the simulator's pty (paced at its baud rate) to the host "
        f"adding a USB-serial bridge's latency, "
        f"{usb[0]:g}-{usb[1]:g} ms per chunk, in order (an FTDI's latency timer is 16 ms by "
        f"default). **pty** is the simulator's own pty, without it. Splits from ticks do not "
        f"depend on the link; the baseline and the mapped times do."
    )
    return f"""{setup}

{links}

Command: `python -m bench --only adapters` (or `python -m bench run adapters --json`)

**Chronopic** (8 µs ticks), {cp["passes"]} passes:

{stats_table(_split_rows(cp, "8 µs"), "splits", (50, 95, 99))}

**Timy** (1/10,000 s), {ty["impulses"]} impulses:

{stats_table(_split_rows(ty, "100 µs"), "splits", (50, 95, 99))}

Targets: {_target_line("Chronopic", cp["target"])};
{_target_line("Timy", ty["target"])}.

{_baseline_words(cp, ty)}

Mapped host time: each event's `mono_us` (its ticks mapped by the receipt clock) minus the
true time of its edge, against the `sync_error_us` the event states (at least 20 ms until 16
records have arrived):

{_mapped_table(mapped)}

{_bare_pty_words(cp, ty)}
Ports opened in {run["open_s"]} s; the edges took {run["duration_s"]} s.
"""
