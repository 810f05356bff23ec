"""`agility run` on real ptys: roles bound to any device and channel (--role, --layout), a rep
timed only once every bound clock has a measured rate, and one clear line for a bad binding."""

from __future__ import annotations

import json
import os
import select
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.messages import DeviceKind, EventKind, Identify, decode_message
from hardware.sim.device import VirtualDevice
from hardware.sim.port import VirtualPort
from hardware.wire import FrameDecoder
from server.app import build_services
from server.config import Settings
from server.db.session import migrate
from server.devices.layouts import LayoutService
from tests.agility_process import Agility
from tests.hardware.host_fake import FakeDevice

DRILL = "backward-sprint-10m"  # roles start and finish, an auto start
A, B = "gate-000000A1", "gate-000000B2"
MS = 1_000_000


def _gate_port(device_id: int, seed: int) -> VirtualPort:
    return VirtualPort([VirtualDevice(DeviceKind.GATE, device_id, seed=seed)], seed=seed + 10)


@pytest.fixture
def gates() -> Iterator[tuple[VirtualPort, VirtualPort]]:
    """Two gates, each on its own cable (one Nano per gate)."""
    ports = _gate_port(0xA1, 1), _gate_port(0xB2, 2)
    for port in ports:
        port.start()
    yield ports
    for port in ports:
        port.stop()


def _pass(device: VirtualDevice, channel: int, at_ns: int) -> None:
    device.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
    device.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + 80 * MS)


def _save_layout(db: Path, name: str, bindings: dict[str, dict[str, object]]) -> None:
    migrate(str(db))
    services = build_services(Settings(db=str(db)))
    try:
        LayoutService(services.engine, services.coordinator).put(name, bindings)
    finally:
        services.engine.dispose()


def test_a_rep_is_timed_across_two_gates_bound_by_layout_and_role(
    gates: tuple[VirtualPort, VirtualPort], tmp_path: Path
) -> None:
    db = tmp_path / "roles.db"
    # The saved lane has both roles on gate A; --role moves the finish to gate B's channel 0.
    _save_layout(db, "Lane 1", {"start": {"device": A, "channel": 1},
                                "finish": {"device": A, "channel": 0}})  # fmt: skip
    a, b = gates
    cli = Agility("run", DRILL, "--device", a.port, "--device", b.port, "--layout", "Lane 1",
                  "--role", "finish=000000b2:0", "--athlete", "Ada Test", "--json",
                  "--db", str(db), "--wait", "30")  # fmt: skip
    try:
        cli.wait_for("rep 1: ready, Ada Test may go")
        start_ns = time.monotonic_ns() + 300 * MS
        finish_ns = start_ns + 2_345 * MS
        _pass(a.devices[0], 1, start_ns)
        _pass(b.devices[0], 0, finish_ns)
    finally:
        code = cli.finish()
    assert code == 0, "\n".join(cli.err)
    err = "\n".join(cli.err)
    for key in (A, B):
        assert f"waiting for clock sync of {key} ... ready" in err
    assert err.index(f"clock sync of {B}") < err.index("rep 1: ready")
    [line] = [json.loads(text) for text in cli.out]
    assert (line["rep"], line["state"]) == (1, "finished")
    truth_s = (finish_ns - start_ns) / 1e9
    # Two device clocks, each mapped with a measured rate: well within a millisecond.
    assert abs(line["splits"]["0-10m"] - truth_s) < 0.002, (line, truth_s)


def test_without_roles_the_first_device_binds_in_running_order(tmp_path: Path) -> None:
    port = _gate_port(0xA1, 3)
    port.start()
    cli = Agility("run", DRILL, "--device", port.port, "--athlete", "Bo", "--json",
                  "--db", str(tmp_path / "one.db"), "--wait", "30")  # fmt: skip
    try:
        cli.wait_for("rep 1: ready, Bo may go")
        start_ns = time.monotonic_ns() + 300 * MS
        _pass(port.devices[0], 0, start_ns)  # start on channel 0, finish on 1
        _pass(port.devices[0], 1, start_ns + 2_000 * MS)
        code = cli.finish()
    finally:
        port.stop()
    assert code == 0, "\n".join(cli.err)
    assert f"waiting for clock sync of {A} ... ready" in "\n".join(cli.err)
    [line] = [json.loads(text) for text in cli.out]
    assert line["state"] == "finished"
    assert abs(line["splits"]["0-10m"] - 2.0) < 0.002, line


