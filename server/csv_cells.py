"""Spreadsheet-safe CSV cells, one rule for every CSV the product writes and reads back.

A cell that starts with =, +, -, @, a tab or a carriage return is run as a formula by
spreadsheets (OWASP, "CSV Injection"): such a cell is written with a leading ' , which a
spreadsheet shows as text, and read back without it. Other cells are left as they are, so a
real name reads as typed.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """The cell with a leading ' when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unescape_formula(cell: str) -> str:
    """A cell as `formula_safe` wrote it, back to what was typed (trimmed)."""
    cell = cell.strip()
    if cell.startswith("'") and cell[1:2] in FORMULA_START:
        return cell[1:]
    return cell
