"""Stations: courses that run at once on one server, each with its own devices and sessions.

A testing day rotates athletes through several courses (a 10 m backward sprint, a 505, a
T-test ...), each run by an assistant. A station is one such course: a name, the bindings of
its drill roles to devices (a layout), its own RunCoordinator (so its reps, rests and
countdowns never wait for another's) and its own plan sessions.

The main station is the lane of before: the server's own coordinator, its layout set by
`agility run`, the console's layouts and the demo. It is always there and is not stored; every
other station is stored (table `station`) and comes back after a restart.

A device belongs to one station at a time, so its events go to exactly one coordinator and
are stored once: a binding that names a device another station holds is refused, naming that
station and role. Events of a device no station binds go to the main one, which keeps them
raw (test mode, the Devices page).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hardware.device import DeviceEvent
from server.auth.station_links import StationLinkService
from server.db.models import PlanSession, utc_now
from server.db.models import Station as StationRow
from server.db.upsert import save_row
from server.devices.layouts import binding_json, bindings_from_json, parse_bindings
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.runs.coordinator import Binding, RunCoordinator
from server.runs.recorder import MAIN_STATION

log = logging.getLogger(__name__)

MAIN = MAIN_STATION
MAX_NAME = 40
# A start spacing longer than this is no overlap at all: a rep's whole time limit is shorter.
MAX_START_SPACING_S = 600.0
# Enough for any testing day (6 stations is a big one) and a bound on what a request can make.
MAX_STATIONS = 32
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
ACTIVE_SESSION_STATES = ("scheduled", "running", "paused")


@dataclass
class Station:
    name: str
    coordinator: RunCoordinator
    min_start_spacing_s: float = 0.0

    def __post_init__(self) -> None:
        self.set_spacing(self.min_start_spacing_s)

    def set_spacing(self, seconds: float) -> None:
        """Above 0, the next athlete may start before the previous one has finished."""
        self.min_start_spacing_s = seconds
        self.coordinator.start_spacing_us = round(seconds * 1e6)

    @property
    def layout(self) -> dict[str, Binding]:
        return self.coordinator.layout

    def devices(self) -> set[str]:
        return {b.device for b in self.coordinator.layout.values()}


def _invalid(problem: str) -> InvalidInputError:
    error = InvalidInputError(problem, [problem])
    return error


def check_name(name: str) -> str:
    """A station's name goes in URLs and links handed to assistants: short, lower-case."""
    if not 1 <= len(name) <= MAX_NAME or not set(name) <= NAME_CHARS:
        raise _invalid(f"name: 1 to {MAX_NAME} of a-z, 0-9, - and _")
    return name


def check_spacing(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value <= MAX_START_SPACING_S):
        raise _invalid(f"min_start_spacing_s: from 0 to {MAX_START_SPACING_S:g} seconds")
    return value


