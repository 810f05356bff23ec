"""Tables. Times are integer microseconds (`_us`); wall-clock UTC (`_wall`) only for display."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=120)
    created_wall: datetime = Field(default_factory=utc_now)
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Athlete(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_athlete_team_name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str = Field(max_length=120)
    display_name: str | None = Field(default=None, max_length=60)
    created_wall: datetime = Field(default_factory=utc_now)
    squad_number: int | None = None
    group_name: str | None = Field(default=None, max_length=40, index=True)
    # Optional, only to pick the right norm table ("F" or "M").
    sex: str | None = Field(default=None, max_length=1)
    birth_year: int | None = None
    # Archived athletes keep their runs but leave rosters and launchers.
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The RFID/barcode/QR id a check-in station reads, stored normalised (trimmed, upper-case:
    # server/roster/fields.py) so that one plain unique index refuses a tag on two athletes
    # whatever case a reader types; many athletes may have none (NULL).
    tag: str | None = Field(default=None, max_length=64, unique=True, index=True)


class Drill(SQLModel, table=True):
    """A copy of a drill file's identity, so runs keep pointing at it if the file changes."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=80)
    name: str = Field(max_length=160)
    direction: str = Field(max_length=16)
    twin_slug: str | None = Field(default=None, max_length=80)
    definition_toml: str = ""
    updated_wall: datetime = Field(default_factory=utc_now)


class Run(SQLModel, table=True):
    """One rep by one athlete. Created when the athlete starts, finished or not."""

    # An athlete's reps of one drill, read whenever their board row is rewritten.
    __table_args__ = (Index("ix_run_drill_athlete", "drill_id", "athlete_id"),)

    id: int | None = Field(default=None, primary_key=True)
    drill_id: int = Field(foreign_key="drill.id", index=True)
    athlete_id: int = Field(foreign_key="athlete.id", index=True)
    rep: int = 1
    state: str = Field(default="running", max_length=16, index=True)
    reason: str | None = Field(default=None, max_length=200)
    total_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    started_wall: datetime = Field(default_factory=utc_now, index=True)
    finished_wall: datetime | None = None
    # A practice rep (drill's familiarisation_reps): stored and shown, left out of bests.
    familiarisation: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    plan_session_id: int | None = Field(default=None, foreign_key="plansession.id", index=True)
    # The station (course) the rep was run on; None: the main one.
    station: str | None = Field(default=None, max_length=40, index=True)
    # Coach corrections (logged in Correction): a voided rep keeps its engine state for the
    # record but leaves every board; a manual rep's total was typed in, not timed.
    voided: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    manual: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Reactive starts: cue onset to leaving the start gate, and from there to the finish.
    reaction_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    movement_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The largest cross_device_error_us of the rep's splits; None when no split spans a
    # receipt-mapped clock (set when the rep closes).
    cross_device_error_us: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )


