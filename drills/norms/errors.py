"""The exceptions of norm tables: a file that cannot be read, a table that is not held."""

from __future__ import annotations

from drills.errors import DrillError, DrillsError, problems_message


class NormsError(DrillsError):
    """Base for problems with norm tables (bad files, unknown drill or population)."""


class NormFileError(NormsError):
    """One or more norm files could not be loaded; `errors` names each file and field."""

    def __init__(self, errors: list[DrillError]) -> None:
        self.errors: list[DrillError] = list(errors)
        super().__init__(problems_message(self.errors, "norm file(s)"))


class NormNotFound(NormsError):
    """No table for that drill, or no such population for it; `valid` lists the choices."""

    def __init__(self, message: str, valid: tuple[str, ...]) -> None:
        self.valid = valid
        super().__init__(message)
