"""Readers for the start, the pod stimuli and the interval blocks of a drill file."""

from __future__ import annotations

from collections.abc import Mapping

from drills._checker import MISSING, Checker, toml_type
from drills._toml_lines import FieldPath
from drills.model import (
    BlockKind,
    Cue,
    IntervalBlock,
    Movement,
    PodStimuli,
    Role,
    RoleKind,
    StartSpec,
    StartType,
)

_HOLD_KEYS = ("hold_s",)
_REACTIVE_KEYS = ("foreperiod_min_s", "foreperiod_max_s", "cue", "cue_role")
_START_KEYS = ("type", "stance", *_HOLD_KEYS, *_REACTIVE_KEYS)
_STIMULI_KEYS = (
    "count",
    "pods",
    "home",
    "colours",
    "go",
    "foreperiod_min_s",
    "foreperiod_max_s",
    "window_s",
)
_BLOCK_KEYS = ("name", "kind", "seconds", "movement", "cue")
_NO_CUE = "none"


def parse_start(
    c: Checker, data: Mapping[str, object], roles: Mapping[str, Role] | None, required: bool
) -> StartSpec | None:
    """The `[start]` table; pod and interval drills may leave it out (the coach starts them)."""
    if not required and "start" not in data:
        return StartSpec(StartType.COACH_GO, "")
    table = c.table(data, "start", ())
    if table is None:
        return None
    at: FieldPath = ("start",)
    c.known_keys(table, _START_KEYS, at)
    start_type = c.choice(table, "type", at, StartType)
    stance = c.string(table, "stance", at)
    if start_type is None or stance is None:
        return None
    if start_type is StartType.HOLD:
        c.only_for(table, _REACTIVE_KEYS, at, 'with type = "reactive"')
        hold_us = c.seconds_us(table, "hold_s", at)
        return None if hold_us is None else StartSpec(start_type, stance, hold_us=hold_us)
    if start_type is StartType.REACTIVE:
        c.only_for(table, _HOLD_KEYS, at, 'with type = "hold"')
        window = _foreperiod(c, table, at)
        cue = c.choice(table, "cue", at, Cue)
        cue_role = c.string(table, "cue_role", at, required=cue is Cue.LIGHT)
        if cue_role is not None:
            _device_role(c, roles, cue_role, (*at, "cue_role"), "give the cue")
        if window is None or cue is None or (cue is Cue.LIGHT and cue_role is None):
            return None
        return StartSpec(start_type, stance, None, *window, cue, cue_role)
    c.only_for(table, _HOLD_KEYS, at, 'with type = "hold"')
    c.only_for(table, _REACTIVE_KEYS, at, 'with type = "reactive"')
    return StartSpec(start_type, stance)


def _foreperiod(c: Checker, table: Mapping[str, object], at: FieldPath) -> tuple[int, int] | None:
    """The random wait before a cue, min..max; equal bounds make a fixed wait."""
    low = c.seconds_us(table, "foreperiod_min_s", at, allow_zero=True)
    high = c.seconds_us(table, "foreperiod_max_s", at)
    if low is None or high is None:
        return None
    if low > high:
        c.error(
            (*at, "foreperiod_max_s"),
            f"must not be less than foreperiod_min_s ({high / 1e6:g} < {low / 1e6:g})",
        )
        return None
    return low, high


def _device_role(
    c: Checker, roles: Mapping[str, Role] | None, name: str, path: FieldPath, purpose: str
) -> bool:
    if roles is None:
        return False
    role = roles.get(name)
    if role is None:
        c.error(path, f"no role named '{name}' (roles: {', '.join(sorted(roles))})")
        return False
    if not role.needs_device:
        c.error(path, f"'{name}' is a marker; it has no device to {purpose}")
        return False
    return True


def check_start_role(
    c: Checker, start: StartSpec, start_role: str, roles: Mapping[str, Role]
) -> None:
    """A hold start needs a beam to stand in; anything else just needs the role to exist."""
    role = roles.get(start_role)
    if start.type is StartType.HOLD and role is not None and role.kind is not RoleKind.GATE:
        c.error(
            ("start", "type"), f"a hold start needs a gate at '{start_role}', not a {role.kind}"
        )


