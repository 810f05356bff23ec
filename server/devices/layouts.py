"""Named layouts: which device and channel each drill role is on, kept between sessions.

A coach who sets up the same lane every week saves it once and applies it by name; applying
replaces the coordinator's bindings (never during a rep: the rep's roles would move under it).
The main station's applied bindings are kept too (`appsetting` key `main_layout`) and put back
when the server starts, as other stations' are (server/stations/registry.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from drills.crossing import MAX_REARM_US, MAX_WINDOW_US, MIN_WINDOW_US, Trigger
from hardware.adapters.session import successive_breaks_key
from server.db.models import AppSetting, DeviceLayout, utc_now
from server.db.upsert import save_row
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.runs.coordinator import Binding, RunCoordinator

log = logging.getLogger(__name__)

MAX_NAME = 80
MAIN_LAYOUT_KEY = "main_layout"
MAX_ROLE = 40
MAX_DEVICE = 40


@dataclass(frozen=True)
class LayoutInfo:
    name: str
    bindings: dict[str, dict[str, Any]]
    """{"role": {"device": "<device key>", "channel": n}}, with "trigger", "channels",
    "rearm_ms" and "window_ms" as they were given (binding_json)."""
    updated_wall: datetime
    active: bool
    """The coordinator's bindings are exactly these now."""


def _invalid(problems: list[str]) -> InvalidInputError:
    error = InvalidInputError("\n".join(["invalid layout", *problems]), problems)
    return error


BINDING_FIELDS = frozenset({"device", "channel", "channels", "trigger", "rearm_ms", "window_ms"})
TRIGGERS = ", ".join(t.value for t in Trigger)


def _whole(value: Any) -> bool:
    # bool is an int to Python; `true` is not a number here.
    return isinstance(value, int) and not isinstance(value, bool)


