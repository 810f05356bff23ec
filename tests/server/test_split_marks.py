"""Split marks of receipt-timed devices (Chronopic, Timy): stored by the recorder, folded into
the rep when it closes, and shown wherever a split or rep is read (live feed, recent runs over
HTTP, CSV, XLSX, PDF, athlete history); an older database upgrades with its rows unmarked."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openpyxl  # type: ignore[import-untyped]
import pytest
from alembic import command
from pypdf import PdfReader
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from drills import RunOutcome, RunState, SplitResult, Stamp, TimeBasis
from hardware.device import DeviceEvent
from hardware.messages import EventKind
from server.catalog.service import Catalog
from server.db.models import DeviceEvent as DeviceEventRow
from server.db.models import Run, Split
from server.db.session import alembic_config, make_engine, migrate
from server.leaderboard.service import leaderboard
from server.live.hub import LiveHub
from server.reports.csv_export import write_reps_csv
from server.reports.data import Scope
from server.reports.service import athlete_history, load_summary, write_export
from server.runs.queries import recent_runs
from server.runs.recorder import RunRecorder
from tests.auth_support import login_client, serve

CATALOG = Catalog.load()
DRILL = "sprint-20m"  # segments 0-10m (start → split_10m) and 10-20m (split_10m → finish)
TEAM = "Squad"
RECEIPT_FIT = TimeBasis.RECEIPT_FIT


def gate(mono_us: int) -> Stamp:
    """A protocol v1 gate (clock queried: ±0.2 ms against host time), 2 MHz ticks."""
    return Stamp(mono_us, "gate-1:1", ticks=2 * mono_us, tick_hz_est=2e6, sync_error_us=200.0)


def chronopic(mono_us: int) -> Stamp:
    """A Chronopic gate: mapped to host time by receipt alone, ±3 ms."""
    return Stamp(mono_us, "chronopic-1:1", sync_error_us=3_000.0, basis=RECEIPT_FIT)


def timy(mono_us: int, *, manual: bool = False, coarse: bool = False) -> Stamp:
    """A Timy: mapped by receipt, ±1.3 ms; a keypad impulse is a hand time."""
    return Stamp(
        mono_us, "timy-1:1", sync_error_us=1_300.0, basis=RECEIPT_FIT, manual=manual, coarse=coarse
    )


@dataclass
class Recorded:
    engine: Engine
    live: LiveHub
    ada: int  # 0-10m gate → Chronopic (±3.2 ms); 10-20m Chronopic → Timy, coarse (±4.3 ms)
    ben: int  # 0-10m on one gate clock; 10-20m gate → Timy keypad, a hand time (±1.5 ms)
    cy: int  # protocol v1 gates only: no mark
    runs: dict[str, int]


def _rep(recorder: RunRecorder, drill_id: int, athlete_id: int, stamps: list[Stamp]) -> int:
    run_id = recorder.open_run(drill_id, athlete_id, rep=1)
    roles = ("start", "split_10m", "finish")
    names = ("0-10m", "10-20m")
    splits = tuple(
        SplitResult.between(names[i], roles[i], roles[i + 1], stamps[i], stamps[i + 1], 10.0)
        for i in range(2)
    )
    ctx = {"drill": DRILL, "athlete": str(athlete_id), "rep": 1}
    for position, split in enumerate(splits, start=1):
        recorder.add_split(run_id, position, split, ctx, final=position == 2)
    total = stamps[2].mono_us - stamps[0].mono_us
    recorder.close_run(run_id, RunOutcome(RunState.FINISHED, splits, total, None), ctx)
    return run_id


def record(db: str) -> Recorded:
    migrate(db)
    engine = make_engine(db)
    CATALOG.sync(engine)
    live = LiveHub()
    recorder = RunRecorder(engine, live)
    team = recorder.ensure_team(TEAM)
    ids = {n: recorder.ensure_athlete(team, n) for n in ("Ada", "Ben", "Cy")}
    drill_id = recorder.drill_id(DRILL)
    runs = {
        "Ada": _rep(recorder, drill_id, ids["Ada"],
                    [gate(1_000_000), chronopic(2_800_000), timy(4_000_000, coarse=True)]),
        "Ben": _rep(recorder, drill_id, ids["Ben"],
                    [gate(1_000_000), gate(2_850_000), timy(6_000_000, manual=True)]),
        "Cy": _rep(recorder, drill_id, ids["Cy"], [gate(0), gate(1_900_000), gate(3_100_000)]),
    }  # fmt: skip
    return Recorded(engine, live, ids["Ada"], ids["Ben"], ids["Cy"], runs)


@pytest.fixture
def recorded(sqlite_db: str) -> Iterator[Recorded]:
    world = record(sqlite_db)
    yield world
    world.engine.dispose()


def test_recorder_stores_each_mark_and_closes_a_hand_timed_rep_as_manual(any_db: str) -> None:
    world = record(any_db)
    try:
        with Session(world.engine) as session:
            stored = {
                (s.run_id, s.name): (s.cross_device_error_us, s.manual, s.coarse)
                for s in session.exec(select(Split)).all()
            }
            ada, ben, cy = (session.get(Run, world.runs[n]) for n in ("Ada", "Ben", "Cy"))
        assert ada is not None and ben is not None and cy is not None
        assert stored == {
            (ada.id, "0-10m"): (3_200, False, False),  # gate ±0.2 ms + Chronopic ±3 ms
            (ada.id, "10-20m"): (4_300, False, True),  # Chronopic ±3 ms + Timy ±1.3 ms
            (ben.id, "0-10m"): (None, False, False),  # one clock: tick difference
            (ben.id, "10-20m"): (1_500, True, False),  # gate ±0.2 ms + Timy keypad ±1.3 ms
            (cy.id, "0-10m"): (None, False, False),
            (cy.id, "10-20m"): (None, False, False),
        }
        # The rep takes the largest bound of its splits, and a hand time in any split.
        assert (ada.manual, ada.cross_device_error_us) == (False, 4_300)
        assert (ben.manual, ben.cross_device_error_us) == (True, 1_500)
        assert (cy.manual, cy.cross_device_error_us) == (False, None)
        # Marked like a time typed in by a coach on the board, with nothing more to do.
        board = {e.athlete: e for e in leaderboard(world.engine, DRILL).entries}
        assert board["Ben"].best_manual and board["Ben"].last_manual
        assert not board["Ada"].best_manual and not board["Cy"].best_manual
        # The live feed says it as each split and rep is committed.
        history = world.live.since(world.live.epoch, 0)
        assert history is not None
        messages = [json.loads(t) for t in history]
        splits = {(m["run_id"], m["split"]): m for m in messages if m["type"] == "split"}
        first = splits[(ada.id, "0-10m")]
        assert (first["cross_device_error_s"], first["manual"], first["coarse"]) == (
            0.0032,
            False,
            False,
        )
        second = splits[(ada.id, "10-20m")]
        assert (second["cross_device_error_s"], second["coarse"]) == (0.0043, True)
        assert splits[(ben.id, "10-20m")]["manual"] is True
        assert splits[(cy.id, "0-10m")]["cross_device_error_s"] is None
        reps = {m["run_id"]: m for m in messages if m["type"] == "run"}
        assert (reps[ada.id]["manual"], reps[ada.id]["cross_device_error_s"]) == (False, 0.0043)
        assert reps[ben.id]["manual"] is True
    finally:
        world.engine.dispose()


def test_a_rep_typed_in_stays_manual_when_closed(recorded: Recorded) -> None:
    """Closing keeps a manual flag already set, even when no split is a hand time."""
    recorder = RunRecorder(recorded.engine, recorded.live)
    run_id = recorder.open_run(recorder.drill_id(DRILL), recorded.cy, rep=2)
    with Session(recorded.engine) as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.manual = True
        session.add(run)
        session.commit()
    recorder.close_run(run_id, RunOutcome(RunState.FINISHED, (), 3_000_000, None), {})
    with Session(recorded.engine) as session:
        run = session.get(Run, run_id)
        assert run is not None and run.manual is True


def test_raw_events_keep_the_adapter_flags(recorded: Recorded) -> None:
    recorder = RunRecorder(recorded.engine, recorded.live)
    flags = [(False, False, False), (True, False, False), (True, True, False), (True, False, True)]
    for seq, (by_receipt, manual, coarse) in enumerate(flags, start=1):
        event = DeviceEvent(
            device="timy-1", boot_id=1, seq=seq, channel=0, kind=EventKind.BEAM_BROKEN,
            ticks=seq * 1000, tick_hz_est=1e4, mono_us=seq * 1_000_000,
            received_mono_us=seq * 1_000_000 + 4_000, by_receipt=by_receipt, manual=manual,
            coarse=coarse,
        )  # fmt: skip
        assert recorder.store_device_event(event, None)
    with Session(recorded.engine) as session:
        rows = session.exec(select(DeviceEventRow).order_by(col(DeviceEventRow.seq))).all()
    assert [(r.by_receipt, r.manual, r.coarse) for r in rows] == flags


def test_recent_runs_api_shows_the_marks(recorded: Recorded, sqlite_db: str) -> None:
    runs = {r.athlete: r for r in recent_runs(recorded.engine, DRILL, 10, names="full")}
    ada = runs["Ada"]
    assert ada.cross_device_error_s == 0.0043
    marks = {
        name: (m.cross_device_error_s, m.manual, m.coarse) for name, m in ada.split_marks.items()
    }
    assert marks == {"0-10m": (0.0032, False, False), "10-20m": (0.0043, False, True)}
    with serve(sqlite_db) as server, httpx.Client(base_url=server.base_url, timeout=10) as anon:
        answer = anon.get("/api/runs/recent", params={"drill": DRILL}).json()
    by_run = {r["run_id"]: r for r in answer}
    assert by_run[recorded.runs["Ada"]]["split_marks"]["10-20m"] == {
        "cross_device_error_s": 0.0043,
        "manual": False,
        "coarse": True,
    }
    ben = by_run[recorded.runs["Ben"]]
    assert ben["manual"] is True and ben["split_marks"] == {
        "10-20m": {"cross_device_error_s": 0.0015, "manual": True, "coarse": False}
    }
    cy = by_run[recorded.runs["Cy"]]
    assert cy["split_marks"] == {} and cy["cross_device_error_s"] is None


def test_exports_carry_the_marks(recorded: Recorded, tmp_path: Path) -> None:
    summary = load_summary(recorded.engine, Scope(TEAM), CATALOG.drills)
    out = io.StringIO()
    write_reps_csv(summary.data, out)
    rows = {r["athlete"]: r for r in csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff")))}
    header = list(rows["Ada"])
    assert header[-5:] == ["run_id", "cross_device_error_ms", "coarse", "split_marks", "crossings"]
    ada, ben, cy = rows["Ada"], rows["Ben"], rows["Cy"]
    assert (ada["cross_device_error_ms"], ada["coarse"], ada["manual"]) == ("4.3", "1", "0")
    assert ada["split_marks"] == "0-10m ±3.2 ms cross-device; 10-20m ±4.3 ms cross-device, coarse"
    assert (ben["cross_device_error_ms"], ben["coarse"], ben["manual"]) == ("1.5", "0", "1")
    assert ben["split_marks"] == "10-20m ±1.5 ms cross-device, hand time"
    assert (cy["cross_device_error_ms"], cy["coarse"], cy["split_marks"]) == ("", "0", "")

    path = tmp_path / "squad.xlsx"
    write_export(summary, "xlsx", path)
    sheet = openpyxl.load_workbook(path)[DRILL]
    names = [c.value for c in sheet[1]]
    cells = {
        row["athlete"]: row
        for row in (dict(zip(names, (c.value for c in r), strict=True)) for r in sheet.iter_rows(2))
    }
    assert (cells["Ada"]["cross_device_error_ms"], cells["Ada"]["coarse"]) == (4.3, 1)
    assert (cells["Cy"]["cross_device_error_ms"], cells["Cy"]["coarse"]) == (None, 0)
    assert sheet.cell(2, names.index("cross_device_error_ms") + 1).number_format == "0.0"

    pdf = tmp_path / "squad.pdf"
    write_export(summary, "pdf", pdf)
    words = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages)
    assert "2 rep(s) have a cross-device split" in words
    assert "±4.3 ms here" in words
    assert "1 rep(s) have a coarse split" in words
    assert "1 rep(s) were timed by hand" in words  # Ben's keypad time
    assert "Best rep timed across a receipt-timed device or by receipt time" in words
    assert "Ada ±4.3 ms cross-device, coarse; Ben ±1.5 ms cross-device." in words

    history = athlete_history(
        load_summary(recorded.engine, Scope(TEAM, athlete_id=recorded.ada), CATALOG.drills)
    )
    (rep,) = next(d for d in history["drills"] if d["slug"] == DRILL)["reps"]
    assert (rep["cross_device_error_ms"], rep["coarse"], rep["manual"]) == (4.3, True, False)


def test_the_timing_note_is_silent_without_marked_reps(recorded: Recorded, tmp_path: Path) -> None:
    only_cy = load_summary(recorded.engine, Scope(TEAM, athlete_id=recorded.cy), CATALOG.drills)
    pdf = tmp_path / "cy.pdf"
    write_export(only_cy, "pdf", pdf)
    words = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages)
    assert "Caveats" in words
    assert "cross-device" not in words and "coarse" not in words and "†" not in words


def test_a_database_before_the_marks_upgrades_with_its_rows_unmarked(sqlite_db: str) -> None:
    migrate(sqlite_db, "0004")
    engine = make_engine(sqlite_db)
    try:
        with engine.begin() as conn:
            now = "2026-03-02 09:00:00"
            conn.execute(
                text("INSERT INTO team (id, name, created_wall) VALUES (1, 'T', :w)"), {"w": now}
            )
            conn.execute(
                text(
                    "INSERT INTO athlete (id, team_id, name, created_wall) VALUES (1, 1, 'A', :w)"
                ),
                {"w": now},
            )
            conn.execute(
                text(
                    "INSERT INTO drill (id, slug, name, direction, definition_toml, updated_wall)"
                    " VALUES (1, 'd', 'D', 'forward', '', :w)"
                ),
                {"w": now},
            )
            conn.execute(
                text(
                    "INSERT INTO run (id, drill_id, athlete_id, rep, state, total_us, started_wall)"
                    " VALUES (1, 1, 1, 1, 'finished', 2000000, :w)"
                ),
                {"w": now},
            )
            conn.execute(
                text(
                    "INSERT INTO split (run_id, position, name, from_role, to_role, distance_m,"
                    " elapsed_us, created_wall) VALUES (1, 1, 's', 'a', 'b', 10, 2000000, :w)"
                ),
                {"w": now},
            )
            conn.execute(
                text(
                    "INSERT INTO deviceevent (device, boot_id, seq, channel, kind, ticks,"
                    " tick_hz_est, received_mono_us, received_wall)"
                    " VALUES ('gate-1', 1, 1, 0, 'beam_broken', 5, 2e6, 7, :w)"
                ),
                {"w": now},
            )
        engine.dispose()
        migrate(sqlite_db)
        with Session(engine) as session:
            split = session.exec(select(Split)).one()
            run = session.exec(select(Run)).one()
            event = session.exec(select(DeviceEventRow)).one()
        assert (split.cross_device_error_us, split.manual, split.coarse) == (None, False, False)
        assert (run.cross_device_error_us, run.manual) == (None, False)
        assert (event.by_receipt, event.manual, event.coarse) == (False, False, False)
        engine.dispose()
        command.downgrade(alembic_config(sqlite_db), "0004")
        with contextlib.closing(engine.connect()) as conn:
            columns = {r[1] for r in conn.execute(text("PRAGMA table_info(split)"))}
            assert "coarse" not in columns
            assert conn.execute(text("SELECT count(*) FROM split")).scalar() == 1
    finally:
        engine.dispose()


def test_coach_reads_the_marks_in_the_athlete_history_api(
    recorded: Recorded, sqlite_db: str
) -> None:
    with (
        serve(sqlite_db) as server,
        contextlib.closing(login_client(server.base_url, recorded.engine)) as coach,
    ):
        answer = coach.get(f"/api/reports/athlete/{recorded.ada}")
    assert answer.status_code == 200, answer.text
    (rep,) = next(d for d in answer.json()["drills"] if d["slug"] == DRILL)["reps"]
    assert rep["cross_device_error_ms"] == 4.3 and rep["coarse"] is True
    assert rep["split_marks"] == "0-10m ±3.2 ms cross-device; 10-20m ±4.3 ms cross-device, coarse"
