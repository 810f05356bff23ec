"""Plan files: parse and validate a session plan (TOML or JSON), and turn it into rep steps.

A plan is data like a drill: every problem is reported at once, naming the file and the
field, so a coach can fix a file in one go instead of one error per try.
"""

from __future__ import annotations

import json
import math
import reprlib
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from drills import Drill
from server.catalog.service import Catalog
from server.errors import InvalidInputError

DEFAULT_TEAM = "Default"
# Time from "next athlete up" to the rep being armed; a coach may want more for a big squad.
DEFAULT_COUNTDOWN_S = 5.0
TOP_KEYS = frozenset({"format", "name", "team", "countdown_s", "blocks"})
BLOCK_KEYS = frozenset({"drill", "reps", "rest_s", "athletes", "group", "order"})

# Limits (server/plans/README.md): far above any training session, low enough that a typo
# (reps = 1000000000) is an error instead of a server that builds a billion steps.
MAX_REPS = 50
"""Reps per block."""
MAX_BLOCKS = 50
MAX_ATHLETES = 200
"""Athletes named in one block (a group is as large as its team)."""
MAX_STEPS = 10_000
"""Reps of a whole plan: every block's reps times its athletes."""
MAX_REST_S = 3600.0
MAX_COUNTDOWN_S = 600.0
MAX_TEXT_CHARS = 1_000_000
"""A plan file or body; a real one is a few kilobytes."""
MAX_DEPTH = 8
"""Nesting of tables and lists; a plan needs 4 (plan, blocks, a block, its athletes)."""

_SHOW = reprlib.Repr()
_SHOW.maxlevel, _SHOW.maxstring, _SHOW.maxother = 2, 40, 40


class PlanFileError(InvalidInputError):
    """A plan that cannot be used; `errors` lists every problem as 'source: field: message'."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        # One problem a line, so the terminal and the API both show them as a list.
        problems = list(errors)
        super().__init__("\n  ".join([f"{source}: invalid plan", *problems]), problems, source)


class Order(StrEnum):
    """Who goes next within a block."""

    ROUND_ROBIN = "round-robin"  # everyone's rep 1, then everyone's rep 2: rest comes free
    ATHLETE = "athlete"  # all reps of one athlete, then the next (rest is waited out)


@dataclass(frozen=True)
class Block:
    """One drill for a set of athletes; reps and rest are resolved from the drill if omitted."""

    drill: str
    reps: int
    rest_s: float
    order: Order
    athletes: tuple[str, ...] = ()
    group: str | None = None


@dataclass(frozen=True)
class PlanDefinition:
    name: str
    team: str
    countdown_s: float
    blocks: tuple[Block, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PlanDefinition:
        """Read back what to_json stored (already validated, so no catalogue needed)."""
        data = json.loads(text)
        blocks = tuple(
            Block(drill=b["drill"], reps=int(b["reps"]), rest_s=float(b["rest_s"]),
                  order=Order(b["order"]), athletes=tuple(b["athletes"]), group=b["group"])
            for b in data["blocks"]
        )  # fmt: skip
        return cls(data["name"], data["team"], float(data["countdown_s"]), blocks)


@dataclass(frozen=True)
class Step:
    """One rep of the plan: which block, which athlete, which rep of that block."""

    index: int
    block: int
    drill: str
    athlete: str
    block_rep: int
    familiarisation: bool


def read_plan_file(path: Path) -> str:
    """A plan file's text; a one-line error naming the file when it cannot be read as UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the plan as UTF-8"
        ) from None


def parse_plan_text(text: str, source: str, catalog: Catalog) -> PlanDefinition:
    """TOML (a file) or JSON (the API) text; JSON is recognised by its leading brace."""
    return parse_plan(load_plan_text(text, source, PlanFileError), source, catalog)


