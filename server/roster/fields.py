"""Checking athlete fields, shared by the JSON routes and the CSV import so both accept and
refuse exactly the same values. Each problem names its field, for the console and the CSV
report alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.errors import InvalidInputError

MAX_TEAM_NAME = 120
MAX_NAME = 120
MAX_DISPLAY_NAME = 60
MAX_GROUP = 40
MAX_TAG = 64
SQUAD_NUMBERS = range(0, 1000)
FIRST_BIRTH_YEAR = 1900
# The athlete's fields by their API/CSV name; `group` is `group_name` in the table.
ATHLETE_FIELDS = ("name", "display_name", "squad_number", "group", "sex", "birth_year", "tag")
# What a keyboard-wedge reader adds around the id it types (Enter, sometimes Tab or spaces).
_TAG_PADDING = " \t\r\n\v\f"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def invalid(problems: list[FieldProblem], what: str) -> InvalidInputError:
    """The error the handler turns into 422 with one line per problem."""
    lines = [str(p) for p in problems]
    error = InvalidInputError("\n".join([what, *lines]), lines)
    return error


def _text(value: Any) -> str | None:
    """None and blank mean "no value"; numbers typed in a JSON field are taken as text."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be text")
    cleaned = " ".join(str(value).split())
    return cleaned or None


def _bounded_text(value: Any, limit: int) -> str | None:
    text = _text(value)
    if text is not None and len(text) > limit:
        raise ValueError(f"must be at most {limit} characters (has {len(text)})")
    return text


def _whole_number(value: Any, low: int, high: int, what: str) -> int | None:
    if isinstance(value, bool):
        raise ValueError(f"must be {what}")
    if isinstance(value, int):
        number = value
    else:
        text = _text(value)
        if text is None:
            return None
        # A spreadsheet may write 7 as "7.0"; anything else fractional is a mistake.
        if text.endswith(".0"):
            text = text[:-2]
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"must be {what}, not {text!r}") from None
    if not low <= number <= high:
        raise ValueError(f"must be {what}, not {number}")
    return number


def _name(value: Any) -> str | None:
    text = _bounded_text(value, MAX_NAME)
    if text is None:
        raise ValueError("is required")
    return text


def _sex(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if text.upper() not in ("F", "M"):
        raise ValueError(f"must be F, M or empty, not {text!r}")
    return text.upper()


def normalise_tag(value: Any) -> str | None:
    """A tag id as readers type it, in the one form it is stored and looked up in.

    The ends are trimmed (a reader types Enter after the id); what is left must be 1-64
    printable ASCII characters (space to ~), so no control character, NUL or look-alike
    letter gets in. Letters are upper-cased: RFID readers type the same hex UID as
    "04a1b2c3" or "04A1B2C3" depending on the model, so tags compare case-insensitively and
    are stored as upper-case. None and blank mean "no tag".
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be text (the id as the reader types it)")
    text = value.strip(_TAG_PADDING)
    if not text:
        return None
    if len(text) > MAX_TAG:
        raise ValueError(f"must be at most {MAX_TAG} characters (has {len(text)})")
    for position, char in enumerate(text, start=1):
        if not " " <= char <= "~":
            # The character is named by code point, never echoed: it may be a control code.
            raise ValueError(
                "must be printable ASCII (letters, digits, punctuation, space); "
                f"character {position} is U+{ord(char):04X}"
            )
    return text.upper()


def check_tag(value: Any) -> str:
    """A tag the routes need (lookup, attach): refused with a 422 naming `tag` if bad or
    empty."""
    try:
        tag = normalise_tag(value)
    except ValueError as exc:
        raise invalid([FieldProblem("tag", str(exc))], "invalid tag") from None
    if tag is None:
        raise invalid([FieldProblem("tag", "is empty")], "invalid tag")
    return tag


def _check(field: str, value: Any) -> Any:
    if field == "name":
        return _name(value)
    if field == "display_name":
        return _bounded_text(value, MAX_DISPLAY_NAME)
    if field == "group":
        return _bounded_text(value, MAX_GROUP)
    if field == "squad_number":
        return _whole_number(value, SQUAD_NUMBERS[0], SQUAD_NUMBERS[-1], "a whole number 0-999")
    if field == "sex":
        return _sex(value)
    if field == "tag":
        return normalise_tag(value)
    if field == "birth_year":
        this_year = date.today().year
        return _whole_number(
            value, FIRST_BIRTH_YEAR, this_year, f"a year {FIRST_BIRTH_YEAR}-{this_year}"
        )
    raise KeyError(field)


def check_athlete_fields(
    raw: Mapping[str, Any], fields: tuple[str, ...] = ATHLETE_FIELDS
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The cleaned values of `fields` present in `raw`, and every problem found."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for field in fields:
        if field not in raw:
            continue
        try:
            values[field] = _check(field, raw[field])
        except ValueError as exc:
            problems.append(FieldProblem(field, str(exc)))
    return values, problems


def check_team_name(value: Any) -> str:
    try:
        text = _bounded_text(value, MAX_TEAM_NAME)
    except ValueError as exc:
        raise invalid([FieldProblem("name", str(exc))], "invalid team") from None
    if text is None:
        raise invalid([FieldProblem("name", "is required")], "invalid team")
    return text


def team_name_problem(value: Any) -> str | None:
    """For CSV rows, where a problem is reported, not raised."""
    try:
        text = _bounded_text(value, MAX_TEAM_NAME)
    except ValueError as exc:
        return str(exc)
    return None if text else "is required"


def to_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """API field names to table columns."""
    return {("group_name" if k == "group" else k): v for k, v in values.items()}
