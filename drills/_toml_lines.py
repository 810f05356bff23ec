"""Best-effort map from a TOML field path to its line, because tomllib does not keep lines."""

from __future__ import annotations

import re

FieldPath = tuple[str | int, ...]

_ARRAY_HEADER = re.compile(r"^\[\[\s*(?P<name>[^\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\[\s*(?P<name>[^\]]+?)\s*\]")
_KEY_LINE = re.compile(r"""^(?P<key>[A-Za-z0-9_\-."' ]+?)\s*=""")
_KEY_PART = re.compile(r""""[^"]*"|'[^']*'|[^.]+""")
_TOML_DECODE_LINE = re.compile(r"at line (\d+)")


def format_path(path: FieldPath) -> str:
    """Render a path the way a coach reads it in the file: `segments[2].to`, `roles.finish`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _split_dotted(key: str) -> tuple[str, ...]:
    return tuple(p.strip().strip("\"'") for p in _KEY_PART.findall(key.strip()) if p.strip())


class LineLocator:
    """Scans TOML text once and remembers where each header and key appears.

    This is deliberately simple (no full TOML grammar): a wrong or missing line number only
    makes an error message less precise, never wrong about the problem itself.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[FieldPath, int] = {}
        self._line_count = text.count("\n") + 1
        current: FieldPath = ()
        array_counts: dict[FieldPath, int] = {}
        closing: str | None = None
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if closing is not None:
                if closing in line:
                    closing = None
                continue
            if not line or line.startswith("#"):
                continue
            if match := _ARRAY_HEADER.match(line):
                name = _split_dotted(match["name"])
                index = array_counts.get(name, 0)
                array_counts[name] = index + 1
                current = (*name, index)
                self._remember(current, lineno)
                continue
            if match := _TABLE_HEADER.match(line):
                current = _split_dotted(match["name"])
                self._remember(current, lineno)
                continue
            if match := _KEY_LINE.match(line):
                self._lines.setdefault((*current, *_split_dotted(match["key"])), lineno)
                closing = _opens_multiline(line[match.end() :])

    def _remember(self, header: FieldPath, lineno: int) -> None:
        """Record a header and, where not yet seen, each enclosing path.

        `[roles.start]` is the first line of `roles` too, so an error about the whole roles
        table (or the whole segments array) can still point somewhere useful.
        """
        for end in range(1, len(header) + 1):
            self._lines.setdefault(header[:end], lineno)

    def line_of(self, path: FieldPath) -> int | None:
        """Line of the field, else of the nearest enclosing table or key that exists."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    @property
    def line_count(self) -> int:
        return self._line_count


def _opens_multiline(value: str) -> str | None:
    """Return the delimiter if a multi-line string starts here and does not close."""
    for delim in ('"""', "'''"):
        if value.count(delim) % 2 == 1:
            return delim
    return None


def decode_error_line(message: str, line_count: int) -> int | None:
    """Pull the line number out of a tomllib error message (it is only in the text)."""
    match = _TOML_DECODE_LINE.search(message)
    if match:
        return int(match.group(1))
    if "end of document" in message:
        return line_count
    return None
