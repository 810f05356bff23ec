"""DevicePorts, registry and PortWatcher: a device resumes on any port, a new boot starts over."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.device import DeviceEvent
from hardware.device_ports import DevicePorts
from hardware.discovery import PortMatcher
from hardware.messages import EventAck, Identify, Status
from tests.hardware.host_fake import DEVICE_ID, FakeDevice, run
from tests.support import wait_until_async

KEY = f"gate-{DEVICE_ID:08X}"
USB = (0x1209, 0xA611)


@dataclass
class Port:
    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str = "agility gate"


def acks(device: FakeDevice) -> list[int]:
    return [m.evseq for m in device.got(EventAck)]


def test_matcher_uses_usb_identity_not_names() -> None:
    match = PortMatcher([USB])
    assert match(Port("/dev/ttyACM7", *USB, "G1"))
    assert not match(Port("/dev/ttyACM0", 0x0403, 0x6001, "G1"))
    assert not match(Port("/dev/ttyS0", None, None, None))
    only_g2 = PortMatcher([USB], serial_numbers=["G2"])
    assert not only_g2(Port("/dev/ttyACM7", *USB, "G1"))
    assert only_g2(Port("/dev/ttyACM9", *USB, "G2"))


def test_device_resumes_on_a_new_port_with_its_clock_and_event_numbers() -> None:
    async def scenario() -> None:
        events: list[DeviceEvent] = []
        devices = DevicePorts(events.append)
        first = FakeDevice()
        second = FakeDevice()  # the same device (id and boot), replugged: a new tty path
        try:
            session = await devices.open(first.port)
            first.start_reading()
            await first.expect(Identify)
            first.hello()
            await session.wait_ready(timeout_s=3.0)
            base = first.ticks()  # near the counter the PONGs reported, as a real edge is
            for n in range(3):
                first.event(n, tick=base + 1_000 * n)
            await wait_until_async("ACK(2)", lambda: acks(first)[-1:] == [2], 2.0)
            state = devices.registry.by_key(KEY)
            assert state is not None and state.state == "ready"
            clock = state.clock
            samples = clock.sample_count
            first.unplug()
            await wait_until_async("the device marked lost", lambda: state.state == "lost", 2.0)
            assert devices.snapshot()[0]["state"] == "lost"

            session2 = await devices.open(second.port)
            second.start_reading()
            await second.expect(Identify)
            second.hello()
            # Events 1 and 2 again (their ACK was lost with the cable), then a new one.
            for n in (1, 2, 3):
                second.event(n, tick=base + 1_000 * n)
            await wait_until_async("the new event", lambda: len(events) >= 4, 2.0)
            await wait_until_async("ACK(3)", lambda: acks(second)[-1:] == [3], 2.0)
            assert [(e.seq, e.ticks - events[0].ticks) for e in events] == [
                (n, 1_000 * n) for n in range(4)
            ]
            assert devices.registry.by_key(KEY) is state and state.clock is clock
            assert clock.sample_count >= samples and state.ready
            assert state.expected == 4 and state.duplicates == 2
            assert session2.devices[0] is state and state.info.port == second.port
        finally:
            await devices.close_all()
            first.unplug()
            second.unplug()

    run(scenario)


def test_new_boot_starts_a_new_conversation() -> None:
    async def scenario() -> None:
        events: list[DeviceEvent] = []
        devices = DevicePorts(events.append)
        device = FakeDevice(boot_id=1)
        try:
            session = await devices.open(device.port)
            device.start_reading()
            await device.expect(Identify)
            device.hello()
            for n in range(3):
                device.event(n)
            await wait_until_async("boot 1 events", lambda: len(events) == 3, 2.0)
            old = session.devices[0]
            device.boot_id = 2  # power cycle: new boot, events from 0, a new clock
            device.hello()
            device.event(0, tick=50)
            await wait_until_async("boot 2's first event", lambda: len(events) == 4, 2.0)
            assert (events[3].boot_id, events[3].seq, events[3].ticks) == (2, 0, 50)
            new = session.devices[0]
            assert new is not old and new.clock is not old.clock
            assert [s.info.boot_id for s in devices.registry.all()] == [2]
            assert not old.connected and new.expected == 1
        finally:
            await devices.close_all()
            device.unplug()

    run(scenario)


def test_watcher_opens_matching_ports_and_follows_a_replug_to_another_path() -> None:
    async def scenario() -> None:
        events: list[DeviceEvent] = []
        devices = DevicePorts(events.append)
        gate = FakeDevice()
        stranger = FakeDevice()  # a serial port of some other USB device: never opened
        replugged = FakeDevice()
        ports = [Port(gate.port, *USB, "G1"), Port(stranger.port, 0x0403, 0x6001, "X")]
        try:
            devices.watch(PortMatcher([USB]), lister=lambda: list(ports), interval_s=0.05)
            await wait_until_async(
                "the gate's port opened", lambda: gate.port in devices.sessions, 2.0
            )
            assert stranger.port not in devices.sessions
            gate.start_reading()
            await gate.expect(Identify)
            gate.hello()
            gate.send(Status(80, 255, 3, (97, 30)))
            gate.event(0)
            await wait_until_async("first event", lambda: len(events) == 1, 2.0)
            await wait_until_async("STATUS", lambda: devices.snapshot()[0]["battery"] == 80, 2.0)
            snap = devices.snapshot()[0]
            assert (snap["key"], snap["kind"], snap["port"], snap["address"]) == (
                KEY, "gate", gate.port, 0,
            )  # fmt: skip
            assert snap["beams"] == [97, 30] and snap["link"] is None
            assert snap["caps"] == ["light", "touch"] and snap["protocol"] == 1
            assert snap["events"] == 1 and snap["firmware"] == "1.2.3"

            # Pulled out: the reader sees the error at once; the lister drops the port later.
            gate.event(1)  # written into a cable that is being pulled: never arrives
            gate.unplug()
            ports.pop(0)
            state = devices.registry.by_key(KEY)
            assert state is not None
            await wait_until_async("lost", lambda: state.state == "lost", 2.0)
            await wait_until_async(
                "the session closed", lambda: gate.port not in devices.sessions, 2.0
            )

            ports.append(Port(replugged.port, *USB, "G1"))
            await wait_until_async(
                "the new path opened", lambda: replugged.port in devices.sessions, 2.0
            )
            replugged.start_reading()
            await replugged.expect(Identify)
            replugged.hello()
            replugged.event(1)  # the unacknowledged event, replayed after HELLO
            replugged.event(2)
            await wait_until_async("replayed and new events", lambda: len(events) == 3, 2.0)
            assert [e.seq for e in events] == [0, 1, 2]
            # The events may overtake the first PONG of either connection (3 runs in 25 on a
            # loaded machine): wait for the clock rather than assert it is there already.
            await wait_until_async(
                "a clock sample", lambda: state.state in ("ready", "syncing"), 2.0
            )
            assert state.info.port == replugged.port
        finally:
            await devices.close_all()
            for dev in (gate, stranger, replugged):
                dev.unplug()

    run(scenario)
