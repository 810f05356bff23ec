"""A virtual gate or pod carrying out COMMANDs (PROTOCOL.md section 6), checked by bytes."""

from __future__ import annotations

import random
import time

from hardware.messages import (
    CMD_FLAG_NOW,
    Action,
    Command,
    CommandAck,
    CommandResult,
    Event,
    EventAck,
    EventKind,
    Hello,
    Pattern,
    Status,
)
from hardware.sim.athlete import VirtualAthlete, touch_policy
from hardware.sim.port import VirtualPort
from tests.hardware.sim_rig import FAST_USB, events, gate, pod, rig
from tests.hardware.test_sim_host import MS, RawHost, is_msg


def light(cmd_id: int, at_tick32: int, *, flags: int = 0, duration_ms: int = 0,
          channel: int = 0) -> Command:  # fmt: skip
    return Command(cmd_id, Action.LIGHT, channel, at_tick32, flags, (0, 255, 0),
                   duration_ms=duration_ms)  # fmt: skip


def test_light_at_a_future_tick_then_dark_after_its_duration() -> None:
    dev = pod()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        target = dev.clock.ticks_at(time.monotonic_ns()) + 150_000
        host.send(0, light(17, target & 0xFFFFFFFF, duration_ms=300))
        ack = host.next(CommandAck)
        assert ack == CommandAck(17, CommandResult.OK)
        on = host.next(Event, timeout_s=1.0)
        assert isinstance(on, Event)
        host.send(0, EventAck(on.evseq))
        off = host.next(Event, timeout_s=1.0)
        assert isinstance(off, Event)
        assert (on.kind, on.ref, off.kind, off.ref) == (
            EventKind.LIGHT_ON, 17, EventKind.LIGHT_OFF, 17,
        )  # fmt: skip
        onset, dark = dev.onsets_since(0)
        assert onset.requested_ticks == target
        assert abs(onset.actual_ticks - target) <= 1
        assert on.tick32 == onset.actual_ticks & 0xFFFFFFFF
        # What the simulator's thread adds (only to when the frame leaves, not to the tick).
        print(f"onset thread wake-up late by {(onset.woke_ns - onset.mono_ns) / 1e3:.0f} us")
        assert dark.mono_ns - onset.mono_ns == 300 * MS
        assert off.tick32 == dark.actual_ticks & 0xFFFFFFFF
        assert dev.lit == [None]


def test_late_command_acts_at_once_and_a_repeat_is_not_done_twice() -> None:
    dev = pod()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        past = dev.clock.ticks_at(time.monotonic_ns()) - 50_000
        cmd = light(5, past & 0xFFFFFFFF)
        host.send(0, cmd)
        assert host.next(CommandAck) == CommandAck(5, CommandResult.LATE)
        on = host.next(Event)
        assert isinstance(on, Event) and on.kind is EventKind.LIGHT_ON
        host.send(0, cmd)
        assert host.next(CommandAck) == CommandAck(5, CommandResult.LATE)
        host.send(0, EventAck(on.evseq))
        assert events(host.collect(0.2)) == []
        assert len(dev.onsets_since(0)) == 1
        assert [c.repeat for c in dev.commands_since(0)] == [False, True]


def test_commands_the_device_cannot_do_are_refused() -> None:
    with rig(pod()) as host:
        host.expect(is_msg(Status))
        host.send(0, light(1, 0, flags=CMD_FLAG_NOW, channel=3))
        assert host.next(CommandAck) == CommandAck(1, CommandResult.NO_SUCH_CHANNEL)
        host.send(0, Command(2, Action.ARM, 0, 0, CMD_FLAG_NOW))
        assert host.next(CommandAck) == CommandAck(2, CommandResult.UNSUPPORTED)
        host.send(0, Command(3, Action.BEEP, 0, 0, CMD_FLAG_NOW))
        assert host.next(CommandAck) == CommandAck(3, CommandResult.OK)
        beep = host.next(Event)
        assert isinstance(beep, Event) and (beep.kind, beep.ref) == (EventKind.BEEP, 3)
    with rig(gate()) as host:
        host.expect(is_msg(Status))
        host.send(0, light(4, 0, flags=CMD_FLAG_NOW))
        assert host.next(CommandAck) == CommandAck(4, CommandResult.UNSUPPORTED)


