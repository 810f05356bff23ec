"""Command-line mistakes are one-line errors with exit status 2, never a traceback (issue 16,
item 18): --out into a missing folder, an unsupported database URL, `agility migrate` on a
CSV file, and a plan file that is not UTF-8. Run as a script would run them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.reports_support import Seeded, seed_reports_db

PLAN = 'name = "Dienstag – Übungen"\n[[blocks]]\ndrill = "sprint-10m"\nathletes = ["Åsa"]\n'


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = seed_reports_db(str(tmp_path_factory.mktemp("cli-errors") / "agility.db"))
    seeded.engine.dispose()
    yield seeded


def _agility(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _one_line(res: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == status, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_export_into_a_missing_folder(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "team.csv"
    res = _agility("export", "--db", seeded.db, "--format", "csv", "--out", str(out))
    assert (
        _one_line(res)
        == f"agility export: error: --out {out}: no folder {out.parent} (create it first)"
    )
    folder = _agility("export", "--db", seeded.db, "--format", "pdf", "--out", str(tmp_path))
    assert f"--out {tmp_path} is a folder" in _one_line(folder)
    assert list(tmp_path.iterdir()) == [], "nothing written"


@pytest.mark.parametrize("command", [["export", "--format", "csv", "--out", "x.csv"], ["migrate"]])
def test_an_unsupported_database_url(command: list[str], tmp_path: Path) -> None:
    res = _agility(*command, "--db", "mysql://coach@localhost/agility")
    line = _one_line(res)
    assert "unsupported database URL mysql://" in line
    assert "postgresql://" in line, "says what would work"
    assert not (tmp_path / "x.csv").exists()


def test_migrate_pointed_at_a_csv_file(tmp_path: Path) -> None:
    export = tmp_path / "reps.csv"
    export.write_text("\ufeffathlete_id,athlete,team\r\n1,Åsa Berg,Lions\r\n", encoding="utf-8")
    res = _agility("migrate", "--db", str(export))
    assert _one_line(res) == (
        f"agility: error: {export} is not an SQLite database; give the database file "
        "(default var/agility.db) or a postgresql:// URL"
    )
    assert export.read_text(encoding="utf-8").startswith("\ufeffathlete_id"), "left as it was"


@pytest.mark.parametrize(
    "command",
    [["plans", "start"], ["run"]],
    ids=["plans-start", "run-plan"],
)
def test_a_plan_file_that_is_not_utf8(command: list[str], tmp_path: Path) -> None:
    plan = tmp_path / "tuesday.toml"
    plan.write_bytes(PLAN.encode("latin-1", errors="replace"))
    extra = ["--device", "sim"] if command == ["run"] else []
    res = _agility(*command, str(plan), *extra, "--db", str(tmp_path / "agility.db"))
    line = _one_line(res)
    assert line.startswith(f"agility: error: {plan}: not UTF-8 text (invalid")
    assert line.endswith("save the plan as UTF-8")
