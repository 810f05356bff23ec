"""A past rep timed again with another gate rule, from its stored raw edges: a correction with
the old and new splits in its audit entry, refused where it cannot be done."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from drills import RunState
from drills.crossing import GateRule, Trigger
from hardware.device import DeviceEvent
from hardware.messages import EventKind
from hardware.timebase import mono_us
from server.app import Services, build_services
from server.catalog.service import Catalog
from server.config import Settings
from server.corrections.service import CorrectionService
from server.db.session import migrate
from server.errors import ConflictError
from server.reports.csv_export import write_reps_csv
from server.reports.data import Scope
from server.reports.service import load_summary
from server.runs.coordinator import Binding, RunCoordinator
from tests.auth_support import login_client, serve

HUB = "hub-00000001"


class Edges:
    def __init__(self) -> None:
        self.seq = 0
        self.base_us = mono_us() - 6_000_000

    def __call__(self, channel: int, ms: float, broken: bool = True) -> DeviceEvent:
        self.seq += 1
        ticks = round(ms * 1000)
        kind = EventKind.BEAM_BROKEN if broken else EventKind.BEAM_RESTORED
        return DeviceEvent(
            device=HUB, boot_id=3, seq=self.seq, channel=channel, kind=kind, ticks=ticks,
            tick_hz_est=1_000_000.0, mono_us=self.base_us + ticks, received_mono_us=mono_us(),
        )  # fmt: skip


def _record(services: Services) -> int:
    """A backward sprint on raw edges (first-break): a heel 45 ms before the torso at the
    start, a hand 30 ms before it at the finish, the torsos 2.4 s apart."""
    layout = {"start": Binding(HUB, 0), "finish": Binding(HUB, 1)}
    coordinator = RunCoordinator(services.recorder, layout)
    rec = services.recorder
    athlete = rec.ensure_athlete(rec.ensure_team("T"), "Ana")
    drill = Catalog.load().get("backward-sprint-10m")
    edge = Edges()

    async def body() -> None:
        done = coordinator.begin(drill, athlete, "Ana", 1, start_within_s=5)
        for e in (
            edge(0, 1000), edge(0, 1008, False), edge(0, 1045), edge(0, 1120, False),
            edge(1, 3415), edge(1, 3422, False), edge(1, 3445), edge(1, 3520, False),
        ):  # fmt: skip
            coordinator.on_device_event(e)
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.state is RunState.FINISHED and outcome.total_us == 2_415_000

    asyncio.run(body())
    assert coordinator.last_run_id is not None
    return coordinator.last_run_id


def test_a_rep_re_derived_with_longest_break_times_the_torso_and_logs_both(
    sqlite_db: str,
) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    run_id = _record(services)
    corrections = CorrectionService(services.engine, services.live, services.catalog)
    summary = corrections.rederive(run_id, GateRule(Trigger.LONGEST_BREAK), coach_id=None)
    assert summary.total_s == pytest.approx(2.4)
    [entry] = corrections.log(run_id)
    assert entry.action == "rederive"
    assert entry.detail["before"]["splits"] == {"0-10m": 2_415_000}
    assert entry.detail["after"]["splits"] == {"0-10m": 2_400_000}
    assert entry.detail["after"]["crossings"] == {"start": "longest-break",
                                                  "finish": "longest-break"}  # fmt: skip
    # The rep export says how each crossing was found now, and what the first break said.
    out = io.StringIO()
    write_reps_csv(load_summary(services.engine, Scope("T"), services.catalog.drills).data, out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"))))
    assert row["crossings"] == (
        "start longest-break, first break 45.0 ms earlier; "
        "finish longest-break, first break 30.0 ms earlier"
    )
    # And back: first-break gives the first timing again, and says so in a second entry.
    summary = corrections.rederive(run_id, GateRule(Trigger.FIRST_BREAK), coach_id=None)
    assert summary.total_s == pytest.approx(2.415)
    assert [e.action for e in corrections.log(run_id)] == ["rederive", "rederive"]


def test_what_cannot_be_re_derived_is_refused_with_the_reason(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    run_id = _record(services)
    corrections = CorrectionService(services.engine, services.live, services.catalog)
    with pytest.raises(ConflictError, match="one beam; dual-beam needs two"):
        corrections.rederive(run_id, GateRule(Trigger.DUAL_BEAM), coach_id=None)
    with pytest.raises(ConflictError, match="one beam; dual-longest needs two"):
        corrections.rederive(run_id, GateRule(Trigger.DUAL_LONGEST), coach_id=None)
    rec = services.recorder
    athlete = rec.ensure_athlete(rec.ensure_team("T"), "Bo")
    typed = corrections.manual("backward-sprint-10m", athlete, 2.5, "gate down", None)
    with pytest.raises(ConflictError, match="before crossings were kept"):
        corrections.rederive(typed.run_id, GateRule(Trigger.LONGEST_BREAK), coach_id=None)
    assert corrections.log(run_id) == []  # nothing changed on a refusal


def test_the_route_takes_a_rule_and_names_a_bad_one(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as live:
        run_id = _record(live.services)
        client = login_client(live.base_url, sqlite_db)
        bad = client.post(f"/api/runs/{run_id}/rederive", json={"trigger": "last-break"})
        assert bad.status_code == 422 and "trigger" in bad.text
        short = client.post(
            f"/api/runs/{run_id}/rederive", json={"trigger": "longest-break", "window_ms": 5}
        )
        assert short.status_code == 422 and "window" in short.text
        ok = client.post(f"/api/runs/{run_id}/rederive", json={"trigger": "longest-break"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["total_s"] == pytest.approx(2.4)
        log = client.get(f"/api/runs/{run_id}/corrections").json()
        assert [e["action"] for e in log] == ["rederive"]
