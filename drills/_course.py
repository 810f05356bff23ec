"""The course of a gate drill: roles, the route of segments, and the timed splits it implies."""

from __future__ import annotations

import re
from collections.abc import Mapping

from drills._checker import MISSING, Checker, toml_type
from drills._toml_lines import FieldPath
from drills.model import Leg, Movement, Role, RoleKind, Segment, TargetChoice, TurnSide

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ROLE_KEYS = ("kind", "position_m", "x_m", "y_m")
_SEGMENT_KEYS = ("name", "from", "to", "distance_m", "movement", "turn", "timed")
_CHOICE_KEYS = ("role", "options")


def parse_roles(c: Checker, data: Mapping[str, object]) -> dict[str, Role] | None:
    """Every `[roles.<name>]` table; None if any role is unusable (errors already recorded)."""
    table = c.table(data, "roles", ())
    if table is None:
        return None
    if not table:
        c.error(("roles",), "needs at least one role")
        return None
    roles: dict[str, Role] = {}
    ok = True
    for name, raw in table.items():
        at: FieldPath = ("roles", name)
        if not ROLE_NAME.match(name):
            c.error(at, f"role name '{name}' must be lowercase letters, digits and underscores")
            ok = False
        if not isinstance(raw, dict):
            c.error(at, f"must be a table, not {toml_type(raw)}")
            ok = False
            continue
        c.known_keys(raw, _ROLE_KEYS, at)
        kind = c.choice(raw, "kind", at, RoleKind)
        position = _position(c, raw, at)
        if kind is None or position is None:
            ok = False
            continue
        roles[name] = Role(name, kind, *position)
    return roles if ok else None


def _position(c: Checker, raw: Mapping[str, object], at: FieldPath) -> tuple[float, float] | None:
    """x/y in metres, or `position_m` as shorthand for a point on the lane (x = 0)."""
    has_xy = "x_m" in raw or "y_m" in raw
    if "position_m" in raw:
        if has_xy:
            c.error((*at, "position_m"), "give either position_m or x_m/y_m, not both")
            return None
        along = c.number(raw, "position_m", at)
        return None if along is None else (0.0, along)
    if not has_xy:
        c.error(at, "missing position: give x_m and y_m (or position_m along a straight lane)")
        return None
    x = c.number(raw, "x_m", at, default=0.0)
    y = c.number(raw, "y_m", at, default=0.0)
    return None if x is None or y is None else (x, y)


def parse_target_choice(
    c: Checker, data: Mapping[str, object], roles: Mapping[str, Role] | None
) -> tuple[str, tuple[str, ...]] | None:
    """The `[target_choice]` table: a stand-in role name and the roles it may turn out to be."""
    if "target_choice" not in data:
        return None
    table = c.table(data, "target_choice", ())
    if table is None:
        return None
    at: FieldPath = ("target_choice",)
    c.known_keys(table, _CHOICE_KEYS, at)
    name = c.string(table, "role", at)
    options = c.strings(table, "options", at)
    if name is not None:
        if not ROLE_NAME.match(name):
            c.error((*at, "role"), f"'{name}' must be lowercase letters, digits and underscores")
        elif roles is not None and name in roles:
            c.error((*at, "role"), f"'{name}' is already a role; the stand-in needs its own name")
    if options is not None:
        if len(options) < 2:
            c.error((*at, "options"), "needs at least two targets to choose from")
        for i, option in enumerate(options):
            role = None if roles is None else roles.get(option)
            if roles is not None and role is None:
                c.error((*at, "options", i), f"no role named '{option}'")
            elif role is not None and not role.needs_device:
                c.error((*at, "options", i), f"'{option}' is a marker; a target must light up")
    if name is None or options is None:
        return None
    return name, options


def parse_legs(
    c: Checker, data: Mapping[str, object], role_names: set[str] | None
) -> tuple[Leg, ...] | None:
    """The `[[segments]]` array as written, checked leg by leg and for forming one chain."""
    raw_list = c.get(data, "segments", (), required=True)
    if raw_list is MISSING:
        return None
    if not isinstance(raw_list, list):
        c.error(("segments",), f"must be an array of tables, not {toml_type(raw_list)}")
        return None
    if not raw_list:
        c.error(("segments",), "needs at least one segment")
        return None
    legs: list[Leg | None] = []
    ends: list[tuple[str | None, str | None]] = []
    for i, raw in enumerate(raw_list):
        at: FieldPath = ("segments", i)
        if not isinstance(raw, dict):
            c.error(at, f"must be a table, not {toml_type(raw)}")
            legs.append(None)
            ends.append((None, None))
            continue
        leg, src, dst = _leg(c, raw, at, role_names)
        legs.append(leg)
        ends.append((src, dst))
    for i in range(1, len(ends)):
        prev_to, this_from = ends[i - 1][1], ends[i][0]
        if prev_to is not None and this_from is not None and prev_to != this_from:
            c.error(
                ("segments", i, "from"),
                f"starts at '{this_from}' but segments[{i - 1}] ends at '{prev_to}';"
                " segments must form a chain",
            )
    seen: dict[str, int] = {}
    for i, maybe in enumerate(legs):
        if maybe is None:
            continue
        if maybe.name in seen:
            c.error(("segments", i, "name"), f"'{maybe.name}' is also segments[{seen[maybe.name]}]")
        seen.setdefault(maybe.name, i)
    complete = [leg for leg in legs if leg is not None]
    return tuple(complete) if len(complete) == len(legs) else None