def load_plan_text(
    text: str, source: str, error: Callable[[str, list[str]], InvalidInputError]
) -> Any:
    """Plan-like text (a session plan, a day plan) as data: TOML, or JSON by its leading
    brace, bounded in length and nesting; `error(source, problems)` is what is raised."""
    if len(text) > MAX_TEXT_CHARS:
        raise error(source, [f"{source}: longer than {MAX_TEXT_CHARS} characters"])
    stripped = text.lstrip()
    try:
        return json.loads(text) if stripped.startswith("{") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise error(source, [f"{source}: not valid TOML or JSON: {exc}"]) from None
    except RecursionError:
        # Both parsers recurse per level: [[[[...]]]] thousands deep exhausts the stack.
        raise error(source, [too_deep(source)]) from None


def unknown_keys(raw: Mapping[str, Any], known: frozenset[str], at: str, err: Any) -> bool:
    """Says each key of `raw` not in `known` (field `at.key`, or `key` at the top when `at`
    is empty); True when there was none."""
    extra = sorted(set(raw) - known)
    for key in extra:
        err(f"{at}.{key}" if at else key, f"unknown key (known: {', '.join(sorted(known))})")
    return not extra


def drill_of(raw: Mapping[str, Any], at: str, catalog: Catalog, err: Any) -> Drill | None:
    """The library drill `raw["drill"]` names, or None having said why (field `at.drill`)."""
    slug = raw.get("drill")
    if not isinstance(slug, str):
        err(f"{at}.drill", "required: a drill slug")
    elif slug not in catalog.drills:
        err(f"{at}.drill", f"no drill {slug!r}; known drills: {', '.join(sorted(catalog.drills))}")
    else:
        return catalog.drills[slug]
    return None


def too_deep(source: str) -> str:
    return f"{source}: tables or lists nested more than {MAX_DEPTH} levels deep"


