"""A port another program holds is reported, not fought over (issue 16, item 10): the devices
API lists a problem row for it, `agility devices` says so, and the other ports go on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
import serial

from hardware.errors import PortUnavailable
from hardware.messages import Identify
from server.devices.cli import _print_report, survey
from server.devices.service import DeviceService
from tests.hardware.host_fake import FakeDevice, run
from tests.support import wait_until_async


def _hold(path: str) -> serial.Serial:
    """Another program's hold on the port: pyserial's exclusive open, an flock."""
    return serial.Serial(path, 115200, timeout=0, exclusive=True)


def test_a_port_in_use_is_a_problem_row_and_the_other_ports_go_on() -> None:
    async def scenario() -> None:
        busy, good = FakeDevice(device_id=0xB0000001), FakeDevice(device_id=0xB0000002)
        other_program = _hold(busy.port)
        manager = DeviceService(lambda _event: None)
        try:
            with pytest.raises(PortUnavailable) as raised:
                await manager.open(busy.port)
            message = f"port {busy.port} is in use by another program"
            assert str(raised.value).startswith(message)

            session = await manager.open(good.port)
            good.start_reading()
            await good.expect(Identify)
            good.hello()
            await session.wait_ready(timeout_s=3.0)

            rows = manager.devices_page()
            assert [r["key"] for r in rows] == ["gate-B0000002", f"port:{busy.port}"]
            problem = rows[1]
            assert problem["problem"] is True and problem["kind"] == "port"
            assert problem["port"] == busy.port and problem["message"].startswith(message)
            assert [r["key"] for r in manager.snapshot()] == ["gate-B0000002"]

            # Once the other program lets go, the port is taken and the problem is gone.
            other_program.close()
            await wait_until_async("the port taken", lambda: busy.port in manager.sessions, 2.0)
            busy.start_reading()
            await busy.expect(Identify)
            busy.hello()
            await wait_until_async("both devices", lambda: len(manager.devices_page()) == 2, 2.0)
            assert not any(r.get("problem") for r in manager.devices_page())
        finally:
            other_program.close()
            await manager.close_all()
            busy.unplug()
            good.unplug()

    run(scenario)


def test_agility_devices_says_which_port_is_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario() -> dict[str, object]:
        busy, good = FakeDevice(device_id=0xB0000003), FakeDevice(device_id=0xB0000004)
        other_program = _hold(busy.port)

        async def answer() -> None:
            good.start_reading()
            await good.expect(Identify)
            good.hello()

        try:
            answering = asyncio.get_running_loop().create_task(answer())
            report = await survey((), [busy.port, good.port], 1.5, lister=lambda: [])
            await answering
            return {"report": report, "busy": busy.port}
        finally:
            other_program.close()
            busy.unplug()
            good.unplug()

    got = run(scenario)
    report, busy_port = got["report"], got["busy"]
    assert isinstance(report, dict) and isinstance(busy_port, str)
    message = f"port {busy_port} is in use by another program"
    assert [e for e in report["errors"] if e.startswith(message)]
    assert [d["key"] for d in report["devices"]] == ["gate-B0000004"]
    _print_report(report)
    out = capsys.readouterr().out
    assert message in out and "gate-B0000004" in out


@dataclass
class _Record:
    device: str
    vid: int | None = 0x1A86
    pid: int | None = 0x7523  # a CH340: probed, as a Nano clone's
    serial_number: str | None = None
    description: str = "USB-Serial CH340"


def test_a_probed_port_in_use_is_reported_once_and_cleared_when_it_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        busy = FakeDevice()
        other_program = _hold(busy.port)
        listed = [_Record(busy.port)]
        manager = DeviceService(lambda _event: None)
        try:
            manager.watch_usb([], lister=lambda: list(listed), probe_window_s=0.5)
            await wait_until_async("the problem", lambda: busy.port in manager.problems, 2.0)
            await asyncio.sleep(0.6)  # more polls: still one problem, logged once
            rows = manager.devices_page()
            assert [(r["kind"], r["port"]) for r in rows] == [("port", busy.port)]
            in_use = [r for r in caplog.records if "in use by another program" in r.getMessage()]
            assert len(in_use) == 1
            listed.clear()  # unplugged
            await wait_until_async("the problem cleared", lambda: not manager.problems, 2.0)
            assert manager.devices_page() == []
        finally:
            other_program.close()
            await manager.close_all()
            busy.unplug()

    run(scenario)
