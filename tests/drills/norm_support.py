"""Helpers of the norm table tests: the shipped tables, and made-up tables written to a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.norms import NORMS_DIR, NormFileError, NormTable, find_norm, load_norm, load_norms

SHIPPED = sorted(NORMS_DIR.glob("*.toml"))
SHIPPED_TABLES = load_norms()


def table(tables: list[NormTable], drill: str, population: str) -> NormTable:
    return find_norm(drill, population, tables)


HEADER = """\
format = 1
id = "{id}"
protocol = "{protocol}"
population = "Test squad"
sex = "mixed"
level = "club"
timing_method = "electronic"
unit = "{unit}"
lower_is_better = {lower}
citation = "Made up for a test."
"""


def write_table(
    folder: Path,
    body: str,
    *,
    id: str = "squad",
    protocol: str = "sprint-10m",
    unit: str = "s",
    lower: str = "true",
    header: str | None = None,
    name: str | None = None,
) -> Path:
    text = (header if header is not None else HEADER).format(
        id=id, protocol=protocol, unit=unit, lower=lower
    )
    path = folder / (name or f"{protocol}.{id}.toml")
    path.write_text(text + body, encoding="utf-8")
    return path


def load_error(path: Path) -> NormFileError:
    with pytest.raises(NormFileError) as info:
        load_norm(path)
    return info.value
