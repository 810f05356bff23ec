"""A small, exactly known squad history for the report tests, written straight to the tables.

Three teams: "Lions" (three athletes, six drills over two days, with a voided, a practice, a
manual, a false-start and a timed-out rep), "Empty FC" (an athlete, no reps) and "Voided
United" (reps, all voided). Times are integer µs chosen to exercise rounding to the ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Table, insert, select

from server.catalog.service import Catalog
from server.db.models import Athlete, Drill, Run, Split, Team
from server.db.session import make_engine, migrate

DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
TEAM: Table = Team.__table__  # type: ignore[attr-defined]
ATHLETE: Table = Athlete.__table__  # type: ignore[attr-defined]
DRILL: Table = Drill.__table__  # type: ignore[attr-defined]
RUN: Table = Run.__table__  # type: ignore[attr-defined]
SPLIT: Table = Split.__table__  # type: ignore[attr-defined]
ATHLETES = {"Åsa Berg": ("F", "U18"), "Ben Okafor": ("M", None), "Chloé Durand": ("F", "U18")}


@dataclass
class Seeded:
    db: str
    engine: Engine
    athlete_ids: dict[str, int] = field(default_factory=dict)
    # (athlete, drill) -> list of (run_id, total_us, splits_us, flags)
    runs: list[dict[str, object]] = field(default_factory=list)


def _add_run(
    conn: Connection,
    seeded: Seeded,
    athlete: str,
    drill_id: int,
    slug: str,
    rep: int,
    when: datetime,
    splits_us: list[int],
    names: list[str],
    **flags: object,
) -> int:
    state = str(flags.pop("state", "finished"))
    total = sum(splits_us) if state == "finished" else None
    values = {
        "drill_id": drill_id, "athlete_id": seeded.athlete_ids[athlete], "rep": rep,
        "state": state, "total_us": total, "started_wall": when, "finished_wall": when,
        "voided": bool(flags.get("voided", False)), "manual": bool(flags.get("manual", False)),
        "familiarisation": bool(flags.get("familiarisation", False)),
        "reaction_us": flags.get("reaction_us"),
    }  # fmt: skip
    run_id = int(conn.execute(insert(RUN).values(**values).returning(RUN.c.id)).scalar_one())
    for position, (name, us) in enumerate(zip(names, splits_us, strict=False), start=1):
        conn.execute(
            insert(SPLIT).values(
                run_id=run_id, position=position, name=name, from_role="a", to_role="b",
                distance_m=10.0, elapsed_us=us, created_wall=when,
            )
        )  # fmt: skip
    seeded.runs.append(
        {**values, "run_id": run_id, "athlete": athlete, "drill": slug, "splits_us": splits_us}
    )
    return run_id


# Per athlete: (drill, day, splits µs per rep); the same pattern scaled per athlete.
PLAN: dict[str, list[list[int]]] = {
    "sprint-10m": [[1_850_500], [1_870_000], [1_900_000]],
    "backward-sprint-10m": [[2_600_000], [2_450_250], [2_480_000]],
    "505-left": [[2_400_000], [2_420_000]],
    "505-right": [[2_650_000], [2_700_000]],
    "sprint-20m": [[1_800_000, 1_200_400], [1_810_000, 1_190_000]],
    "backward-walk-3m": [[4_800_000]],
}


def seed_reports_db(db: str) -> Seeded:
    migrate(db)
    engine = make_engine(db)
    Catalog.load().sync(engine)
    catalog = Catalog.load()
    seeded = Seeded(db, engine)
    with engine.begin() as conn:
        teams = {}
        for name in ("Lions", "Empty FC", "Voided United"):
            teams[name] = conn.execute(
                insert(TEAM).values(name=name, created_wall=DAY1).returning(TEAM.c.id)
            ).scalar_one()
        people: list[tuple[str, str, str | None, str | None]] = [
            (n, "Lions", sex, group) for n, (sex, group) in ATHLETES.items()
        ]
        people += [("Nia Empty", "Empty FC", None, None), ("Val Void", "Voided United", "M", None)]
        for name, team, sex, group in people:
            seeded.athlete_ids[name] = int(
                conn.execute(
                    insert(ATHLETE)
                    .values(team_id=teams[team], name=name, sex=sex, group_name=group,
                            created_wall=DAY1)
                    .returning(ATHLETE.c.id)
                ).scalar_one()
            )  # fmt: skip
        drill_ids = {r[0]: r[1] for r in conn.execute(select(DRILL.c.slug, DRILL.c.id))}
        for k, athlete in enumerate(ATHLETES):
            for slug, reps in PLAN.items():
                names = [s.name for s in catalog.drills[slug].segments]
                for day_no, day in enumerate((DAY1, DAY2)):
                    for i, splits in enumerate(reps):
                        # Each athlete a little slower; day 2 a little faster.
                        scaled = [us + k * 100_000 - day_no * 30_000 for us in splits]
                        when = day.replace(hour=9 + k, minute=i)
                        _add_run(conn, seeded, athlete, drill_ids[slug], slug, i + 1, when,
                                 scaled, names)  # fmt: skip
        # Tagged reps on day 2 for Åsa: each must be flagged and kept out of bests.
        tags: list[dict[str, object]] = [
            {"voided": True}, {"familiarisation": True}, {"state": "false_start",
            "reaction_us": -40_000}, {"state": "timeout"}, {"manual": True},
        ]  # fmt: skip
        for j, flags in enumerate(tags):
            fast = 1_000_000 if flags.get("manual") is None else 1_950_000
            _add_run(conn, seeded, "Åsa Berg", drill_ids["sprint-10m"], "sprint-10m", 10 + j,
                     DAY2.replace(hour=15, minute=j), [fast], ["0-10m"], **flags)  # fmt: skip
        for j in range(3):
            _add_run(conn, seeded, "Val Void", drill_ids["sprint-10m"], "sprint-10m", j + 1,
                     DAY1.replace(minute=j), [1_900_000], ["0-10m"], voided=True)  # fmt: skip
    return seeded
