"""`agility devices`: the serial ports, which were probed, and what answered on them."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hardware.adapters import parse_adapter_url
from hardware.adapters.chronopic_session import ChronopicSession
from hardware.discovery import (
    DEFAULT_USB_IDS,
    PROBE_WINDOW_S,
    PortLister,
    PortMatcher,
    PortRecord,
    SilentPort,
    bridge_name,
    parse_usb_id,
    system_ports,
)
from hardware.errors import HardwareError, PortUnavailable
from server.devices.binding import DeviceRef, parse_device_ref
from server.devices.service import DeviceService
from server.errors import InvalidInputError

NOT_OURS = "not ours (add --usb-id or --port to probe)"
# Port counters that mean bytes could not be read (shown when not zero).
_NOISE_COUNTERS = frozenset({
    "bad_crc", "bad_length", "skipped_bytes", "idle_drops", "unknown_types", "bad_payloads",
    "bad_state", "unknown_lines", "bad_checksum", "too_long_lines", "non_ascii_bytes",
})  # fmt: skip


def usb_id_arg(text: str) -> tuple[int, int]:
    """argparse type for VID:PID."""
    try:
        return parse_usb_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


@dataclass(frozen=True)
class PolaritySetting:
    device: DeviceRef
    channel: int
    high_means_broken: bool

    def __str__(self) -> str:
        level = "high" if self.high_means_broken else "low"
        return f"{self.device}:{self.channel}={level}"


def polarity_arg(text: str) -> PolaritySetting:
    """argparse type for DEVICE:CHANNEL=low|high."""
    target, eq, level = text.partition("=")
    device, colon, channel = target.rpartition(":")
    level = level.strip().lower()
    if not eq or not colon or not channel.strip().isdigit() or level not in ("low", "high"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not DEVICE:CHANNEL=low|high (e.g. gate-00AB12CD:1=high)"
        )
    try:
        ref = parse_device_ref(device)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return PolaritySetting(ref, int(channel), level == "high")


def cmd_devices(args: argparse.Namespace) -> int:
    for port in args.port:
        try:
            parse_adapter_url(port)
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from None
    report = asyncio.run(
        survey(
            (*DEFAULT_USB_IDS, *args.usb_id), args.port, args.wait, polarity=args.polarity,
            chronopic_debounce_ms=args.chronopic_debounce_ms,
        )
    )  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report)
    settings = [*report["polarity"], *report["debounce"]]
    return 2 if not all(p["ok"] for p in settings) else 0


async def survey(
    usb_ids: Iterable[tuple[int, int]],
    given: Sequence[str],
    wait_s: float,
    lister: PortLister = system_ports,
    probe_window_s: float = PROBE_WINDOW_S,
    polarity: Sequence[PolaritySetting] = (),
    chronopic_debounce_ms: int | None = None,
) -> dict[str, Any]:
    """Open our ports and the given ones, probe bridge ports, listen, and say what is there.

    A bridge port (a CH340 or FTDI of a Nano clone, or of anything else) counts only if a
    device answers on it; it gets the whole probe window even when `wait_s` is shorter. A
    port given as chronopic:PATH or timy:PATH is opened as that kind and never sent IDENTIFY.
    """
    matcher = PortMatcher(usb_ids)
    records = list(await asyncio.to_thread(lister))
    adapter_paths = {spec.path: spec.url for p in given if (spec := parse_adapter_url(p))}
    rows = [_row(r, matcher, given) for r in records if r.device not in adapter_paths]
    listed = {r.device for r in records if r.device not in adapter_paths}
    rows += [_given_row(path) for path in given if path not in listed]
    bridges = {row["port"]: row["bridge"] for row in rows if row["bridge"] is not None}
    devices = DeviceService(lambda _event: None)
    errors: list[str] = []
    try:
        for row in rows:
            if row["probed"]:
                try:
                    await devices.open(row["port"])
                except PortUnavailable as exc:
                    # Said on its row and among the errors; the other ports go on.
                    row["note"] = exc.message
                    errors.append(exc.message)
                    await devices.close(row["port"])  # no retrying in a one-off survey
                except HardwareError as exc:
                    errors.append(str(exc))
        await _listen(devices, wait_s, probe_window_s if bridges else 0.0, set(bridges))
        for row in rows:
            if row["bridge"] is not None:
                _mark_answer(row, devices)
        settings = [await _set_polarity(devices, setting) for setting in polarity]
        debounce = []
        if chronopic_debounce_ms is not None:
            debounce = await _set_debounce(devices, chronopic_debounce_ms)
        seen = devices.snapshot()
    finally:
        await devices.close_all()
    return {
        "ports": rows, "devices": seen, "errors": errors, "polarity": settings,
        "debounce": debounce,
    }  # fmt: skip


async def _set_debounce(devices: DeviceService, debounce_ms: int) -> list[dict[str, Any]]:
    """The debounce set on every Chronopic that answered, read back from each."""
    out: list[dict[str, Any]] = []
    chronopics = [s for s in devices.sessions.values() if isinstance(s, ChronopicSession)]
    if not chronopics:
        message = "no Chronopic answered (give one with --port chronopic:PATH): debounce not set"
        return [{"setting": f"debounce {debounce_ms} ms", "ok": False, "message": message}]
    for session in chronopics:
        setting = f"{session.url} debounce {debounce_ms} ms"
        try:
            got = await session.set_debounce_ms(debounce_ms)
        except (ValueError, HardwareError) as exc:
            out.append({"setting": setting, "ok": False, "message": str(exc)})
            continue
        ok = got == debounce_ms
        message = (
            f"{session.url}: debounce now {got} ms (until it is powered off)"
            if ok
            else f"{session.url}: asked for {debounce_ms} ms, the device says {got}"
        )
        out.append({"setting": setting, "ok": ok, "message": message})
    return out


async def _set_polarity(devices: DeviceService, setting: PolaritySetting) -> dict[str, Any]:
    """One polarity setting sent to its gate; what happened, in words a coach can act on."""
    found = [s for s in devices.registry.all() if s.connected and setting.device.matches(s.info)]
    if not found:
        message = f"{setting.device} did not answer on any port: polarity not set"
        return {"setting": str(setting), "ok": False, "message": message}
    state = found[0]
    if setting.channel >= state.info.channels:
        message = f"{state.key} has {state.info.channels} channel(s), no channel {setting.channel}"
        return {"setting": str(setting), "ok": False, "message": message}
    try:
        await devices.set_polarity(state.key, setting.channel, setting.high_means_broken)
    except HardwareError as exc:
        return {"setting": str(setting), "ok": False, "message": str(exc)}
    level = "HIGH" if setting.high_means_broken else "LOW"
    message = f"{state.key} channel {setting.channel}: {level} now means broken (kept)"
    return {"setting": str(setting), "ok": True, "message": message}


async def _listen(
    devices: DeviceService, wait_s: float, probe_window_s: float, bridges: set[str]
) -> None:
    """Until every device is ready and every probed port answered, or the time is up."""
    loop = asyncio.get_running_loop()
    end = loop.time() + max(wait_s, probe_window_s)
    while loop.time() < end:
        states = devices.registry.all()
        settled = bool(states) and all(s.ready or s.unsupported for s in states)
        if settled and all(_answered(devices, path) for path in bridges):
            return
        await asyncio.sleep(0.1)


def _answered(devices: DeviceService, path: str) -> bool:
    session = devices.sessions.get(path)
    return session is not None and bool(session.devices)


def _mark_answer(row: dict[str, Any], devices: DeviceService) -> None:
    if not row["probed"]:
        return
    row["answered"] = _answered(devices, row["port"])
    if not row["answered"]:
        silent = SilentPort(row["port"], row["serial_number"], row["description"], row["bridge"])
        row["note"] = silent.note


def _row(record: PortRecord, matcher: PortMatcher, given: Sequence[str]) -> dict[str, Any]:
    ours = matcher(record) or record.device in given
    bridge = None if ours else bridge_name(record)
    usb = None if record.vid is None else f"{record.vid:04X}:{record.pid or 0:04X}"
    return {
        "port": record.device, "usb": usb, "serial_number": record.serial_number,
        "description": record.description, "probed": ours or bridge is not None,
        "bridge": bridge, "answered": None, "note": None,
    }  # fmt: skip


def _given_row(path: str) -> dict[str, Any]:
    return {
        "port": path, "usb": None, "serial_number": None, "description": "given with --port",
        "probed": True, "bridge": None, "answered": None, "note": None,
    }  # fmt: skip


def _print_report(report: dict[str, Any]) -> None:
    ports = report["ports"]
    if not ports:
        print("no serial ports found")
    for port in ports:
        usb = port["usb"] or "no USB id"
        if port["note"]:
            mark = port["note"]
        elif port["bridge"]:
            mark = f"probed ({port['bridge']})"
        else:
            mark = "probed" if port["probed"] else NOT_OURS
        print(f"{port['port']:<22} {usb:<10} {port['description']}  [{mark}]")
    for error in report["errors"]:
        print(f"  ! {error}")
    for what in ("polarity", "debounce"):
        for setting in report[what]:
            print(("" if setting["ok"] else "  ! ") + f"{what}: {setting['message']}")
    devices = report["devices"]
    if not devices:
        print("no devices answered" if any(p["probed"] for p in ports) else "")
        return
    print()
    width = max(16, *(len(d["key"]) for d in devices))
    print(f"{'device':<{width}} {'state':<12} {'boot':<6} {'fw':<7} {'proto':<5} {'tick':<9} "
          f"{'battery':<8} {'beams':<12} {'sync':<10} port")  # fmt: skip
    for d in devices:
        no_status = d["battery"] is None and d["link"] is None and not d["beams"]
        battery = "-" if no_status else "mains" if d["battery"] is None else f"{d['battery']} %"
        beams = ",".join("-" if b is None else f"{b}%" for b in d["beams"]) or "-"
        sync = "-" if d["sync_error_us"] is None else f"±{d['sync_error_us'] / 1000:.2f} ms"
        tick = f"{d['tick_hz'] / 1e6:g} MHz" if d["tick_hz"] >= 1e6 else f"{d['tick_hz']:g} Hz"
        # A Chronopic or a Timy has no firmware version or protocol of ours to show.
        fw, proto = ("-", "-") if d.get("adapter") else (d["firmware"], d["protocol"])
        where = d["port"] if d.get("adapter") else f"{d['port']}#{d['address']}"
        print(f"{d['key']:<{width}} {d['state']:<12} {d['boot']:<6} {fw:<7} "
              f"{proto:<5} {tick:<9} {battery:<8} {beams:<12} {sync:<10} {where}")  # fmt: skip
        if d["message"]:
            print(f"  ! {d['message']}")
        details = d.get("adapter_details") or {}
        if details:
            shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in details.items()
                              if v is not None)  # fmt: skip
            print(f"  {d['adapter']}: {shown}")
        bad = {k: v for k, v in (d.get("port_stats") or {}).items()
               if v and k in _NOISE_COUNTERS}  # fmt: skip
        if bad:
            print("  ! skipped: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in bad.items()))
        if d["dropped"]:
            print(f"  ! {d['dropped']} edges lost: the device's event buffer was full")
