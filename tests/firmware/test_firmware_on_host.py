"""The firmware in simavr under the real host: `agility devices`, `agility run`, a restarted
host, and a pod's cues. Cycles logged by the harness are the truth every figure is checked
against; the accuracy figures with more reps are in `python -m bench run firmware`."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.firmware import LAG_EXCLUDE_US
from hardware.device import DeviceEvent
from hardware.device_ports import DevicePorts
from hardware.messages import EventKind
from hardware.sim.avr import AvrDevice
from hardware.sim.avr_image import F_CPU, cycles_to_us, firmware_elf, write_eeprom
from hardware.timebase import mono_us
from tests.agility_process import Agility

GATE_ID, POD_ID = 0x00AB12CD, 0x00C0FFEE
GATE = f"gate-{GATE_ID:08X}"
CYCLES_PER_TICK = 8


@pytest.fixture
def gate(firmware_built: Path, tmp_path: Path) -> Iterator[AvrDevice]:
    eeprom = write_eeprom(tmp_path / "gate.eeprom", GATE_ID, 3)
    with AvrDevice(firmware_elf("gate"), eeprom=eeprom) as avr:
        yield avr


def test_agility_devices_lists_the_gate_as_its_hello_says(gate: AvrDevice) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "devices", "--port", gate.port, "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (device,) = report["devices"]
    assert device["key"] == GATE and device["firmware"] == "1.0.0"
    assert device["protocol"] == 1 and device["tick_hz"] == 2_000_000
    assert device["state"] in ("syncing", "ready")
    assert device["beams"] == [100, 100]


def test_agility_run_times_a_two_gate_drill_from_the_injected_edges(
    gate: AvrDevice, tmp_path: Path
) -> None:
    """One Nano, two beams (start on D8, finish on D2): the coach's first lane.

    A rep during which the harness fell behind the wall clock is no test of the host: the
    simulated chip's time stalled against the host's, which a crystal never does, so the rate
    the host fitted is off for a while. As in the firmware benchmark, such a rep must still be
    timed, but only the steady reps are held to the 0.5 ms bound, and at least two must be.
    """
    reps = 4
    rng = random.Random(3)
    truth_s: list[float] = []
    lagged: list[bool] = []
    lag_us = gate.lag_us()
    run = Agility(
        "run", "sprint-10m", "--db", str(tmp_path / "run.db"), "--device", gate.port,
        "--athlete", "Sam", "--reps", str(reps), "--json",
        "--role", f"start={GATE_ID:08X}:0", "--role", f"finish={GATE_ID:08X}:1",
    )  # fmt: skip
    try:
        for rep in range(1, reps + 1):
            run.wait_for(f"rep {rep}: ready")
            # Torso through the start beam, then through the finish beam 1.7-2.4 s later.
            start = gate.cycle() + F_CPU // 5
            finish = start + int(rng.uniform(1.7, 2.4) * F_CPU)
            plan = [("D8", 0, start), ("D8", 1, start + F_CPU // 8)]
            plan += [("D2", 0, finish), ("D2", 1, finish + F_CPU // 8)]
            for pin, level, at in plan:
                gate.set_pin_at(pin, level, at)
            applied = [gate.applied_cycle(pin, level, at, timeout_s=5.0) for pin, level, at in plan]
            truth_s.append((applied[2] - applied[0]) / F_CPU)
            run.wait_for(f'"rep": {rep}')
            lag_before_us, lag_us = lag_us, gate.lag_us()
            lagged.append(lag_us - lag_before_us > LAG_EXCLUDE_US)
        assert run.finish() == 0, "\n".join(run.err)
        rows = [json.loads(line) for line in run.out if line.startswith("{")]
    finally:
        run.stop()
    assert [r["state"] for r in rows] == ["finished"] * reps
    errors_ms = [abs(r["total_s"] - t) * 1000 for r, t in zip(rows, truth_s, strict=True)]
    steady_ms = [e for e, late in zip(errors_ms, lagged, strict=True) if not late]
    assert len(steady_ms) >= 2, f"the harness fell behind the wall clock in {lagged}: too busy"
    assert max(steady_ms) <= 0.5, (errors_ms, lagged)


def _host(port: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.firmware.host_proc", port],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def _wait(lines: list[str], pred: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: got {lines}")
        time.sleep(0.02)


def _seqs(lines: list[str]) -> list[int]:
    return [int(line.split()[1]) for line in lines if line.startswith("event ")]


def test_a_host_killed_mid_rep_and_restarted_gets_every_unacknowledged_event_once(
    gate: AvrDevice,
) -> None:
    first, first_lines = _host(gate.port)
    try:
        _wait(first_lines, lambda: "ready" in first_lines, "first host ready")
        for pin, level in (("D8", 0), ("D8", 1)):  # the start of a rep
            gate.set_pin(pin, level)
        _wait(first_lines, lambda: len(_seqs(first_lines)) == 2, "two events")
        time.sleep(0.3)  # their acknowledgement reaches the device
        gate.set_pin("D2", 0)  # the finish beam breaks ...
        first.send_signal(signal.SIGKILL)  # ... and the laptop program dies at that moment
        first.wait(timeout=10)
    finally:
        first.kill()
    for pin, level in (("D2", 1), ("D8", 0), ("D8", 1)):  # edges while no host listens
        gate.set_pin(pin, level)
    second, second_lines = _host(gate.port)
    try:
        _wait(second_lines, lambda: len(_seqs(second_lines)) >= 4, "events after restart")
        time.sleep(0.5)  # any repeat would have arrived by now
    finally:
        second.kill()
    seen_first, seen_second = _seqs(first_lines), _seqs(second_lines)
    assert seen_first[:2] == [0, 1]
    assert len(seen_second) == len(set(seen_second)), "an event was delivered twice"
    assert set(seen_first) | set(seen_second) == set(range(6))
    assert not {0, 1} & set(seen_second), "acknowledged events came again"


@pytest.fixture
def pod(firmware_built: Path, tmp_path: Path) -> Iterator[AvrDevice]:
    eeprom = write_eeprom(tmp_path / "pod.eeprom", POD_ID, 0)
    with AvrDevice(firmware_elf("pod"), eeprom=eeprom) as avr:
        yield avr


COLOURS = {(255, 0, 0): {"D9"}, (0, 255, 0): {"D10"}, (0, 0, 255): {"D11"},
           (255, 255, 0): {"D9", "D10"}, (255, 255, 255): {"D9", "D10", "D11"}}  # fmt: skip


def test_the_pod_lights_the_commanded_colour_at_the_commanded_tick_and_stamps_touches(
    pod: AvrDevice,
) -> None:
    onset_errors_us, lead_errors_us, reaction_errors_us = asyncio.run(_cue_and_touch(pod))
    assert max(onset_errors_us) <= 50, onset_errors_us
    assert all(-50 <= e <= 100 for e in lead_errors_us), lead_errors_us
    assert max(reaction_errors_us) <= 5, reaction_errors_us


async def _cue_and_touch(pod: AvrDevice) -> tuple[list[float], list[float], list[float]]:
    """Lights each colour at a host time and touches 250-400 ms after it lit; returns, per
    cue, the onset tick against the pin change, the onset against the commanded tick, and
    the reaction time against the cycles (all in us)."""
    events: list[DeviceEvent] = []
    hub = DevicePorts(events.append)
    onset_errors_us: list[float] = []
    lead_errors_us: list[float] = []
    reaction_errors_us: list[float] = []
    try:
        session = await hub.open(pod.port)
        (state,) = await session.wait_ready(timeout_s=10.0)
        # One touch ties the pod's ticks to the harness's cycles (input capture is exact).
        touch_cycles = [pod.set_pin("D8", 0)]
        pod.set_pin("D8", 1)
        rng = random.Random(8)
        for colour, pins in list(COLOURS.items()) * 2:
            # A loaded machine slows simavr, and the host may resynchronise the pod's clock
            # (a light is refused meanwhile, as on the field): wait for it, then cue.
            await session.wait_ready(timeout_s=10.0)
            at_mono_us = mono_us() + 150_000
            fit = state.clock.fit
            assert fit is not None
            at_ticks = fit.mono_us_to_ticks(at_mono_us)
            before = pod.cycle()
            onset = await (
                await hub.schedule_light(state.key, 0, at_mono_us, colour, duration_ms=400)
            )
            assert onset.kind is EventKind.LIGHT_ON
            lit = [c for c in pod.outputs() if c.cycle >= before and c.level == 1]
            assert {c.pin for c in lit} == pins, (colour, lit)
            pin_cycle = min(c.cycle for c in lit)
            touch_at = pin_cycle + int(rng.uniform(0.25, 0.4) * F_CPU)
            pod.set_pin_at("D8", 0, touch_at)
            touch_cycles.append(pod.applied_cycle("D8", 0, touch_at))
            pod.set_pin("D8", 1)
            touches = await _touches(events, len(touch_cycles))
            offset = touch_cycles[0] - touches[0].ticks * CYCLES_PER_TICK
            onset_cycle = onset.ticks * CYCLES_PER_TICK + offset
            onset_errors_us.append(abs(cycles_to_us(onset_cycle - pin_cycle)))
            lead_errors_us.append((onset.ticks - at_ticks) / 2)
            reaction_us = (touches[-1].ticks - onset.ticks) / 2
            true_us = cycles_to_us(touch_cycles[-1] - pin_cycle)
            reaction_errors_us.append(abs(reaction_us - true_us))
            await asyncio.sleep(0.5)  # the light goes dark by itself
    finally:
        await hub.close_all()
    return onset_errors_us, lead_errors_us, reaction_errors_us


async def _touches(events: list[DeviceEvent], count: int) -> list[DeviceEvent]:
    for _ in range(250):
        touches = [e for e in events if e.kind is EventKind.POD_TOUCHED]
        if len(touches) >= count:
            return touches
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} touches expected, got {len(touches)}")


def test_agility_devices_sets_a_beams_polarity_and_the_gate_keeps_it(
    firmware_built: Path, tmp_path: Path
) -> None:
    eeprom = write_eeprom(tmp_path / "gate.eeprom", GATE_ID, 0)
    with AvrDevice(firmware_elf("gate"), eeprom=eeprom) as avr:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "devices", "--port", avr.port,
             "--polarity", f"{GATE_ID:08X}:1=high", "--polarity", f"{GATE_ID:08X}:5=high"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr  # channel 5 does not exist
    assert f"{GATE} channel 1: HIGH now means broken" in done.stdout
    assert "no channel 5" in done.stdout
    assert eeprom.read_bytes()[8] == 0b10
    # After a power cycle, beam B reads HIGH as broken: its pull-up alone is a broken beam.
    with AvrDevice(firmware_elf("gate"), eeprom=eeprom) as avr:
        report = subprocess.run(
            [sys.executable, "-m", "server.cli", "devices", "--port", avr.port, "--json"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        (device,) = json.loads(report.stdout)["devices"]
        assert device["beams"] == [100, 0]
        assert avr.wait_output("D13", 1).level == 1