def parse_stimuli(
    c: Checker, data: Mapping[str, object], roles: Mapping[str, Role] | None
) -> PodStimuli | None:
    """The `[stimuli]` table of a pod drill."""
    table = c.table(data, "stimuli", ())
    if table is None:
        return None
    at: FieldPath = ("stimuli",)
    c.known_keys(table, _STIMULI_KEYS, at)
    count = c.integer(table, "count", at)
    if count is not None and count < 1:
        c.error((*at, "count"), f"must be 1 or more, got {count}")
        count = None
    home = c.string(table, "home", at, required=False)
    if home is not None and not _device_role(c, roles, home, (*at, "home"), "rest on"):
        home = None
    pods = _stimulus_pods(c, table, roles, home, at)
    colours = c.strings(table, "colours", at)
    go = c.strings(table, "go", at)
    if colours is not None and not colours:
        c.error((*at, "colours"), "needs at least one colour")
        colours = None
    if go is not None and not go:
        c.error((*at, "go"), "needs at least one go colour")
        go = None
    if colours is not None and go is not None:
        for i, colour in enumerate(go):
            if colour not in colours:
                c.error((*at, "go", i), f"'{colour}' is not in colours ({', '.join(colours)})")
                go = None
    window = _foreperiod(c, table, at)
    window_us = c.seconds_us(table, "window_s", at)
    if (
        count is None
        or pods is None
        or colours is None
        or go is None
        or window is None
        or window_us is None
        or ("home" in table and home is None)
    ):
        return None
    return PodStimuli(count, pods, colours, go, *window, window_us, home)


def _stimulus_pods(
    c: Checker,
    table: Mapping[str, object],
    roles: Mapping[str, Role] | None,
    home: str | None,
    at: FieldPath,
) -> tuple[str, ...] | None:
    """Pods that may light: those listed, else every pod role but home."""
    if roles is None:
        return None
    if "pods" not in table:
        pods = tuple(n for n, r in roles.items() if r.kind is RoleKind.POD and n != home)
        if not pods:
            c.error(("roles",), "a pod drill needs at least one pod role to light")
            return None
        return pods
    listed = c.strings(table, "pods", at)
    if listed is None:
        return None
    if not listed:
        c.error((*at, "pods"), "a pod drill needs at least one pod to light")
        return None
    ok = True
    for i, name in enumerate(listed):
        role = roles.get(name)
        if role is None or role.kind is not RoleKind.POD:
            what = "no role named" if role is None else f"not a pod ({role.kind}):"
            c.error((*at, "pods", i), f"{what} '{name}'")
            ok = False
        elif name == home:
            c.error((*at, "pods", i), f"'{name}' is the home pod; it cannot also be a target")
            ok = False
    return listed if ok else None


def parse_blocks(c: Checker, data: Mapping[str, object]) -> tuple[IntervalBlock, ...] | None:
    """The `[[blocks]]` array of an interval drill: at least one work block."""
    raw_list = c.get(data, "blocks", (), required=True)
    if raw_list is MISSING:
        return None
    if not isinstance(raw_list, list) or not raw_list:
        what = "an empty array" if isinstance(raw_list, list) else toml_type(raw_list)
        c.error(("blocks",), f"needs an array of at least one block, not {what}")
        return None
    blocks: list[IntervalBlock | None] = []
    for i, raw in enumerate(raw_list):
        at: FieldPath = ("blocks", i)
        if not isinstance(raw, dict):
            c.error(at, f"must be a table, not {toml_type(raw)}")
            blocks.append(None)
            continue
        blocks.append(_block(c, raw, at, i))
    complete = tuple(b for b in blocks if b is not None)
    if len(complete) != len(blocks):
        return None
    if not any(b.kind is BlockKind.WORK for b in complete):
        c.error(("blocks",), 'needs at least one block with kind = "work"')
        return None
    return complete


def _block(
    c: Checker, raw: Mapping[str, object], at: FieldPath, index: int
) -> IntervalBlock | None:
    c.known_keys(raw, _BLOCK_KEYS, at)
    kind = c.choice(raw, "kind", at, BlockKind)
    duration = c.seconds_us(raw, "seconds", at)
    movement: Movement | None = None
    if kind is BlockKind.WORK:
        movement = c.choice(raw, "movement", at, Movement)
        if movement is Movement.MIXED:
            c.error((*at, "movement"), "'mixed' only describes a split; name the style")
            movement = None
        if movement is None:
            return None
    elif kind is BlockKind.REST:
        c.only_for(raw, ("movement",), at, "in work blocks")
    cue_text = c.string(raw, "cue", at, required=False)
    cue: Cue | None = Cue.BEEP
    if cue_text is not None:
        if cue_text == _NO_CUE:
            cue = None
        elif cue_text == Cue.BEEP.value:
            cue = Cue.BEEP
        else:
            c.error((*at, "cue"), f"unknown value '{cue_text}' (one of: beep, none)")
            return None
    name = c.string(raw, "name", at, required=False)
    if kind is None or duration is None or ("name" in raw and name is None):
        return None
    return IntervalBlock(name or f"{kind.value}-{index + 1}", kind, duration, movement, cue)
