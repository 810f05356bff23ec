"""Gate rules in the coordinator with synthetic device events: a limb's break before the torso
is overruled by longest-break and by dual-beam, the split waits for the window, the crossing is
stored with its rule and its edges, and the live split says why."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

from drills import RunState
from drills.crossing import Trigger
from hardware.device import DeviceEvent
from hardware.messages import EventKind
from hardware.timebase import mono_us
from server.app import build_services
from server.catalog.service import Catalog
from server.config import Settings
from server.db.session import migrate
from server.runs.coordinator import Binding, RunCoordinator

HUB = "hub-00000001"
MS = 1_000  # ticks of a 1 MHz clock per ms


class Edges:
    """Events of one hub with a 1 MHz clock, numbered in order."""

    def __init__(self) -> None:
        self.seq = 0
        self.base_us = mono_us() - 4_000_000  # every edge already happened, as live ones have

    def __call__(self, channel: int, ms: float, broken: bool = True) -> DeviceEvent:
        self.seq += 1
        ticks = round(ms * MS)
        kind = EventKind.BEAM_BROKEN if broken else EventKind.BEAM_RESTORED
        return DeviceEvent(
            device=HUB, boot_id=7, seq=self.seq, channel=channel, kind=kind, ticks=ticks,
            tick_hz_est=1_000_000.0, mono_us=self.base_us + ticks, received_mono_us=mono_us(),
        )  # fmt: skip


def _coordinator(
    db: str, layout: dict[str, Binding]
) -> tuple[RunCoordinator, int, list[dict[str, Any]]]:
    migrate(db)
    services = build_services(Settings(db=db))
    published: list[dict[str, Any]] = []
    publish = services.live.publish

    def spy(msg: dict[str, Any]) -> None:
        published.append(msg)
        publish(msg)

    services.live.publish = spy  # type: ignore[method-assign,assignment]
    rec = services.recorder
    return (
        RunCoordinator(services.recorder, layout),
        rec.ensure_athlete(rec.ensure_team("T"), "Ana"),
        published,
    )


def test_longest_break_times_the_torso_and_waits_only_for_its_window(sqlite_db: str) -> None:
    layout = {
        "start": Binding(HUB, 0, Trigger.LONGEST_BREAK, window_ms=200),
        "finish": Binding(HUB, 1, Trigger.LONGEST_BREAK, window_ms=200),
    }
    coordinator, athlete, published = _coordinator(sqlite_db, layout)
    drill = Catalog.load().get("backward-sprint-10m")
    edge = Edges()

    async def body() -> None:
        done = coordinator.begin(drill, athlete, "Ana", 1, start_within_s=5)
        # Start: a heel 55 ms before the torso, a trailing hand after it.
        for e in (edge(0, 1000), edge(0, 1010, False), edge(0, 1055), edge(0, 1140, False),
                  edge(0, 1160), edge(0, 1170, False)):  # fmt: skip
            coordinator.on_device_event(e)
        # Finish, 2.5 s after the torso's start: a hand 40 ms ahead, then the torso.
        for e in (edge(1, 3515), edge(1, 3525, False), edge(1, 3555), edge(1, 3630, False)):
            coordinator.on_device_event(e)
        # No later edge closes the finish's window: its timer must (how soon is a benchmark's
        # business: python -m bench run gates).
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.state is RunState.FINISHED
        assert outcome.total_us == 2_500_000  # torso to torso; first-break says 2.515 s

    asyncio.run(body())
    split = next(m for m in published if m["type"] == "split")
    assert split["crossing"] == {"rule": "longest-break", "first_break_lead_ms": 40.0, "edges": 4}
    with sqlite3.connect(sqlite_db) as conn:
        rows = conn.execute(
            "SELECT role, trigger, seq, first_break_lead_us, edges_json FROM crossing ORDER BY id"
        ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("start", "longest-break", 3, 55_000), ("finish", "longest-break", 9, 40_000)
    ]  # fmt: skip
    assert [e[2] for e in json.loads(rows[0][4])] == [1, 2, 3, 4, 5, 6]


def test_dual_beam_waits_for_both_beams_and_rearm_drops_a_trailing_arm(sqlite_db: str) -> None:
    layout = {
        "start": Binding(HUB, 0, Trigger.DUAL_BEAM, bottom=1, rearm_ms=400),
        "finish": Binding(HUB, 2, Trigger.DUAL_BEAM, bottom=3, rearm_ms=400),
    }
    coordinator, athlete, _ = _coordinator(sqlite_db, layout)
    drill = Catalog.load().get("backward-sprint-10m")
    edge = Edges()

    async def body() -> None:
        done = coordinator.begin(drill, athlete, "Ana", 1, start_within_s=5)
        for e in (
            edge(1, 1000), edge(1, 1015, False),  # a heel on the bottom beam only
            edge(0, 1030), edge(1, 1048),  # the torso: top, then bottom too -> 1048
            edge(0, 1120, False), edge(1, 1125, False),
            edge(0, 1200), edge(1, 1210),  # a trailing arm and leg: inside the re-arm
            edge(0, 1230, False), edge(1, 1240, False),
            edge(2, 3300), edge(3, 3348),  # finish: the torso on both, 2.3 s later
        ):  # fmt: skip
            coordinator.on_device_event(e)
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.state is RunState.FINISHED
        assert outcome.total_us == 2_300_000

    asyncio.run(body())


def test_dual_longest_skips_a_held_elbow_and_a_trailing_arm(sqlite_db: str) -> None:
    # No re-arm on the bindings: the drill's own (backward-walk-3m: 1.5 s) applies.
    layout = {
        "start": Binding(HUB, 0, Trigger.DUAL_LONGEST, bottom=1, window_ms=200),
        "finish": Binding(HUB, 2, Trigger.DUAL_LONGEST, bottom=3, window_ms=200),
    }
    coordinator, athlete, published = _coordinator(sqlite_db, layout)
    drill = Catalog.load().get("backward-walk-3m")
    edge = Edges()

    async def body() -> None:
        done = coordinator.begin(drill, athlete, "Ana", 1, start_within_s=5)
        for e in (
            edge(0, 1000),  # an elbow held behind the back, then the back: one break, top
            edge(1, 1010), edge(1, 1020, False),  # a hand on the bottom beam
            edge(1, 1030),  # the back on the bottom beam: the crossing
            edge(0, 1400, False), edge(1, 1410, False),
            edge(0, 2300), edge(1, 2310),  # a trailing arm 1.3 s on: inside the re-arm
            edge(0, 2400, False), edge(1, 2420, False),
            edge(2, 5030), edge(3, 5040),  # finish: the back on both beams, 4 s on
            edge(2, 5400, False), edge(3, 5420, False),
        ):  # fmt: skip
            coordinator.on_device_event(e)
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.state is RunState.FINISHED
        assert outcome.total_us == 4_010_000  # first-break would say 4.03 s, dual-beam 4.02

    asyncio.run(body())
    split = next(m for m in published if m["type"] == "split")
    assert split["crossing"]["rule"] == "dual-longest"
    with sqlite3.connect(sqlite_db) as conn:
        rows = conn.execute("SELECT role, seq FROM crossing ORDER BY id").fetchall()
    assert rows == [("start", 4), ("finish", 12)], rows


def test_raw_edges_keep_their_first_break_crossings_too(sqlite_db: str) -> None:
    layout = {"start": Binding(HUB, 0), "finish": Binding(HUB, 1)}  # no rule: raw edges
    coordinator, athlete, _ = _coordinator(sqlite_db, layout)
    drill = Catalog.load().get("backward-sprint-10m")
    edge = Edges()

    async def body() -> None:
        done = coordinator.begin(drill, athlete, "Ana", 1, start_within_s=5)
        for e in (edge(0, 1000), edge(0, 1060, False), edge(0, 1100),  # a bounce: ignored
                  edge(0, 1130, False), edge(1, 3100)):  # fmt: skip
            coordinator.on_device_event(e)
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.total_us == 2_100_000

    asyncio.run(body())
    with sqlite3.connect(sqlite_db) as conn:
        rows = conn.execute("SELECT role, trigger, seq FROM crossing ORDER BY id").fetchall()
    assert rows == [("start", "first-break", 1), ("finish", "first-break", 5)]


def test_overlapping_runners_get_crossings_in_order_and_an_impossible_one_is_flagged(
    sqlite_db: str,
) -> None:
    layout = {"start": Binding(HUB, 0), "finish": Binding(HUB, 1)}
    coordinator, athlete, published = _coordinator(sqlite_db, layout)
    coordinator.start_spacing_us = 1_000_000  # a station that lets starts overlap
    drill = Catalog.load().get("backward-sprint-10m")
    edge = Edges()

    async def body() -> None:
        ana = coordinator.begin(drill, athlete, "Ana", 1, start_within_s=5)
        for e in (edge(0, 1000), edge(0, 1080, False)):
            coordinator.on_device_event(e)
        assert coordinator.active is None  # Ana is on the course: the next may be armed
        bo = coordinator.begin(drill, athlete, "Bo", 1, start_within_s=5)
        for e in (
            edge(0, 1500),  # too soon after Ana's start (spacing 1 s): refused, Bo stays armed
            edge(0, 1580, False),
            edge(1, 1800), edge(1, 1880, False),  # 10 m backward in 0.8 s: Ana's, but flagged
            edge(0, 2200), edge(0, 2280, False),  # Bo sets off
            edge(1, 5000), edge(1, 5080, False),  # Bo's finish
        ):  # fmt: skip
            coordinator.on_device_event(e)
        first, second = await asyncio.wait_for(asyncio.gather(ana, bo), 2)
        assert (first.total_us, second.total_us) == (800_000, 2_800_000)

    asyncio.run(body())
    refused = [m for m in published if m["type"] == "start_refused"]
    assert len(refused) == 1 and refused[0]["athlete"] == "Bo", refused
    [flag] = [m for m in published if m["type"] == "flag"]
    assert (flag["athlete"], flag["role"], flag["doubt"]) == ("Ana", "finish", "too_fast"), flag