def _leg(
    c: Checker, raw: Mapping[str, object], at: FieldPath, role_names: set[str] | None
) -> tuple[Leg | None, str | None, str | None]:
    c.known_keys(raw, _SEGMENT_KEYS, at)
    src = c.string(raw, "from", at)
    dst = c.string(raw, "to", at)
    for key, role in (("from", src), ("to", dst)):
        if role is not None and role_names is not None and role not in role_names:
            known = ", ".join(sorted(role_names))
            c.error((*at, key), f"no role named '{role}' (roles: {known})")
    distance = c.number(raw, "distance_m", at)
    if distance is not None and distance <= 0:
        c.error((*at, "distance_m"), f"must be greater than 0, got {distance:g}")
        distance = None
    movement = c.choice(raw, "movement", at, Movement)
    if movement is Movement.MIXED:
        c.error((*at, "movement"), "'mixed' only describes a split; give this segment its style")
        movement = None
    turn = c.choice(raw, "turn", at, TurnSide) if "turn" in raw else None
    timed = c.boolean(raw, "timed", at, default=True)
    name = c.string(raw, "name", at, required=False)
    if name is None and "name" not in raw and src is not None and dst is not None:
        name = f"{src}-{dst}"
    if src is None or dst is None or distance is None or movement is None or name is None:
        return None, src, dst
    if "turn" in raw and turn is None:
        return None, src, dst
    return Leg(name, src, dst, distance, movement, turn, timed), src, dst


def derive_splits(
    c: Checker,
    legs: tuple[Leg, ...],
    roles: Mapping[str, Role],
    choice: tuple[str, tuple[str, ...]] | None,
) -> tuple[tuple[Segment, ...], TargetChoice | None] | None:
    """Group the timed legs into splits, one per device crossing after the start.

    Nothing reports a marker, so legs ending at markers join the next leg that ends at a
    device. Untimed legs are allowed only before (run-in) and after (run-out) the timed ones:
    a gap in the middle would leave the engine a crossing it cannot place.
    """
    stand_in = None if choice is None else choice[0]

    def is_device(role: str) -> bool:
        return role == stand_in or (role in roles and roles[role].needs_device)

    timed = [i for i, leg in enumerate(legs) if leg.timed]
    if not timed:
        c.error(("segments",), "no timed segment: at least one must be timed")
        return None
    first, last = timed[0], timed[-1]
    ok = True
    for i in range(first, last + 1):
        if not legs[i].timed:
            c.error(
                ("segments", i, "timed"),
                "only segments before the first timed one (run-in) or after the last (run-out)"
                " may be untimed",
            )
            ok = False
    if not is_device(legs[first].from_role):
        c.error(
            ("segments", first, "from"),
            f"timing starts here, so '{legs[first].from_role}' must be a gate or pod, not a marker",
        )
        ok = False
    if not is_device(legs[last].to_role):
        c.error(
            ("segments", last, "to"),
            f"timing ends here, so '{legs[last].to_role}' must be a gate or pod, not a marker",
        )
        ok = False
    target: TargetChoice | None = None
    if choice is not None and stand_in is not None:
        target = _check_stand_in(c, legs, last, choice)
        ok = ok and target is not None
    if not ok:
        return None
    splits: list[Segment] = []
    group: list[Leg] = []
    for leg in legs[first : last + 1]:
        group.append(leg)
        if is_device(leg.to_role):
            styles = {g.movement for g in group}
            splits.append(
                Segment(
                    name=leg.name,
                    from_role=group[0].from_role,
                    to_role=leg.to_role,
                    distance_m=sum(g.distance_m for g in group),
                    movement=styles.pop() if len(styles) == 1 else Movement.MIXED,
                    legs=tuple(group),
                )
            )
            group = []
    return tuple(splits), target


def _check_stand_in(
    c: Checker, legs: tuple[Leg, ...], last: int, choice: tuple[str, tuple[str, ...]]
) -> TargetChoice | None:
    """The stand-in may only end the last timed segment: after it the course is unknown."""
    stand_in, options = choice
    ok = True
    for i, leg in enumerate(legs):
        if leg.from_role == stand_in:
            c.error(("segments", i, "from"), f"'{stand_in}' (the lit target) must end the course")
            ok = False
        elif leg.to_role == stand_in and i != last:
            c.error(("segments", i, "to"), f"'{stand_in}' may only end the last timed segment")
            ok = False
    if legs[last].to_role != stand_in:
        c.error(("target_choice", "role"), f"no timed segment ends at '{stand_in}'")
        return None
    return TargetChoice(stand_in, options, legs[last].from_role) if ok else None
