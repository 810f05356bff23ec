"""Noise that passes the CRC cannot grow the registry without end (issue 16, item 8): HELLOs
with valid CRCs and random device ids are bounded per port, counted once in the log and in
`dropped_new_devices`, and the phantoms they made are forgotten once they go silent, while
the real device on the same port keeps its state and its events."""

from __future__ import annotations

import logging
import random

import pytest

from hardware import device_state, records, registry
from hardware.clock import ClockModel
from hardware.device import MAX_DEVICES_PER_PORT, DeviceEvent, PortSession
from hardware.device_ports import DevicePorts
from hardware.messages import (
    Caps,
    DeviceKind,
    EventAck,
    Hello,
    Identify,
    Message,
    Pong,
    encode_message,
)
from tests.hardware.host_fake import FakeDevice, run
from tests.support import wait_until_async

PHANTOMS = 200
FORGET_AFTER_US = 2_500_000  # instead of 30 s; well over the 0.98 s ping period of a real gate


class RealAtZero(FakeDevice):
    """A real gate at address 0; what the noise names at other addresses answers nothing."""

    def send(self, msg: Message, addr: int = 0, seq: int | None = None) -> bytes:
        if isinstance(msg, Pong) and addr != 0:
            return b""
        return super().send(msg, addr, seq)


def phantom_hellos(rng: random.Random, count: int) -> bytes:
    """Frames as noise could make them: well formed, valid CRC, random ids and addresses."""
    ids = rng.sample(range(1, 1 << 32), count)
    return b"".join(
        encode_message(
            rng.randrange(1, 32), rng.randrange(1 << 16),
            Hello(1, rng.choice(list(DeviceKind)), device_id, rng.getrandbits(32),
                  (rng.randrange(256), 0, 0), rng.randrange(1, 1 << 32), rng.randrange(8),
                  Caps(rng.randrange(16))),
        )
        for device_id in ids
    )  # fmt: skip


def test_phantom_devices_are_bounded_counted_and_forgotten(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(device_state, "SILENT_FORGET_US", FORGET_AFTER_US)
    caplog.set_level(logging.WARNING, logger="hardware.device")
    rng = random.Random(16)

    async def scenario() -> None:
        events: list[DeviceEvent] = []
        devices = DevicePorts(events.append)
        gate = RealAtZero()
        try:
            session = await devices.open(gate.port)
            assert isinstance(session, PortSession)
            gate.start_reading()
            await gate.expect(Identify)
            gate.hello()
            await session.wait_ready(timeout_s=3.0)
            real = session.devices[0]

            data = phantom_hellos(rng, PHANTOMS)
            for i in range(0, len(data), 1024):
                gate.write(data[i : i + 1024])
            accepted = MAX_DEVICES_PER_PORT - 1  # the real gate is one of the port's devices
            await wait_until_async(
                "the drops", lambda: session.dropped_new_devices == PHANTOMS - accepted, 3.0
            )
            assert len(devices.registry.all()) == MAX_DEVICES_PER_PORT
            row = next(r for r in devices.snapshot() if r["key"] == real.key)
            assert row["port_stats"]["dropped_new_devices"] == PHANTOMS - accepted
            dropped_logs = [r for r in caplog.records if "dropped" in r.getMessage()]
            assert len(dropped_logs) == 1, "one log line per port, not one per frame"

            # Silent from now on: forgotten, all but the real gate, which answers its PINGs.
            await wait_until_async(
                "the phantoms forgotten", lambda: len(devices.registry.all()) == 1, 5.0
            )
            assert devices.registry.all() == [real] and real.ready
            assert all(s is real for s in session.devices.values())
            assert [r["key"] for r in devices.snapshot()] == [real.key]

            # The port takes new devices again, and the real gate's events still flow.
            gate.write(phantom_hellos(rng, 3))
            await wait_until_async(
                "new ids accepted again", lambda: len(devices.registry.all()) == 4, 2.0
            )
            assert session.dropped_new_devices == PHANTOMS - accepted
            gate.event(0)
            await wait_until_async(
                "the event", lambda: [e.device for e in events] == [real.key], 2.0
            )
            await wait_until_async("its ACK", lambda: bool(gate.got(EventAck)), 2.0)
        finally:
            await devices.close_all()
            gate.unplug()

    run(scenario)


def test_a_device_that_was_ready_for_long_is_kept_while_unplugged() -> None:
    """Forgetting is for what was never really there: a gate that synchronised and talked for
    longer than BRIEF_US stays known while unplugged (it resumes its event numbers)."""
    state = device_state.DeviceState(
        info=records.DeviceInfo("/dev/x", 0, DeviceKind.GATE, 1, 2, (1, 0, 0), 1_000_000, 2, 1),
        clock=ClockModel(1_000_000),
    )
    state.heard(0)
    state.heard(device_state.BRIEF_US + 1)
    later = device_state.BRIEF_US + 1 + device_state.SILENT_FORGET_US
    assert state.forgettable(later)  # never ready: a phantom
    state.ever_ready = True
    assert not state.forgettable(later)
    bound: list[device_state.DeviceState] = []  # what a role holds, as the stations keep
    reg = registry.DeviceRegistry(keep=lambda s: any(s is held for held in bound))
    reg.resume_or_create(state.info)
    brief = reg.all()[0]
    brief.ever_ready = True
    brief.heard(0)
    brief.heard(1_000)
    bound.append(brief)
    assert reg.forget_silent(device_state.SILENT_FORGET_US + 1_000) == []
    bound.clear()
    assert reg.forget_silent(device_state.SILENT_FORGET_US + 1_000) == [brief]
