"""Nano clones' USB-serial bridges (CH340, FTDI): probed with IDENTIFY, served if a device
answers, closed and left alone until replugged if nothing does; `agility devices` says which."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from hardware.discovery import DEFAULT_USB_IDS, PortRecord, PortWatcher
from hardware.messages import DeviceKind, Identify, decode_message
from hardware.sim.device import VirtualDevice
from hardware.sim.port import UsbIdentity, VirtualPort
from hardware.wire import FrameDecoder
from server.devices import cli as devices_cli
from server.devices.service import DeviceService
from tests.hardware.host_fake import run
from tests.support import wait_until_async

CH340 = (0x1A86, 0x7523)
FTDI = (0x0403, 0x6001)
GATE_ID = 0x000000A1
GATE_KEY = f"gate-{GATE_ID:08X}"
WINDOW_S = 1.0  # the tests' probe window: the simulator answers in a few ms


@dataclass(frozen=True)
class Port:
    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str


class SilentPty:
    """A port where something that is not ours sits: it reads nothing and never answers."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)

    def received(self) -> list[object]:
        """Every message the host wrote to this port so far."""
        data = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self.master, 4096):
                data += chunk
        return [decode_message(f) for f in FrameDecoder().feed(data)]

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def nano() -> Iterator[VirtualPort]:
    """A simulated gate behind a CH340, as a Nano clone with the reference firmware."""
    usb = UsbIdentity(*CH340, serial_number=None, description="USB2.0-Serial")
    port = VirtualPort([VirtualDevice(DeviceKind.GATE, GATE_ID, seed=3)], usb=usb, seed=4)
    port.start()
    yield port
    port.stop()


@pytest.fixture
def silent() -> Iterator[SilentPty]:
    pty = SilentPty()
    yield pty
    pty.close()


def _record(path: str, usb: tuple[int, int], serial: str | None = None) -> Port:
    return Port(path, *usb, serial, "USB2.0-Serial")


def test_a_bridge_port_that_answers_is_served_and_a_silent_one_is_left_alone(
    nano: VirtualPort, silent: SilentPty
) -> None:
    async def scenario() -> None:
        ports = [_record(nano.port, CH340), _record(silent.path, CH340, "X1")]
        manager = DeviceService(lambda _event: None)
        try:
            manager.watch_usb(DEFAULT_USB_IDS, lister=lambda: list(ports),
                              probe_window_s=WINDOW_S)  # fmt: skip
            await wait_until_async(
                "the probe's end", lambda: silent.path in manager.silent, 3 * WINDOW_S
            )
            assert silent.path not in manager.sessions, "a silent port is closed"
            assert [type(m) for m in silent.received()][:1] == [Identify], "it was asked"
            assert manager.silent[silent.path].note == (
                "CH340, no answer to IDENTIFY: not a device of ours"
            )
            state = manager.registry.by_key(GATE_KEY)
            assert state is not None and state.info.port == nano.port
            assert nano.port in manager.sessions and nano.port not in manager.silent
            assert [s.key for s in manager.registry.all()] == [GATE_KEY], "no device on silent"

            silent.received()  # what the probe sent
            await asyncio.sleep(3 * 0.5)  # three more looks at the ports (every 0.5 s)
            assert silent.path not in manager.sessions, "not opened again while it stays"
            assert silent.received() == [], "not asked again while it stays"

            ports[1] = replace(ports[1], serial_number="X2")  # another device on that path
            await wait_until_async("probed afresh", lambda: silent.path in manager.sessions, 2.0)
            assert silent.path not in manager.silent
            ports.pop(1)  # unplugged during its probe
            await wait_until_async(
                "closed when gone", lambda: silent.path not in manager.sessions, 2.0
            )
            await asyncio.sleep(WINDOW_S)  # its probe is over, and forgotten
            assert silent.path not in manager.silent
        finally:
            await manager.close_all()

    run(scenario)


def test_ports_the_coach_names_are_opened_without_probing(silent: SilentPty) -> None:
    given = SilentPty()  # a CH340 port named with --device

    async def scenario() -> None:
        ports = [_record(silent.path, FTDI), _record(given.path, CH340)]
        manager = DeviceService(lambda _event: None)
        try:
            await manager.open(given.path)
            manager.watch_usb((*DEFAULT_USB_IDS, FTDI), lister=lambda: list(ports),
                              probe_window_s=0.2)  # fmt: skip
            await wait_until_async("the port opened", lambda: silent.path in manager.sessions, 2.0)
            await asyncio.sleep(0.6)  # past the probe window
            assert silent.path in manager.sessions, "its USB id was given with --usb-id"
            assert given.path in manager.sessions, "it was given with --device"
            assert not manager.silent
        finally:
            await manager.close_all()

    try:
        run(scenario)
    finally:
        given.close()


def test_watcher_treats_a_new_serial_on_the_same_path_as_a_replug() -> None:
    async def scenario() -> None:
        seen: list[str] = []

        async def added(record: PortRecord) -> bool:
            seen.append(f"+{record.serial_number}")
            return True

        async def removed(path: str) -> None:
            seen.append(f"-{path}")

        ports = [_record("/dev/ttyUSB0", CH340, "A")]
        watcher = PortWatcher(lambda _r: True, added, removed, lambda: list(ports))
        await watcher.poll()
        await watcher.poll()
        ports[0] = replace(ports[0], serial_number="B")
        await watcher.poll()
        assert seen == ["+A", "-/dev/ttyUSB0", "+B"]

    run(scenario)


def test_devices_survey_lists_the_answering_bridge_and_marks_the_silent_one(
    nano: VirtualPort, silent: SilentPty, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = [_record(nano.port, CH340), _record(silent.path, FTDI, "F1"),
             _record("/dev/ttyS0", (0x8086, 0x1234))]  # fmt: skip

    async def scenario() -> dict[str, Any]:
        return await devices_cli.survey(
            DEFAULT_USB_IDS, [], 0.2, lister=lambda: list(ports), probe_window_s=WINDOW_S
        )

    report = run(scenario)
    rows = {row["port"]: row for row in report["ports"]}
    assert (rows[nano.port]["bridge"], rows[nano.port]["answered"]) == ("CH340", True)
    assert rows[silent.path]["answered"] is False
    assert rows[silent.path]["note"] == "FTDI FT232R, no answer to IDENTIFY: not a device of ours"
    assert rows["/dev/ttyS0"]["probed"] is False and rows["/dev/ttyS0"]["bridge"] is None
    devices = report["devices"]
    assert [(d["key"], d["port"]) for d in devices] == [(GATE_KEY, nano.port)]

    devices_cli._print_report(report)
    out = capsys.readouterr().out
    assert "[FTDI FT232R, no answer to IDENTIFY: not a device of ours]" in out
    assert "[probed (CH340)]" in out and GATE_KEY in out
    assert "[not ours (add --usb-id or --port to probe)]" in out