def parse_binding(where: str, value: Any, problems: list[str]) -> Binding | None:
    """One role's binding from JSON, every problem named with its field:
    {"device", "channel"} with an optional "trigger" ("first-break", "longest-break"),
    "rearm_ms" and "window_ms"; or {"device", "channels": [top, bottom], "trigger":
    "dual-beam" or "dual-longest"}."""
    before = len(problems)
    if not isinstance(value, dict):
        problems.append(f'{where}: an object {{"device", "channel"}}')
        return None
    unknown = sorted(str(k) for k in set(value) - BINDING_FIELDS)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    device = value.get("device")
    if not isinstance(device, str) or not device.strip() or len(device) > MAX_DEVICE:
        problems.append(f"{where}.device: a device key of 1 to {MAX_DEVICE} characters")
    trigger = Trigger.FIRST_BREAK
    if "trigger" in value:
        try:
            trigger = Trigger(value["trigger"])
        except ValueError:
            problems.append(f"{where}.trigger: one of {TRIGGERS}")
    channels: list[Any]
    if trigger.beams == 2:
        given = value.get("channels")
        channels = given if isinstance(given, list) else []
        if "channel" in value or len(channels) != 2:
            problems.append(f"{where}.channels: {trigger.value} binds two, [top, bottom]")
    else:
        channels = [value.get("channel")]
        if "channels" in value:
            problems.append(
                f"{where}.channels: only for dual-beam or dual-longest; give one channel"
            )
    if any(not _whole(ch) or ch < 0 for ch in channels):
        problems.append(
            f"{where}.channel{'s' if len(channels) > 1 else ''}: whole numbers, 0 or more"
        )
    elif len(channels) == 2 and channels[0] == channels[1]:
        problems.append(f"{where}.channels: two different beams")
    limits = {"rearm_ms": (0, MAX_REARM_US // 1000), "window_ms": (MIN_WINDOW_US // 1000,
              MAX_WINDOW_US // 1000)}  # fmt: skip
    for key, (lo, hi) in limits.items():
        if key in value and (not _whole(value[key]) or not lo <= value[key] <= hi):
            problems.append(f"{where}.{key}: a whole number from {lo} to {hi}")
    if "window_ms" in value and not trigger.windowed:
        problems.append(f"{where}.window_ms: only for longest-break or dual-longest")
    if len(problems) > before:
        return None
    assert isinstance(device, str)
    return Binding(
        device.strip(), channels[0], trigger,
        bottom=channels[1] if len(channels) > 1 else None,
        rearm_ms=value.get("rearm_ms"), window_ms=value.get("window_ms"),
    )  # fmt: skip


def parse_bindings(raw: Any) -> dict[str, Binding]:
    """Checks every binding and names each problem: role, device (non-empty), channel (≥ 0),
    the rule, and no two roles on one input (a beam break could only ever mean one of them),
    except on a device whose photocells share one input (a Chronopic: its breaks go to roles
    in running order)."""
    if not isinstance(raw, dict):
        raise _invalid(['bindings: an object {"role": {"device", "channel"}}'])
    problems: list[str] = []
    out: dict[str, Binding] = {}
    for role, value in raw.items():
        where = f"bindings.{role}"
        if not isinstance(role, str) or not role.strip() or len(role) > MAX_ROLE:
            problems.append(f"{where}: a role name of 1 to {MAX_ROLE} characters")
            continue
        binding = parse_binding(where, value, problems)
        if binding is not None:
            out[role] = binding
    seen: dict[tuple[str, int], str] = {}
    for role, binding in out.items():
        for channel in binding.channels:
            key = (binding.device, channel)
            if key in seen and not successive_breaks_key(binding.device):
                problems.append(
                    f"bindings.{role}: {binding.device} channel {channel} is already "
                    f"bound to {seen[key]}"
                )
            seen.setdefault(key, role)
    if problems:
        raise _invalid(problems)
    return out


def binding_json(b: Binding) -> dict[str, Any]:
    """A binding as the API answers it and the database keeps it: what was chosen, as given."""
    out: dict[str, Any] = {"device": b.device}
    if b.bottom is None:
        out["channel"] = b.channel
    else:
        out["channels"] = [b.channel, b.bottom]
    if b.trigger is not Trigger.FIRST_BREAK:
        out["trigger"] = b.trigger.value
    if b.rearm_ms is not None:
        out["rearm_ms"] = b.rearm_ms
    if b.window_ms is not None:
        out["window_ms"] = b.window_ms
    return out


def _as_json(bindings: dict[str, Binding]) -> dict[str, dict[str, Any]]:
    return {role: binding_json(b) for role, b in bindings.items()}


def bindings_from_json(data: dict[str, Any]) -> dict[str, Binding]:
    """Stored bindings (written by this module, so valid), back to Bindings."""
    problems: list[str] = []
    out = {role: parse_binding(role, v, problems) for role, v in data.items()}
    if problems:
        raise ValueError("; ".join(problems))
    return {role: b for role, b in out.items() if b is not None}


def _from_row(row: DeviceLayout) -> dict[str, Binding]:
    return bindings_from_json(json.loads(row.bindings_json))


def store_main_layout(engine: Engine, bindings: dict[str, Binding], name: str | None) -> None:
    """Keep the main station's applied bindings (and the layout's name) for the next start."""
    text = json.dumps({"name": name, "bindings": _as_json(bindings)}, separators=(",", ":"))

    def find(session: Session) -> AppSetting:
        return session.get(AppSetting, MAIN_LAYOUT_KEY) or AppSetting(key=MAIN_LAYOUT_KEY)

    def fill(row: AppSetting) -> None:
        row.value_json, row.updated_wall = text, utc_now()

    if save_row(engine, find, fill) is None:
        raise ConflictError("the applied layout changed meanwhile; apply it again")


def restore_main_layout(
    engine: Engine, coordinator: RunCoordinator, held_by: Callable[[str], str | None]
) -> dict[str, Binding]:
    """Bind the main station as it was last applied. `held_by(device)` names another station
    holding a device (a device belongs to one station): such a role is left unbound."""
    with Session(engine) as session:
        row = session.get(AppSetting, MAIN_LAYOUT_KEY)
        text = None if row is None else row.value_json
    if text is None:
        return {}
    try:
        bindings = bindings_from_json(json.loads(text).get("bindings") or {})
    except (ValueError, AttributeError):
        log.exception("the main station's stored layout is unreadable; left unbound")
        return {}
    for role, binding in list(bindings.items()):
        other = held_by(binding.device)
        if other is not None:
            log.warning("main layout: %s (%s) now belongs to station %s; left unbound",
                        role, binding.device, other)  # fmt: skip
            del bindings[role]
    coordinator.layout.clear()
    coordinator.layout.update(bindings)
    return bindings


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

        def find(session: Session) -> DeviceLayout:
            row = session.exec(select(DeviceLayout).where(DeviceLayout.name == name)).first()
            return row or DeviceLayout(name=name)

        def fill(row: DeviceLayout) -> None:
            row.bindings_json, row.updated_wall = text, utc_now()

        saved = save_row(self.engine, find, fill)
        if saved is None:
            raise ConflictError(f"layout {name!r} changed meanwhile; try again")
        return self._info(saved)

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
            store_main_layout(self.engine, bindings, row.name)
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
