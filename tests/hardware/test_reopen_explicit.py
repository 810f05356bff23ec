"""A port given by hand (`--device PATH`, not found by USB identity) is reopened when it comes
back after an unplug, as ports found by their USB identity are (issue 16, item 7)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from hardware.device import DeviceEvent
from hardware.device_ports import DevicePorts
from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from tests.hardware.host_fake import run
from tests.support import wait_until_async

MS = 1_000_000


def _point(link: Path, target: str) -> None:
    """(Re)point the stable path at a pty, atomically, as udev's by-id links are."""
    tmp = link.with_name(link.name + ".new")
    os.symlink(target, tmp)
    os.replace(tmp, link)


def test_port_given_by_path_is_reopened_after_unplug_and_replug(tmp_path: Path) -> None:
    sim = PluggedDevice(device_id=0x00C0FFEE, seed=7)
    link = tmp_path / "ttyGATE"
    _point(link, sim.start())

    async def scenario() -> None:
        events: list[DeviceEvent] = []
        devices = DevicePorts(events.append)
        try:
            session = await devices.open(str(link))
            await session.wait_ready(timeout_s=3.0)
            key = next(iter(session.devices.values())).key
            sim.schedule_edge(0, EventKind.BEAM_BROKEN, time.monotonic_ns() + 20 * MS)
            await wait_until_async("the first event", lambda: len(events) == 1, 2.0)

            sim.unplug()
            state = devices.registry.by_key(key)
            assert state is not None
            await wait_until_async("the device marked lost", lambda: state.state == "lost", 2.0)
            sim.schedule_edge(1, EventKind.BEAM_BROKEN, time.monotonic_ns())  # while unplugged
            _point(link, sim.replug())  # back, under a new pty behind the same stable path

            await wait_until_async("the device ready again", lambda: state.state == "ready", 5.0)
            assert [row["state"] for row in devices.snapshot()] == ["ready"]
            await wait_until_async("the edge made while unplugged", lambda: len(events) == 2, 2.0)
            sim.schedule_edge(0, EventKind.BEAM_RESTORED, time.monotonic_ns() + 20 * MS)
            await wait_until_async("a new event after the replug", lambda: len(events) == 3, 2.0)
            assert [(e.seq, e.channel, e.kind) for e in events] == [
                (0, 0, EventKind.BEAM_BROKEN),
                (1, 1, EventKind.BEAM_BROKEN),
                (2, 0, EventKind.BEAM_RESTORED),
            ]
            assert (
                devices.sessions[str(link)] is not session and not devices.sessions[str(link)].lost
            )
        finally:
            await devices.close_all()

    try:
        run(scenario)
    finally:
        sim.stop()


def test_a_port_closed_by_hand_is_not_reopened(tmp_path: Path) -> None:
    sim = PluggedDevice(device_id=0x00C0FFEF, seed=8)
    link = tmp_path / "ttyGATE"
    _point(link, sim.start())

    async def scenario() -> None:
        devices = DevicePorts(lambda _event: None)
        try:
            session = await devices.open(str(link))
            await session.wait_ready(timeout_s=3.0)
            await devices.close(str(link))
            await wait_until_async("the port closed", lambda: not devices.sessions, 1.0)
            sim.unplug()
            _point(link, sim.replug())
            await asyncio.sleep(1.2)  # over two reopen attempts
            assert not devices.sessions
        finally:
            await devices.close_all()

    try:
        run(scenario)
    finally:
        sim.stop()
