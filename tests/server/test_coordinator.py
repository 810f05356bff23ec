"""The coordinator with synthetic device events: binding, replays, no-start and timeouts."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace

import pytest

from drills import RunState
from hardware.device import DeviceEvent
from hardware.messages import EventKind
from hardware.timebase import mono_us
from server.app import build_services
from server.catalog.service import Catalog
from server.config import Settings
from server.db.session import migrate
from server.errors import ConflictError
from server.runs.coordinator import Binding, RunCoordinator
from tests.support import wait_until_async

HUB = "hub-00000001"


def _event(
    seq: int, channel: int, ticks: int, kind: EventKind = EventKind.BEAM_BROKEN
) -> DeviceEvent:
    return DeviceEvent(
        device=HUB, boot_id=7, seq=seq, channel=channel, kind=kind, ticks=ticks,
        tick_hz_est=1_000_000.0, mono_us=mono_us(), received_mono_us=mono_us(),
    )  # fmt: skip


def _setup(db: str) -> tuple[RunCoordinator, int]:
    migrate(db)
    services = build_services(Settings(db=db))
    layout = {"start": Binding(HUB, 0), "finish": Binding(HUB, 1)}
    coordinator = RunCoordinator(services.recorder, layout)
    rec = services.recorder
    return coordinator, rec.ensure_athlete(rec.ensure_team("T"), "Ana")


def test_run_from_events_with_replay_and_unbound_channel(sqlite_db: str) -> None:
    coordinator, athlete_id = _setup(sqlite_db)

    async def body() -> None:
        drill = Catalog.load().get("backward-sprint-10m")
        done = coordinator.begin(drill, athlete_id, "Ana", 1, start_within_s=5)
        start = _event(1, 0, 5_000_000)
        coordinator.on_device_event(start)
        coordinator.on_device_event(start)  # replayed after a reconnect: must not count twice
        coordinator.on_device_event(_event(2, 5, 5_100_000))  # a channel bound to nothing
        coordinator.on_device_event(_event(3, 1, 5_200_000, EventKind.BEAM_RESTORED))
        coordinator.on_device_event(_event(4, 1, 7_345_678))
        outcome = await asyncio.wait_for(done, 1)
        assert outcome.state is RunState.FINISHED
        assert outcome.total_us == 2_345_678

    asyncio.run(body())
    with sqlite3.connect(sqlite_db) as conn:
        events = conn.execute("SELECT seq, run_id FROM deviceevent ORDER BY seq").fetchall()
        splits = conn.execute("SELECT elapsed_us FROM split").fetchall()
    assert [seq for seq, _ in events] == [1, 2, 3, 4], "every raw event stored once"
    run_ids = {run_id for _, run_id in events}
    assert len(run_ids) == 1 and None not in run_ids, "raw events are linked to their run"
    assert splits == [(2_345_678,)]


def test_no_start_voids_the_rep_and_frees_the_lane(sqlite_db: str) -> None:
    coordinator, athlete_id = _setup(sqlite_db)

    async def body() -> None:
        drill = Catalog.load().get("backward-sprint-10m")
        done = coordinator.begin(drill, athlete_id, "Ana", 1, start_within_s=0.05)
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.state is RunState.VOID
        assert coordinator.active is None
        # The next rep can be armed at once.
        coordinator.begin(drill, athlete_id, "Ana", 2, start_within_s=5)
        assert coordinator.active is not None

    asyncio.run(body())


def test_timeout_is_recorded(sqlite_db: str) -> None:
    coordinator, athlete_id = _setup(sqlite_db)

    async def body() -> None:
        drill = replace(Catalog.load().get("backward-sprint-10m"), time_limit_us=100_000)
        done = coordinator.begin(drill, athlete_id, "Ana", 1, start_within_s=5)
        coordinator.on_device_event(_event(1, 0, 1_000_000))
        outcome = await asyncio.wait_for(done, 3)
        assert outcome.state is RunState.TIMEOUT

    asyncio.run(body())
    with sqlite3.connect(sqlite_db) as conn:
        assert conn.execute("SELECT state FROM run").fetchall() == [("timeout",)]


def test_no_run_starts_on_a_device_that_is_not_ready(sqlite_db: str) -> None:
    coordinator, athlete_id = _setup(sqlite_db)
    coordinator.readiness = lambda device, _across: (
        "clock not synchronised yet" if device == HUB else None
    )

    async def body() -> None:
        drill = Catalog.load().get("backward-sprint-10m")
        with pytest.raises(ConflictError, match="clock not synchronised"):
            coordinator.begin(drill, athlete_id, "Ana", 1, start_within_s=5)
        assert coordinator.active is None

    asyncio.run(body())


def test_drills_the_lane_cannot_run_are_refused_clearly(sqlite_db: str) -> None:
    coordinator, athlete_id = _setup(sqlite_db)

    async def body() -> None:
        catalog = Catalog.load()
        # An interval drill is a group's session (begin_intervals), never one athlete's rep.
        with pytest.raises(ConflictError, match=r"retro-walk-intervals: .* run as a series"):
            coordinator.begin(catalog.get("retro-walk-intervals"), athlete_id, "Ana", 1, 5)
        # A pod series needs lights, and this coordinator has no device outputs.
        with pytest.raises(ConflictError, match="pod-reaction: pods must be lit"):
            coordinator.begin(catalog.get("pod-reaction"), athlete_id, "Ana", 1, 5)
        assert coordinator.current is None
        # A reactive target needs a light, so a coordinator that cannot send commands says so.
        coordinator.outputs = None
        coordinator.layout.update(
            {r: Binding(HUB, i) for i, r in enumerate(("start", "trigger", "target_left",
                                                        "target_right"))}
        )  # fmt: skip
        with pytest.raises(ConflictError, match="lights or beeps are needed"):
            coordinator.begin(catalog.get("reactive-y-agility"), athlete_id, "Ana", 1, 5)
        assert coordinator.active is None

    asyncio.run(body())


def test_the_last_split_reaches_the_feed_before_the_rep_is_closed(sqlite_db: str) -> None:
    """A page's sender runs before the rep's closing writes: when it takes the final split,
    the run row is still open. Had the closing writes gone first, every phone would have
    waited for them (with a squad on the feed, most of a split's latency)."""
    coordinator, athlete_id = _setup(sqlite_db)
    live = coordinator.recorder.live
    seen: list[tuple[str, str]] = []

    async def page(queue: asyncio.Queue[str | None]) -> None:
        while (text := await queue.get()) is not None:
            message = json.loads(text)
            with sqlite3.connect(sqlite_db) as conn:
                (state,) = conn.execute("SELECT state FROM run").fetchone()
            seen.append((message["type"], state))

    async def body() -> None:
        queue = live.subscribe()
        reader = asyncio.create_task(page(queue))
        drill = Catalog.load().get("backward-sprint-10m")
        done = coordinator.begin(drill, athlete_id, "Ana", 1, start_within_s=5)
        coordinator.on_device_event(_event(1, 0, 5_000_000))
        coordinator.on_device_event(_event(2, 1, 7_345_678))
        assert (await asyncio.wait_for(done, 1)).state is RunState.FINISHED
        await wait_until_async("the page to read both messages", lambda: len(seen) >= 2)
        queue.put_nowait(None)
        await reader

    asyncio.run(body())
    assert seen == [("split", "running"), ("run", "finished")]
