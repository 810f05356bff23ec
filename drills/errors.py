"""Exceptions raised by the drills package, so callers can catch one base class."""

from __future__ import annotations

from dataclasses import dataclass


class DrillsError(Exception):
    """Base for everything this package raises on purpose.

    The server catches this one class to turn drill problems into coach-facing messages
    without swallowing programming errors.
    """


@dataclass(frozen=True)
class DrillError:
    """One problem in one drill file.

    Kept as data rather than an exception so a checker can report every problem in a file at
    once: a coach fixing a file should not have to fix-and-rerun one error at a time.
    """

    file: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


def problems_message(errors: list[DrillError], files: str) -> str:
    """A count line, then every problem on its own line, so a user fixes all in one pass."""
    count = len(errors)
    head = f"{count} problem{'s' if count != 1 else ''} in {files}"
    return "\n".join([head, *(str(e) for e in errors)])


class DrillFileError(DrillsError):
    """A drill file (or several) could not be loaded; carries every problem found."""

    def __init__(self, errors: list[DrillError]) -> None:
        self.errors: list[DrillError] = list(errors)
        super().__init__(problems_message(self.errors, "drill file(s)"))


class EngineError(DrillsError):
    """The run engine was asked to do something its state does not allow.

    Raised for caller bugs (such as voiding a run twice), never for bad data from the gates:
    odd crossings are ignored and recorded instead, because a gate must never crash a session.
    """