def _error(*args: str) -> str:
    """Runs `agility run` expecting a usage error; returns its stderr."""
    cli = Agility("run", DRILL, "--athlete", "X", *args)
    code = cli.finish()
    err = "\n".join(cli.err)
    assert code == 2, err
    assert "Traceback" not in err
    return err


def test_bindings_the_drill_cannot_use_are_refused_before_any_port_opens(
    tmp_path: Path,
) -> None:
    db = ("--db", str(tmp_path / "bad.db"), "--device", str(tmp_path / "no-such-port"))
    err = _error(*db, "--role", "start=gate-000000A1:0", "--role", "sprint=gate-000000A1:1")
    assert "backward-sprint-10m has no role 'sprint'; its roles: start, finish" in err
    err = _error(*db, "--role", "start=gate-000000A1:0")
    assert "role(s) finish bound to no device; add --role finish=DEVICE:CHANNEL" in err
    err = _error(*db, "--role", "start=gate-000000A1:0", "--role", "start=gate-000000A1:1")
    assert "role start is bound twice" in err
    err = _error(*db, "--role", "start")
    assert "argument --role: 'start' is not ROLE=DEVICE:CHANNEL" in err
    err = _error(*db, "--role", "start=lamp-12:0")
    assert "'lamp-12' is not a device" in err
    err = _error(*db, "--layout", "Lane 9")
    assert "no layout 'Lane 9' (layouts: none saved yet)" in err
    err = _error(*db[:2], "--device", "sim", "--role", "start=gate-000000A1:0")
    assert "--device sim runs alone" in err


def test_a_missing_device_and_a_missing_channel_are_named(
    gates: tuple[VirtualPort, VirtualPort], tmp_path: Path
) -> None:
    a, b = gates
    common = ("--db", str(tmp_path / "bad.db"), "--device", a.port, "--device", b.port)
    err = _error(*common, "--role", f"start={A}:0", "--role", "finish=gate-DEADBEEF:0",
                 "--wait", "2")  # fmt: skip
    assert f"device gate-DEADBEEF did not show up on {a.port}, {b.port} within 2 s" in err
    assert f"(seen: {A}, {B})" in err
    err = _error(*common, "--role", f"start={A}:0", "--role", f"finish={B}:5")
    assert f"role finish: {B} has 2 channel(s), 0 to 1; there is no channel 5" in err
    err = _error(*common, "--role", f"start={A}:0", "--role", f"finish={A}:0")
    assert f"roles start and finish are both on {A} channel 0" in err


def _hello_only(device: FakeDevice, stop: threading.Event) -> None:
    """Say HELLO to every IDENTIFY and never answer a PING: a clock that cannot sync."""
    decoder = FrameDecoder()
    while not stop.is_set():
        readable, _, _ = select.select([device.master], [], [], 0.05)
        if not readable:
            continue
        try:
            data = os.read(device.master, 4096)
        except BlockingIOError:
            continue
        for frame in decoder.feed(data):
            if frame.addr == 0 and isinstance(decode_message(frame), Identify):
                device.hello()


def test_a_clock_that_does_not_sync_in_time_stops_the_run_before_a_rep(tmp_path: Path) -> None:
    device = FakeDevice(device_id=0xC3, answer_pings=False)
    stop = threading.Event()
    responder = threading.Thread(target=_hello_only, args=(device, stop), daemon=True)
    responder.start()
    try:
        err = _error("--db", str(tmp_path / "sync.db"), "--device", device.port,
                     "--role", "start=gate-000000C3:0", "--role", "finish=gate-000000C3:1",
                     "--wait", "1")  # fmt: skip
    finally:
        stop.set()
        responder.join(timeout=2)
        device.unplug()
    assert "waiting for clock sync of gate-000000C3 ... not ready" in err
    assert "gate-000000C3: clock not ready to time after 1 s: connecting" in err
    assert "rep 1" not in err