def depth(data: Any) -> int:
    """How deeply lists and tables nest, counted without recursion (stops past MAX_DEPTH)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _show(value: Any) -> str:
    """A value for an error message, cut short: a bad value may be huge or deeply nested."""
    return _SHOW.repr(value)


def parse_plan(data: Any, source: str, catalog: Catalog) -> PlanDefinition:
    errors: list[str] = []

    def err(field: str, message: str) -> None:
        errors.append(f"{source}: {field}: {message}")

    if not isinstance(data, Mapping):
        raise PlanFileError(source, [f"{source}: a plan is a table of keys"])
    if depth(data) > MAX_DEPTH:  # a JSON body arrives here already decoded
        raise PlanFileError(source, [too_deep(source)])
    unknown_keys(data, TOP_KEYS, "", err)
    if "format" in data and data["format"] != 1:
        err("format", f"must be 1, not {_show(data['format'])}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        err("name", "required: a non-empty string")
        name = ""
    team = data.get("team", DEFAULT_TEAM)
    if not isinstance(team, str) or not team.strip():
        err("team", "must be a non-empty string")
        team = DEFAULT_TEAM
    countdown_s = _seconds(
        data.get("countdown_s", DEFAULT_COUNTDOWN_S), "countdown_s", err, MAX_COUNTDOWN_S
    )
    raw_blocks = data.get("blocks")
    blocks: list[Block] = []
    if not isinstance(raw_blocks, list) or not raw_blocks:
        err("blocks", "required: at least one [[blocks]] entry")
    elif len(raw_blocks) > MAX_BLOCKS:
        err("blocks", f"at most {MAX_BLOCKS} blocks, not {len(raw_blocks)}")
    else:
        for i, raw in enumerate(raw_blocks, start=1):
            block = _block(raw, f"blocks[{i}]", catalog, err)
            if block is not None:
                blocks.append(block)
    steps = sum(b.reps * len(b.athletes) for b in blocks)
    if steps > MAX_STEPS:
        err("blocks", f"{steps} reps in all (reps times athletes); at most {MAX_STEPS}")
    if errors:
        raise PlanFileError(source, errors)
    return PlanDefinition(name.strip(), team.strip(), countdown_s, tuple(blocks))


def _seconds(value: Any, field: str, err: Any, most: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        err(field, f"must be a number of seconds, not {_show(value)}")
        return 0.0
    if value < 0:
        err(field, f"must be 0 or more, not {value}")
        return 0.0
    if value > most:
        err(field, f"must be at most {most:g} seconds, not {value:g}")
        return 0.0
    return float(value)


def _block(raw: Any, at: str, catalog: Catalog, err: Any) -> Block | None:
    if not isinstance(raw, Mapping):
        err(at, "must be a table")
        return None
    ok = unknown_keys(raw, BLOCK_KEYS, at, err)
    drill = drill_of(raw, at, catalog, err)
    reps = raw.get("reps", drill.reps if drill else 1)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        err(f"{at}.reps", f"must be a whole number, 1 or more, not {_show(reps)}")
        ok = False
    elif reps > MAX_REPS:
        err(f"{at}.reps", f"must be at most {MAX_REPS}, not {reps}")
        ok = False
    rest_default = drill.rest_us / 1e6 if drill else 0.0
    rest_s = _seconds(raw.get("rest_s", rest_default), f"{at}.rest_s", err, MAX_REST_S)
    try:
        order = Order(raw.get("order", Order.ROUND_ROBIN.value))
    except ValueError:
        known = ", ".join(repr(o.value) for o in Order)
        err(f"{at}.order", f"must be one of {known}, not {_show(raw.get('order'))}")
        order, ok = Order.ROUND_ROBIN, False
    athletes, group = raw.get("athletes"), raw.get("group")
    if (athletes is None) == (group is None):
        err(at, "give either athletes (a list of names) or group (a team name), not both")
        ok = False
    elif athletes is not None:
        if (
            not isinstance(athletes, list)
            or not athletes
            or not all(isinstance(a, str) and a.strip() for a in athletes)
        ):
            err(f"{at}.athletes", "must be a non-empty list of names")
            ok = False
        elif len(athletes) > MAX_ATHLETES:
            err(f"{at}.athletes", f"at most {MAX_ATHLETES} athletes, not {len(athletes)}")
            ok = False
        elif len({a.strip() for a in athletes}) != len(athletes):
            err(f"{at}.athletes", "a name is listed twice")
            ok = False
    elif not isinstance(group, str) or not group.strip():
        err(f"{at}.group", "must be a team name")
        ok = False
    if not ok or drill is None:
        return None
    names = tuple(a.strip() for a in athletes) if athletes is not None else ()
    return Block(drill=drill.slug, reps=reps, rest_s=rest_s, order=order, athletes=names,
                 group=group.strip() if isinstance(group, str) else None)  # fmt: skip


def plan_steps(
    plan: PlanDefinition, rosters: Sequence[Sequence[str]], catalog: Catalog
) -> list[Step]:
    """Every rep in running order; `rosters[i]` is block i's athletes (a group resolved).

    A group is only as large as its team, so the plan's reps are bounded again here."""
    total = sum(b.reps * len(r) for b, r in zip(plan.blocks, rosters, strict=True))
    if total > MAX_STEPS:
        raise InvalidInputError(
            f"plan {plan.name!r}: {total} reps in all (reps times athletes); at most {MAX_STEPS}"
        )
    steps: list[Step] = []
    for b, (block, roster) in enumerate(zip(plan.blocks, rosters, strict=True)):
        drill = catalog.get(block.drill)
        if block.order is Order.ROUND_ROBIN:
            pairs = [(name, rep) for rep in range(1, block.reps + 1) for name in roster]
        else:
            pairs = [(name, rep) for name in roster for rep in range(1, block.reps + 1)]
        for name, rep in pairs:
            steps.append(Step(len(steps), b, block.drill, name, rep,
                              drill.is_familiarisation(rep)))  # fmt: skip
    return steps
