"""Request bodies of the roster routes.

Types are as loose as the checks in fields.py, which read a number typed in a text field as
text and a spreadsheet's "7" or 7.0 as a whole number: those checks (and their messages,
every problem at once) stay where the CSV import shares them. Unknown keys are refused.
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType

# A text field: a number is read as its text; null or blank is "no value".
Text = str | int | float | None


class TeamBody(Struct, forbid_unknown_fields=True):
    """POST /api/teams: `name` is required (checked with the other problems)."""

    name: Text | UnsetType = UNSET
    archived: bool | UnsetType = UNSET


class TeamPatch(TeamBody, forbid_unknown_fields=True):
    """PATCH /api/teams/{id}: the fields given change. `id` and `athletes` are what GET
    answers, so a page may send a team back as it got it; they are ignored."""

    id: int | UnsetType = UNSET
    athletes: int | UnsetType = UNSET


class AthleteBody(Struct, forbid_unknown_fields=True):
    """POST /api/athletes (`name`, and `team_id` or `team`, required) and PATCH (the fields
    given change; null clears one). `id` is what GET answers: sent back, it is ignored."""

    name: Text | UnsetType = UNSET
    display_name: Text | UnsetType = UNSET
    squad_number: Text | UnsetType = UNSET
    """0-999; "7" and 7.0 read as 7."""
    group: Text | UnsetType = UNSET
    sex: Text | UnsetType = UNSET
    """F, M or empty."""
    birth_year: Text | UnsetType = UNSET
    tag: str | UnsetType | None = UNSET
    """As a reader types it; trimmed and upper-cased."""
    team_id: int | UnsetType | None = UNSET
    team: Text | UnsetType = UNSET
    """A team's name, made if new; `team_id` wins when both are given."""
    archived: bool | UnsetType = UNSET
    id: int | UnsetType = UNSET
