"""Input any route could choke on, refused at the edge with the field named (issue 16).

The app's `before_request` hook, run for every route after routing and the guards and
before the handler's arguments are read:

- a path or query parameter declared `int` (an id, a count) must fit the database's
  INTEGER column, 32 bits on PostgreSQL, as must a JSON body's `id` or `..._id`: a bigger
  one fails deep in a query, as a 500 (SQLite fails beyond 64 bits, which any other
  integer in a body must fit); a parameter declared `float` must be finite;
- no text may hold a NUL character: PostgreSQL refuses it in a text column (SQLite keeps
  it), so it is refused on both, in parameters, form fields and anywhere in a JSON body;
- a number in a JSON body must be finite and of sane size: `1.8e308` reads as infinity,
  which no time, distance or count can be;
- a static file's path with a NUL or an impossible length names no file: 404.

The limits of a particular field (a plan's rep count, a name's length) stay with that field;
these are only the ones every route shares.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath
from typing import Any

from litestar import Request
from litestar.typing import FieldDefinition

from server.errors import InvalidInputError, NotFoundError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ID_MIN, ID_MAX = -(2**31), 2**31 - 1  # PostgreSQL's INTEGER, every id column's type
MAX_NUMBER = 1e15  # beyond any time in seconds, distance or count this app stores
MAX_PATH_CHARS = 1024  # a static file's path; the file system refuses 4096 and more as a 500
MAX_PATH_PART_CHARS = 255  # one file name; longer is ENAMETOOLONG, a 500 from os.stat
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def invalid(errors: list[str]) -> InvalidInputError:
    exc = InvalidInputError("\n".join(errors), errors)
    return exc


async def check_input(request: Request[Any, Any, Any]) -> None:
    """The app's before_request hook: raises the 404 or 422, or returns None to go on."""
    errors: list[str] = []
    fields = request.route_handler.parsed_fn_signature.parameters
    for name, value in request.path_params.items():
        field = fields.get(name)
        if isinstance(value, PurePath) or (field is not None and field.is_subclass_of(PurePath)):
            _check_file_path(str(value))
        else:
            errors += _check_param(name, value, ID_MAX)
    numbers = _number_query_params(request)
    for key, value in request.query_params.multi_items():
        errors += _check_param(key, value, ID_MAX)
        if key in numbers:
            errors += _check_number_text(key, value, numbers[key])
    if request.method in _BODY_METHODS:
        if _is_form(request.headers.get("content-type", "")):
            form = await request.form()  # kept for the route: parsed once
            for key, value in form.multi_items():
                errors += _check_param(key, value)  # the text fields; a file is its route's
        elif body := await request.body():
            errors += check_json_body(body)
    if errors:
        raise invalid(errors)


def check_json_body(body: bytes) -> list[str]:
    """Every problem of a JSON body's values, one line each naming its place (`blocks[1].name`);
    a body that is not JSON at all is left to the route's own decoding (a 400 there)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return []
    errors: list[str] = []
    todo: list[tuple[str, Any]] = [("", value)]  # a list, not recursion: nesting can be deep
    while todo and len(errors) < 20:
        where, item = todo.pop()
        name = where or "body"
        if isinstance(item, str):
            if "\x00" in item:
                errors.append(f"{name}: text may not contain a NUL character (\\u0000)")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int | float):
            is_id = name.endswith("_id") or name == "id" or name.endswith(".id")
            errors += _check_number(name, item, ID_MAX if is_id else INT64_MAX)
        elif isinstance(item, list):
            todo += [(f"{name}[{i}]", v) for i, v in reversed(list(enumerate(item)))]
        elif isinstance(item, dict):
            for key, v in reversed(item.items()):
                if "\x00" in key:
                    errors.append(f"{name}: a key may not contain a NUL character (\\u0000)")
                else:
                    todo.append((f"{where}.{key}" if where else key, v))
    return errors


def _check_number(name: str, value: float, int_max: int = INT64_MAX) -> list[str]:
    if isinstance(value, int):
        if -int_max - 1 <= value <= int_max:
            return []
        return [f"{name}: {_short(value)} is out of range (at most {int_max})"]
    if math.isfinite(value) and abs(value) <= MAX_NUMBER:
        return []
    return [f"{name}: {value!r} is out of range (at most {MAX_NUMBER:.0e})"]


def _check_param(name: str, value: Any, int_max: int = INT64_MAX) -> list[str]:
    if isinstance(value, str) and "\x00" in value:
        return [f"{name}: text may not contain a NUL character"]
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_number(name, value, int_max)
    return []


def _check_number_text(name: str, text: str, kind: type) -> list[str]:
    try:
        value = kind(text)
    except ValueError:
        return []  # not a number at all: the route's own parsing says so (a 400)
    return _check_number(name, value, ID_MAX)


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} digits)"


def _check_file_path(path: str) -> None:
    parts = path.split("/")
    if (
        "\x00" in path
        or len(path) > MAX_PATH_CHARS
        or any(len(p) > MAX_PATH_PART_CHARS for p in parts)
    ):
        raise NotFoundError("no such file")


def _number_query_params(request: Request[Any, Any, Any]) -> dict[str, type]:
    """The query keys the route reads as numbers (by alias where it has one): int or float."""
    found: dict[str, type] = {}
    for name, field in request.route_handler.parsed_fn_signature.parameters.items():
        if name in request.path_params or (kind := _number_kind(field)) is None:
            continue
        alias = getattr(field.kwarg_definition, "query", None)
        found[alias or name] = kind
    return found


def _number_kind(field: FieldDefinition) -> type | None:
    types = [field, *field.inner_types] if field.is_optional else [field]
    return next((t.annotation for t in types if t.annotation in (int, float)), None)


def _is_form(content_type: str) -> bool:
    """Anything else is read as JSON by Litestar, whatever its Content-Type says."""
    media = content_type.split(";")[0].strip().lower()
    return media in ("multipart/form-data", "application/x-www-form-urlencoded")
