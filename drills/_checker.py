"""Field readers that record a problem and carry on, so a file's errors are all reported."""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from drills._toml_lines import FieldPath, LineLocator, decode_error_line, format_path
from drills.errors import DrillError

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
MISSING = object()


def toml_type(value: object) -> str:
    """Name a value's type in TOML words, since the coach wrote TOML, not Python."""
    names = {bool: "boolean", int: "integer", float: "float", str: "string", dict: "table"}
    return "array" if isinstance(value, list) else names.get(type(value), "date/time")


class Checker:
    """Collects problems for one file so validation can carry on past the first one."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.locator = LineLocator(text)
        self.errors: list[DrillError] = []

    def error(self, path: FieldPath, message: str) -> None:
        line = self.locator.line_of(path)
        self.errors.append(DrillError(self.file, format_path(path), message, line))

    def known_keys(
        self, table: Mapping[str, object], allowed: tuple[str, ...], at: FieldPath
    ) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                known = ", ".join(allowed)
                extra = f"; did you mean '{hint[0]}'?" if hint else f" (known: {known})"
                self.error((*at, key), f"unknown key '{key}'{extra}")

    def get(self, table: Mapping[str, object], key: str, at: FieldPath, required: bool) -> object:
        if key in table:
            return table[key]
        if required:
            self.error((*at, key), "missing required field")
        return MISSING

    def string(
        self, table: Mapping[str, object], key: str, at: FieldPath, required: bool = True
    ) -> str | None:
        value = self.get(table, key, at, required)
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.error((*at, key), f"must be a string, not {toml_type(value)}")
            return None
        if required and not value.strip():
            self.error((*at, key), "must not be empty")
            return None
        return value

    def number(
        self, table: Mapping[str, object], key: str, at: FieldPath, default: float | None = None
    ) -> float | None:
        value = self.get(table, key, at, required=default is None)
        if value is MISSING:
            return default
        # bool is an int subclass in Python; `true` is never a sensible distance or time.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error((*at, key), f"must be a number, not {toml_type(value)}")
            return None
        if not math.isfinite(value):
            self.error((*at, key), "must be a finite number")
            return None
        return float(value)

    def choice(
        self, table: Mapping[str, object], key: str, at: FieldPath, enum: type[E]
    ) -> E | None:
        value = self.string(table, key, at)
        if value is None:
            return None
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            self.error((*at, key), f"unknown value '{value}' (one of: {allowed})")
            return None

    def table(
        self, parent: Mapping[str, object], key: str, at: FieldPath
    ) -> dict[str, object] | None:
        value = self.get(parent, key, at, required=True)
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.error((*at, key), f"must be a table, not {toml_type(value)}")
            return None
        return value

    def integer(
        self, table: Mapping[str, object], key: str, at: FieldPath, default: int | None = None
    ) -> int | None:
        """A whole number (reps, counts): 2.0 is refused so a typo like 2.5 cannot round."""
        value = self.get(table, key, at, required=default is None)
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error((*at, key), f"must be a whole number, not {toml_type(value)}")
            return None
        return value

    def boolean(self, table: Mapping[str, object], key: str, at: FieldPath, default: bool) -> bool:
        value = self.get(table, key, at, required=False)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.error((*at, key), f"must be true or false, not {toml_type(value)}")
            return default
        return value

    def strings(
        self, table: Mapping[str, object], key: str, at: FieldPath, required: bool = True
    ) -> tuple[str, ...] | None:
        """A list of non-empty strings with no repeats (role names, colours)."""
        value = self.get(table, key, at, required)
        if value is MISSING:
            return None
        if not isinstance(value, list):
            self.error((*at, key), f"must be an array of strings, not {toml_type(value)}")
            return None
        out: list[str] = []
        ok = True
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.error((*at, key, i), "must be a non-empty string")
                ok = False
            elif item in out:
                self.error((*at, key, i), f"'{item}' is listed twice")
                ok = False
            else:
                out.append(item)
        return tuple(out) if ok else None

    def seconds_us(
        self,
        table: Mapping[str, object],
        key: str,
        at: FieldPath,
        *,
        default: float | None = None,
        allow_zero: bool = False,
    ) -> int | None:
        """A duration in seconds, checked for sign and converted to integer microseconds."""
        value = self.number(table, key, at, default)
        if value is None:
            return None
        if value < 0 or (value == 0 and not allow_zero):
            bound = "0 or more" if allow_zero else "greater than 0"
            self.error((*at, key), f"must be {bound}, got {value:g}")
            return None
        return round(value * 1_000_000)

    def only_for(
        self, table: Mapping[str, object], keys: tuple[str, ...], at: FieldPath, why: str
    ) -> None:
        """Flag keys present that only make sense in another kind of drill or start."""
        for key in keys:
            if key in table:
                self.error((*at, key), f"only used {why}")


def read_utf8(path: Path) -> tuple[str | None, list[DrillError]]:
    """A data file's text, or why it cannot be read, as an error naming the file."""
    try:
        return path.read_bytes().decode("utf-8"), []
    except OSError as exc:
        return None, [DrillError(str(path), "", f"cannot read: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return None, [DrillError(str(path), "", f"not UTF-8 text: {exc.reason}")]


def parse_checked(
    text: str, source_name: str, build: Callable[[Checker, dict[str, Any]], T | None]
) -> tuple[T | None, Checker]:
    """Parse TOML and validate it with `build`, collecting every problem in the Checker.

    Errors come in reading order, which is how a person fixes a file; problems without a
    line (missing top-level fields) come first.
    """
    c = Checker(source_name, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = decode_error_line(str(exc), c.locator.line_count)
        c.errors.append(DrillError(source_name, "", f"not valid TOML: {exc}", line))
        return None, c
    result = build(c, data)
    c.errors.sort(key=lambda e: (e.line is not None, e.line or 0))
    return result, c