class Stations:
    """Every station of the server, by name; the router of device events among them."""

    def __init__(
        self, engine: Engine, main: RunCoordinator,
        make_coordinator: Callable[[str, dict[str, Binding]], RunCoordinator],
    ) -> None:  # fmt: skip
        self.engine = engine
        self.make_coordinator = make_coordinator
        self._by_name: dict[str, Station] = {MAIN: Station(MAIN, main)}

    @property
    def main(self) -> Station:
        return self._by_name[MAIN]

    def load(self) -> None:
        """The stored stations, as they were before a restart."""
        with Session(self.engine) as session:
            rows = session.exec(select(StationRow).order_by(col(StationRow.name))).all()
        for row in rows:
            try:
                bindings = bindings_from_json(json.loads(row.bindings_json))
            except (ValueError, InvalidInputError):
                log.exception("station %s: stored bindings unreadable; left empty", row.name)
                bindings = {}
            self._by_name[row.name] = Station(
                row.name, self.make_coordinator(row.name, bindings), row.min_start_spacing_s
            )

    def all(self) -> list[Station]:
        return [self._by_name[MAIN], *sorted(
            (s for n, s in self._by_name.items() if n != MAIN), key=lambda s: s.name
        )]  # fmt: skip

    def get(self, name: str) -> Station:
        station = self._by_name.get(name)
        if station is None:
            raise NotFoundError(f"no station {name!r}")
        return station

    def owner_of(self, device: str) -> Station | None:
        for station in self._by_name.values():
            if device in station.devices():
                return station
        return None

    def check_devices_free(self, name: str, bindings: Mapping[str, Binding]) -> None:
        """Refuse a binding to a device another station holds (its events go to one only)."""
        for role, binding in bindings.items():
            for other in self._by_name.values():
                if other.name == name:
                    continue
                for other_role, held in other.layout.items():
                    if held.device == binding.device:
                        raise ConflictError(
                            f"role {role}: {binding.device} belongs to station {other.name} "
                            f"(its {other_role}); free it there first"
                        )

    def put(self, name: str, raw_bindings: Any, min_start_spacing_s: float) -> Station:
        """Create or change a station; its layout changes only between reps."""
        check_name(name)
        check_spacing(min_start_spacing_s)
        bindings = parse_bindings(raw_bindings)
        if name == MAIN:
            raise ConflictError(
                "the main station's devices are set by its layout (Devices tab) or agility run"
            )
        if name not in self._by_name and len(self._by_name) >= MAX_STATIONS:
            raise ConflictError(f"at most {MAX_STATIONS} stations on one server")
        self.check_devices_free(name, bindings)
        station = self._by_name.get(name)
        if station is not None and station.coordinator.active is not None:
            active = station.coordinator.active
            raise ConflictError(
                f"station {name}: {active.athlete} is running {active.drill.slug}; change its "
                "devices after the rep"
            )
        self._store(name, bindings, min_start_spacing_s)
        if station is None:
            coordinator = self.make_coordinator(name, dict(bindings))
            station = Station(name, coordinator, min_start_spacing_s)
            self._by_name[name] = station
        else:
            # In place: a plan runner of this station holds this same dict.
            station.coordinator.layout.clear()
            station.coordinator.layout.update(bindings)
            station.set_spacing(min_start_spacing_s)
        return station

    def remove(self, name: str) -> None:
        station = self.get(name)
        if name == MAIN:
            raise ConflictError("the main station cannot be removed")
        with Session(self.engine) as session:
            busy = session.exec(
                select(PlanSession.id).where(
                    PlanSession.station == name,
                    col(PlanSession.state).in_(ACTIVE_SESSION_STATES),
                )
            ).first()
            if busy is not None or station.coordinator.active is not None:
                raise ConflictError(
                    f"station {name} has a session planned or going (session {busy}); end it first"
                )
            row = session.exec(select(StationRow).where(StationRow.name == name)).first()
            if row is not None:
                session.delete(row)
                session.commit()
        # Its assistants' links go with it: a station made again under the name is new.
        revoked = StationLinkService(self.engine).revoke(name)
        if revoked:
            log.info("station %s removed with its %d link(s)", name, revoked)
        del self._by_name[name]

    def on_device_event(self, event: DeviceEvent) -> None:
        """To the one station that holds the device, else to the main one (kept raw)."""
        (self.owner_of(event.device) or self.main).coordinator.on_device_event(event)

    def info(self, station: Station) -> dict[str, Any]:
        runs = station.coordinator.on_course()
        reps = [
            {"athlete": r.athlete, "drill": r.drill.slug, "rep": r.rep, "run_id": r.run_id}
            for r in runs
        ]
        return {
            "name": station.name,
            "bindings": {role: binding_json(b) for role, b in station.layout.items()},
            "min_start_spacing_s": station.min_start_spacing_s,
            "on_course": reps[-1] if reps else None,
            "course": reps,
        }  # fmt: skip

    def _store(self, name: str, bindings: Mapping[str, Binding], spacing_s: float) -> None:
        text = json.dumps({r: binding_json(b) for r, b in bindings.items()}, separators=(",", ":"))

        def find(session: Session) -> StationRow:
            row = session.exec(select(StationRow).where(StationRow.name == name)).first()
            return row or StationRow(name=name)

        def fill(row: StationRow) -> None:
            row.bindings_json, row.min_start_spacing_s = text, spacing_s
            row.updated_wall = utc_now()

        if save_row(self.engine, find, fill) is None:
            raise ConflictError(f"station {name!r} changed meanwhile; try again")