def test_pod_reports_the_athletes_touch_after_the_reaction_time() -> None:
    athlete = VirtualAthlete("Ada Costa", 8.0, 5.6, 1.0, reaction_s=0.2)
    dev = pod(touch_after=touch_policy(athlete, random.Random(1)))
    with rig(dev) as host:
        host.auto_ack = True
        host.expect(is_msg(Status))
        reactions = []
        for cmd_id in (1, 2, 3):
            host.send(0, light(cmd_id, 0, flags=CMD_FLAG_NOW, duration_ms=1000))
            on = host.next(Event)
            assert on.ref == cmd_id
            touched = host.expect(
                lambda r: isinstance(r.msg, Event) and r.msg.kind is EventKind.POD_TOUCHED,
                timeout_s=1.0,
            ).msg
            assert isinstance(on, Event) and isinstance(touched, Event)
            reactions.append((touched.tick32 - on.tick32) % 2**32 / 1e6)
            host.send(0, Command(100 + cmd_id, Action.DARK, 0, 0, CMD_FLAG_NOW))
            host.expect(lambda r: isinstance(r.msg, Event) and r.msg.kind is EventKind.LIGHT_OFF)
        assert all(0.12 <= r <= 0.45 for r in reactions), reactions
        assert len(set(reactions)) == 3, "reps vary"
        dev.touch(time.monotonic_ns())  # a false touch, on a dark pod, is reported too
        false = host.next(Event)
        assert isinstance(false, Event) and false.kind is EventKind.POD_TOUCHED


def test_disarmed_channel_reports_no_beam_events() -> None:
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        host.send(0, Command(1, Action.DISARM, 0, 0, CMD_FLAG_NOW))
        host.expect(is_msg(CommandAck))
        now = time.monotonic_ns()
        dev.schedule_edge(0, EventKind.BEAM_BROKEN, now)
        dev.schedule_edge(1, EventKind.BEAM_BROKEN, now + MS)
        ev = host.next(Event)
        assert isinstance(ev, Event) and ev.channel == 1
        host.send(0, EventAck(ev.evseq))
        host.send(0, Command(2, Action.ARM, 0, 0, CMD_FLAG_NOW))
        host.expect(is_msg(CommandAck))
        dev.schedule_edge(0, EventKind.BEAM_RESTORED, time.monotonic_ns())
        ev = host.next(Event)
        assert isinstance(ev, Event) and (ev.channel, ev.evseq) == (0, 1)
        assert [s.reason for s in dev.suppressed_since(0)] == ["disarmed"]


def test_a_lit_light_commanded_again_reports_a_new_onset_and_restarts_its_duration() -> None:
    # PROTOCOL.md section 6: every LIGHT carried out has exactly one LIGHT_ON, with its own
    # cmd_id, at the tick it took effect, even in the same colour; no LIGHT_OFF in between.
    dev = pod()
    with rig(dev) as host:
        host.auto_ack = True
        host.expect(is_msg(Status))
        now = dev.clock.ticks_at(time.monotonic_ns())
        first, second = now + 100_000, now + 250_000
        host.send(0, light(21, first & 0xFFFFFFFF, duration_ms=300))
        host.send(0, light(22, second & 0xFFFFFFFF, duration_ms=300))
        got = [host.next(Event, timeout_s=1.0) for _ in range(3)]
        assert [(e.kind, e.ref) for e in got] == [
            (EventKind.LIGHT_ON, 21), (EventKind.LIGHT_ON, 22), (EventKind.LIGHT_OFF, 22),
        ]  # fmt: skip
        assert got[0].tick32 == first & 0xFFFFFFFF and got[1].tick32 == second & 0xFFFFFFFF
        on, again, dark = dev.onsets_since(0)
        assert (on.actual_ticks, again.actual_ticks) == (first, second)
        assert dark.mono_ns - again.mono_ns == 300 * MS  # counted from the second command
        assert dev.lit == [None]


def test_polarity_is_set_at_once_kept_across_power_cycles_and_refused_by_pods() -> None:
    g, p = gate(), pod()
    port = VirtualPort([g, p], latency=FAST_USB, seed=7)
    host = RawHost(port.start())
    try:
        host.expect(is_msg(Status, 0))
        far = g.clock.ticks_at(time.monotonic_ns()) + 10_000_000  # `at` is ignored
        for cmd_id, addr, channel, level, result in (
            (1, 0, 1, 1, CommandResult.OK),
            (2, 0, 7, 1, CommandResult.NO_SUCH_CHANNEL),
            (3, 0, 0, 2, CommandResult.UNSUPPORTED),  # no such level
            (4, 1, 0, 1, CommandResult.UNSUPPORTED),  # a pod has no beam
        ):
            cmd = Command(cmd_id, Action.POLARITY, channel, far & 0xFFFFFFFF, 0, (0, 0, 0),
                          Pattern(level))  # fmt: skip
            host.send(addr, cmd)
            assert host.next(CommandAck, addr) == CommandAck(cmd_id, result)
        assert g.polarity_high == [False, True]
        g.power_cycle()
        host.next(Hello, 0)
        assert g.polarity_high == [False, True]  # EEPROM
        assert events(host.collect(0.1)) == []  # a setting reports no event
    finally:
        host.close()
        port.stop()
    assert not port.errors