class Split(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "position", name="uq_split_run_position"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    position: int
    name: str = Field(max_length=60)
    from_role: str = Field(max_length=40)
    to_role: str = Field(max_length=40)
    distance_m: float
    elapsed_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_wall: datetime = Field(default_factory=utc_now)
    # Pod touches: light onset to the athlete's first movement (elapsed_us runs to the touch).
    reaction_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Marks from the two stamps (drills.SplitResult): the error bound when the split spans a
    # clock mapped by receipt (Chronopic, Timy) and another clock; an end that is a hand time
    # (a Timy keypad impulse); an end placed by receipt time (a saturated Chronopic counter).
    cross_device_error_us: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    manual: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    coarse: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class BoardBest(SQLModel, table=True):
    """Each athlete's best and last counted time per drill and segment ("" = the whole rep).

    Derived from run and split, and rewritten for an athlete and drill whenever one of their
    reps ends or is corrected (server/leaderboard/summary.py), so a board reads one row per
    athlete whatever the length of the club's history.
    """

    drill_id: int = Field(foreign_key="drill.id", primary_key=True)
    segment: str = Field(primary_key=True, max_length=60)
    athlete_id: int = Field(foreign_key="athlete.id", primary_key=True)
    best_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    best_manual: bool = False
    last_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_manual: bool = False
    last_run_id: int
    runs: int


class DeviceEvent(SQLModel, table=True):
    """Every edge a device reported, append-only, so a run can be recomputed later."""

    __table_args__ = (
        UniqueConstraint("device", "boot_id", "seq", name="uq_device_event_boot_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    device: str = Field(max_length=40, index=True)
    boot_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    seq: int
    channel: int
    kind: str = Field(max_length=20)
    ticks: int = Field(sa_column=Column(BigInteger, nullable=False))
    tick_hz_est: float
    mapped_mono_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    received_mono_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_wall: datetime = Field(default_factory=utc_now)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    # Set by adapters for devices without protocol v1 (hardware.registry.DeviceEvent), so a
    # run re-derived from these rows gets the same split marks.
    by_receipt: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    manual: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    coarse: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Plan(SQLModel, table=True):
    """A session plan as validated JSON (server/plans/README.md), kept so it can run again."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, index=True)
    definition_json: str
    created_wall: datetime = Field(default_factory=utc_now)


class DayPlan(SQLModel, table=True):
    """A testing day: stations, what each runs, and the groups rotating through them, as
    validated JSON (server/days/README.md). `rotation` is the last one started (0: none)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160)
    day: str = Field(max_length=10, index=True)  # the club's day, an ISO date
    definition_json: str
    rotation: int = 0
    created_wall: datetime = Field(default_factory=utc_now)
    updated_wall: datetime = Field(default_factory=utc_now)


class PlanSession(SQLModel, table=True):
    """One running of a plan, now or later; the database, not the scheduler, is the truth.

    state: scheduled, running, paused, finished, aborted or missed. A session is claimed
    with `UPDATE ... WHERE state = 'scheduled'`, so it starts once even if two jobs fire.
    """

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    state: str = Field(default="scheduled", max_length=16, index=True)
    reason: str | None = Field(default=None, max_length=200)
    time_scale: float = 1.0
    scheduled_wall: datetime | None = None
    started_wall: datetime | None = None
    finished_wall: datetime | None = None
    progress_json: str = "{}"
    created_wall: datetime = Field(default_factory=utc_now)
    # The station (a course of its own) the session runs on; None: the main one.
    station: str | None = Field(default=None, max_length=40, index=True)
    # The day plan and rotation that started it, if one did.
    dayplan_id: int | None = Field(default=None, foreign_key="dayplan.id", index=True)
    rotation: int | None = None


class Coach(SQLModel, table=True):
    """A person who may change things. There is no default account: the first is made by
    `agility coach add` or by the setup page, which answers only on localhost."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=60)
    password_hash: str = Field(max_length=255)
    created_wall: datetime = Field(default_factory=utc_now)
    last_login_wall: datetime | None = None


class CoachSession(SQLModel, table=True):
    """A login. Only a hash of the cookie's token is stored, so a copied database
    cannot be used to log in."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    coach_id: int = Field(foreign_key="coach.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_wall: datetime = Field(default_factory=utc_now)
    expires_wall: datetime


class Correction(SQLModel, table=True):
    """Who changed which rep, when and how (void, unvoid, reassign, manual time)."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    coach_id: int | None = Field(default=None, foreign_key="coach.id")
    action: str = Field(max_length=20)
    detail_json: str = "{}"
    created_wall: datetime = Field(default_factory=utc_now)


class Crossing(SQLModel, table=True):
    """How a gate role's crossing in a rep was found (drills/crossing.py): the rule, the raw
    edge whose stamp it is, and every edge the rule weighed, so a coach can see why a split
    is what it is and a sports scientist can re-derive it from the stored device events."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    role: str = Field(max_length=40)
    trigger: str = Field(max_length=20)
    at_mono_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The chosen edge, as the device event table keys it.
    device: str = Field(max_length=40)
    boot_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    seq: int
    # [[device, boot, seq, beam, broken], ...] in arrival order.
    edges_json: str = "[]"
    # How much earlier the first break among those edges was: what first-break would have
    # timed instead (0 when the first break was the one chosen).
    first_break_lead_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class DeviceLayout(SQLModel, table=True):
    """A named binding of drill roles to devices and channels, reused across sessions."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=80)
    bindings_json: str = "{}"
    updated_wall: datetime = Field(default_factory=utc_now)


class Station(SQLModel, table=True):
    """A course that runs on its own on a testing day: its devices and roles, its own queue
    and sessions. The main station (the lane of before) is not stored here."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=40)
    bindings_json: str = "{}"
    min_start_spacing_s: float = 0.0
    updated_wall: datetime = Field(default_factory=utc_now)


class StationLink(SQLModel, table=True):
    """A link a coach handed an assistant to run one station from a phone. Only the SHA-256
    of the link's key is stored, as for logins: a copied database opens no station. No
    foreign key: the main station has no row, and a link outlives nothing past its expiry."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    station: str = Field(index=True, max_length=40)
    created_wall: datetime = Field(default_factory=utc_now)
    expires_wall: datetime


class CourseFlag(SQLModel, table=True):
    """A crossing given to a runner first in first out that looked wrong (a pass, a speed no
    human runs, a missed gate) on a course that takes several athletes at once, kept until
    the coach confirms it or swaps it with the other runner's (drills/overlap.py)."""

    id: int | None = Field(default=None, primary_key=True)
    station: str | None = Field(default=None, max_length=40, index=True)
    drill: str = Field(max_length=80)
    role: str = Field(max_length=40)
    doubt: str = Field(max_length=20)
    reason: str = Field(max_length=300)
    athlete: str = Field(max_length=120)  # the runner the crossing was given to
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    alternative: str | None = Field(default=None, max_length=120)  # who may own it instead
    other_run_id: int | None = Field(default=None, foreign_key="run.id")
    state: str = Field(default="open", max_length=12, index=True)  # open, confirmed, swapped
    created_wall: datetime = Field(default_factory=utc_now)
    decided_wall: datetime | None = None
    coach_id: int | None = Field(default=None, foreign_key="coach.id")


class UnknownTag(SQLModel, table=True):
    """A tag read at a station that no athlete has, kept until a coach attaches it: a blank
    card read at 9:00 must still be there to attach at 9:30, across a restart."""

    id: int | None = Field(default=None, primary_key=True)
    station: str = Field(index=True, max_length=40)
    tag: str = Field(max_length=64)
    first_wall: datetime = Field(default_factory=utc_now)
    last_wall: datetime = Field(default_factory=utc_now)
    reads: int = 1


class AppSetting(SQLModel, table=True):
    """Club-wide settings a coach changes from the console (e.g. board privacy)."""

    key: str = Field(primary_key=True, max_length=60)
    value_json: str = "null"
    updated_wall: datetime = Field(default_factory=utc_now)
