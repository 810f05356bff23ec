"""Named layouts: which device and channel each drill role is on, kept between sessions.

A coach who sets up the same lane every week saves it once and applies it by name; applying
replaces the coordinator's bindings (never during a rep: the rep's roles would move under it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hardware.adapters.session import successive_breaks_key
from server.db.models import DeviceLayout, utc_now
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.runs.coordinator import Binding, RunCoordinator

MAX_NAME = 80
MAX_ROLE = 40
MAX_DEVICE = 40


@dataclass(frozen=True)
class LayoutInfo:
    name: str
    bindings: dict[str, dict[str, Any]]
    """{"role": {"device": "<device key>", "channel": n}}"""
    updated_wall: datetime
    active: bool
    """The coordinator's bindings are exactly these now."""


def _invalid(problems: list[str]) -> InvalidInputError:
    error = InvalidInputError("\n".join(["invalid layout", *problems]))
    error.errors = problems
    return error


def parse_bindings(raw: Any) -> dict[str, Binding]:
    """Checks every binding and names each problem: role, device (non-empty), channel (≥ 0),
    and no two roles on one input (a beam break could only ever mean one of them), except on
    a device whose photocells share one input (a Chronopic: its breaks go to roles in
    running order)."""
    if not isinstance(raw, dict):
        raise _invalid(['bindings: an object {"role": {"device", "channel"}}'])
    problems: list[str] = []
    out: dict[str, Binding] = {}
    for role, value in raw.items():
        where = f"bindings.{role}"
        before = len(problems)
        if not isinstance(role, str) or not role.strip() or len(role) > MAX_ROLE:
            problems.append(f"{where}: a role name of 1 to {MAX_ROLE} characters")
            continue
        if not isinstance(value, dict):
            problems.append(f'{where}: an object {{"device", "channel"}}')
            continue
        unknown = sorted(set(value) - {"device", "channel"})
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        device, channel = value.get("device"), value.get("channel")
        if not isinstance(device, str) or not device.strip() or len(device) > MAX_DEVICE:
            problems.append(f"{where}.device: a device key of 1 to {MAX_DEVICE} characters")
        # bool is an int to Python; `true` is not a channel.
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            problems.append(f"{where}.channel: a whole number, 0 or more")
        if len(problems) == before:
            assert isinstance(device, str) and isinstance(channel, int)
            out[role] = Binding(device.strip(), channel)
    seen: dict[Binding, str] = {}
    for role, binding in out.items():
        if binding in seen and not successive_breaks_key(binding.device):
            problems.append(
                f"bindings.{role}: {binding.device} channel {binding.channel} is already "
                f"bound to {seen[binding]}"
            )
        seen.setdefault(binding, role)
    if problems:
        raise _invalid(problems)
    return out


def _as_json(bindings: dict[str, Binding]) -> dict[str, dict[str, Any]]:
    return {role: {"device": b.device, "channel": b.channel} for role, b in bindings.items()}


def _from_row(row: DeviceLayout) -> dict[str, Binding]:
    data = json.loads(row.bindings_json)
    return {role: Binding(v["device"], int(v["channel"])) for role, v in data.items()}


class LayoutService:
    def __init__(self, engine: Engine, coordinator: RunCoordinator) -> None:
        self.engine = engine
        self.coordinator = coordinator

    def layouts(self) -> list[LayoutInfo]:
        with Session(self.engine) as session:
            rows = session.exec(select(DeviceLayout).order_by(col(DeviceLayout.name))).all()
            return [self._info(row) for row in rows]

    def put(self, name: str, raw: Any) -> LayoutInfo:
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise _invalid([f"name: 1 to {MAX_NAME} characters"])
        text = json.dumps(_as_json(parse_bindings(raw)), separators=(",", ":"))
        for _ in range(2):  # created by a parallel request in between: update that one
            with Session(self.engine) as session:
                row = session.exec(select(DeviceLayout).where(DeviceLayout.name == name)).first()
                row = row or DeviceLayout(name=name)
                row.bindings_json = text
                row.updated_wall = utc_now()
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue
                session.refresh(row)
                return self._info(row)
        raise ConflictError(f"layout {name!r} changed meanwhile; try again")

    def delete(self, name: str) -> None:
        with Session(self.engine) as session:
            row = self._row(session, name)
            session.delete(row)
            session.commit()

    def apply(self, name: str) -> LayoutInfo:
        with Session(self.engine) as session:
            row = self._row(session, name)
            bindings = _from_row(row)
            active = self.coordinator.active
            if active is not None:
                raise ConflictError(
                    f"{active.athlete} is running {active.drill.slug}; apply the layout after"
                )
            # In place: the plan runner and the demo hold this same dict.
            self.coordinator.layout.clear()
            self.coordinator.layout.update(bindings)
            return self._info(row)

    @staticmethod
    def _row(session: Session, name: str) -> DeviceLayout:
        row = session.exec(select(DeviceLayout).where(DeviceLayout.name == name)).first()
        if row is None:
            raise NotFoundError(f"no layout {name!r}")
        return row

    def _info(self, row: DeviceLayout) -> LayoutInfo:
        bindings = _from_row(row)
        return LayoutInfo(
            name=row.name, bindings=_as_json(bindings), updated_wall=row.updated_wall,
            active=bool(bindings) and bindings == self.coordinator.layout,
        )  # fmt: skip
