"""A Timy set to start numbers names the rep's athlete by bib; in its default mode the number
counts impulses and names nobody."""

from __future__ import annotations

import asyncio
import sqlite3

from sqlmodel import Session, select

from drills import RunState
from hardware.adapters import parse_adapter_url
from hardware.device import DeviceEvent
from hardware.messages import EventKind
from hardware.timebase import mono_us
from server.app import build_services
from server.catalog.service import Catalog
from server.config import Settings
from server.db.models import Athlete
from server.db.session import migrate
from server.runs.coordinator import Binding, RunCoordinator

TIMY = "timy-00007111"


def _impulse(seq: int, channel: int, ticks: int, bib: int | None) -> DeviceEvent:
    at = mono_us()
    return DeviceEvent(
        device=TIMY, boot_id=5, seq=seq, channel=channel, kind=EventKind.BEAM_BROKEN,
        ticks=ticks, tick_hz_est=10_000.0, mono_us=at, received_mono_us=at,
        sync_error_us=3_000.0, by_receipt=True, bib=bib,
    )  # fmt: skip


def test_the_bibs_option_is_a_timy_option_only() -> None:
    spec = parse_adapter_url("timy:/dev/ttyUSB1@38400,bibs")
    assert spec is not None and spec.bibs and spec.baudrate == 38400
    assert spec.url == "timy:/dev/ttyUSB1@38400,bibs"
    plain = parse_adapter_url("timy:/dev/ttyUSB1")
    assert plain is not None and not plain.bibs


def test_a_start_number_names_the_athlete_and_an_unknown_one_names_nobody(
    sqlite_db: str,
) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    rec = services.recorder
    team = rec.ensure_team("U16")
    ada, bo = rec.ensure_athlete(team, "Ada Lind"), rec.ensure_athlete(team, "Bo Berg")
    with Session(services.engine) as session:
        for athlete_id, number in ((ada, 7), (bo, 12)):
            row = session.exec(select(Athlete).where(Athlete.id == athlete_id)).one()
            row.squad_number = number
            session.add(row)
        session.commit()
    layout = {"start": Binding(TIMY, 0), "finish": Binding(TIMY, 1)}
    coordinator = RunCoordinator(services.recorder, layout)
    drill = Catalog.load().get("backward-sprint-10m")

    async def body() -> None:
        # Armed for Ada, but bib 12 starts: the rep is Bo's.
        done = coordinator.begin(drill, ada, "Ada Lind", 1, start_within_s=5)
        coordinator.on_device_event(_impulse(0, 0, 10_000, bib=12))
        coordinator.on_device_event(_impulse(1, 1, 35_000, bib=12))
        outcome = await asyncio.wait_for(done, 2)
        assert outcome.state is RunState.FINISHED and outcome.total_us == 2_500_000
        # Bib 99 is nobody's: the rep stays with the athlete the coach armed.
        done = coordinator.begin(drill, ada, "Ada Lind", 1, start_within_s=5)
        coordinator.on_device_event(_impulse(2, 0, 60_000, bib=99))
        coordinator.on_device_event(_impulse(3, 1, 85_500, bib=99))
        await asyncio.wait_for(done, 2)

    asyncio.run(body())
    services.engine.dispose()
    with sqlite3.connect(sqlite_db) as conn:
        runs = conn.execute(
            "SELECT a.name, r.rep, r.total_us FROM run r JOIN athlete a ON a.id = r.athlete_id "
            "ORDER BY r.id"
        ).fetchall()
    assert runs == [("Bo Berg", 1, 2_500_000), ("Ada Lind", 1, 2_550_000)]
