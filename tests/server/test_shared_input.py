"""Roles on devices reached through adapters: successive breaks of a Chronopic's one input go
to a drill's gates in running order (a trailing arm is a bounce, not the next gate), a Timy's
channels follow ALGE's names, and a split spanning a receipt-timed clock is marked."""

from __future__ import annotations

import asyncio
import sqlite3

from drills import RunState, Stamp, TimeBasis
from drills.run_state import SplitResult
from drills.timing import cross_device_error_us
from hardware.device import DeviceEvent, DeviceInfo
from hardware.messages import Caps, DeviceKind, EventKind
from hardware.timebase import mono_us
from server.app import build_services
from server.catalog.service import Catalog
from server.config import Settings
from server.db.session import migrate
from server.devices.binding import default_layout
from server.runs.coordinator import RunCoordinator
from server.runs.shared_input import bounce_window_us

CHRONOPIC = "chronopic-0000C0DE"
TIMY = "timy-00007111"
GATE = "gate-000000A1"
TICK_HZ = 125_000.0  # a Chronopic's 8 us ticks


def _info(adapter: str | None, device_id: int, channels: int) -> DeviceInfo:
    return DeviceInfo(
        "/dev/x", 0, DeviceKind.GATE, device_id, 1, (0, 0, 0), 125_000, channels, 0, Caps.BEAM,
        adapter=adapter, successive_breaks=adapter == "chronopic",
    )  # fmt: skip


def _edge(seq: int, ticks: int, kind: EventKind = EventKind.BEAM_BROKEN) -> DeviceEvent:
    at = mono_us()
    return DeviceEvent(
        device=CHRONOPIC, boot_id=3, seq=seq, channel=0, kind=kind, ticks=ticks,
        tick_hz_est=TICK_HZ, mono_us=at, received_mono_us=at, sync_error_us=2_000.0,
        by_receipt=True,
    )  # fmt: skip


def test_default_layouts_follow_how_each_kind_is_wired() -> None:
    drill = Catalog.load().get("backpedal-turn-sprint")
    roles = ["start", "turn_in", "turn_out", "finish"]
    chronopic = default_layout(drill, _info("chronopic", 0xC0DE, 1))
    assert {r: (b.device, b.channel) for r, b in chronopic.items()} == {
        r: (CHRONOPIC, 0) for r in roles
    }
    timy = default_layout(drill, _info("timy", 0x7111, 9))
    # c0 start, c1 finish, c2.. the gates between in running order.
    assert {r: b.channel for r, b in timy.items()} == {
        "start": 0, "turn_in": 2, "turn_out": 3, "finish": 1
    }  # fmt: skip
    gate = default_layout(drill, _info(None, 0xA1, 4))
    assert {r: b.channel for r, b in gate.items()} == {r: i for i, r in enumerate(roles)}


def test_successive_breaks_on_one_input_time_each_gate_and_skip_a_trailing_arm(
    sqlite_db: str,
) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    drill = Catalog.load().get("backpedal-turn-sprint")
    layout = default_layout(drill, _info("chronopic", 0xC0DE, 1))
    coordinator = RunCoordinator(services.recorder, layout)
    rec = services.recorder
    athlete = rec.ensure_athlete(rec.ensure_team("T"), "Ana")
    # 2 m turn zone: a gate is reached no sooner than 2 m / 12 m/s after the one before.
    assert bounce_window_us(drill) == 166_667
    ms = 125  # ticks per millisecond

    async def body() -> None:
        done = coordinator.begin(drill, athlete, "Ana", 1, start_within_s=5)
        seq = iter(range(100))
        t = 1_000 * ms

        def edge(ticks: int, kind: EventKind = EventKind.BEAM_BROKEN) -> None:
            coordinator.on_device_event(_edge(next(seq), ticks, kind))

        edge(t)  # start
        edge(t + 90 * ms, EventKind.BEAM_RESTORED)
        edge(t + 140 * ms)  # the trailing arm at the start gate: a bounce, not turn_in
        edge(t + 170 * ms, EventKind.BEAM_RESTORED)
        edge(t + 1_472 * ms)  # turn_in
        edge(t + 1_560 * ms, EventKind.BEAM_RESTORED)
        edge(t + 1_898 * ms)  # turn_out, 0.426 s later: inside the 0.5 s re-arm, still a gate
        edge(t + 1_990 * ms, EventKind.BEAM_RESTORED)
        edge(t + 3_832 * ms)  # finish
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.state is RunState.FINISHED
        assert [s.elapsed_us for s in outcome.splits] == [1_472_000, 426_000, 1_934_000]
        assert all(s.cross_device_error_us is None for s in outcome.splits)

    asyncio.run(body())
    services.engine.dispose()
    with sqlite3.connect(sqlite_db) as conn:
        stored = conn.execute("SELECT name, elapsed_us FROM split ORDER BY position").fetchall()
    assert stored == [("backpedal", 1_472_000), ("turn", 426_000), ("sprint", 1_934_000)]


def test_a_split_across_a_receipt_timed_clock_is_marked_with_its_bound() -> None:
    timy_a = Stamp(mono_us=1_000, clock=f"{TIMY}:1", ticks=10, tick_hz_est=10_000.0,
                   sync_error_us=3_100.0, basis=TimeBasis.RECEIPT_FIT)  # fmt: skip
    timy_b = Stamp(mono_us=2_501_000, clock=f"{TIMY}:1", ticks=25_010, tick_hz_est=10_000.0,
                   sync_error_us=2_900.0, basis=TimeBasis.RECEIPT_FIT)  # fmt: skip
    gate = Stamp(mono_us=2_600_000, clock=f"{GATE}:4", ticks=5, tick_hz_est=2e6,
                 sync_error_us=150.0)  # fmt: skip
    other_gate = Stamp(mono_us=2_700_000, clock="gate-000000B2:1", ticks=9, tick_hz_est=2e6,
                       sync_error_us=140.0)  # fmt: skip
    assert cross_device_error_us(timy_a, timy_b) is None  # one clock: its own resolution
    assert cross_device_error_us(timy_b, gate) == 3_050
    assert cross_device_error_us(gate, other_gate) is None  # both synced by PING: ~0.3 ms
    manual = Stamp(mono_us=3_000_000, clock=f"{TIMY}:1", ticks=30_000, tick_hz_est=10_000.0,
                   basis=TimeBasis.RECEIPT_FIT, manual=True)  # fmt: skip
    split = SplitResult.between("x", "a", "b", timy_a, manual, 10.0)
    assert split.manual and not split.coarse and split.elapsed_us == 2_999_000
