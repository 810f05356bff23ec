"""`agility run` from the terminal, as a script would call it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path


def _agility(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_run_prints_one_json_line_per_rep_and_stores_them(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    res = _agility("run", "backward-sprint-10m", "--device", "sim", "--athlete", "Ada Test",
                   "--reps", "3", "--json", "--db", str(db))  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [line["rep"] for line in lines] == [1, 2, 3]
    for line in lines:
        assert line["drill"] == "backward-sprint-10m"
        assert line["athlete"] == "Ada Test"
        assert line["state"] == "finished"
        assert set(line["splits"]) == {"0-10m"}
        # A believable backward 10 m, in seconds.
        assert 1.5 < line["splits"]["0-10m"] < 4.0
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT s.elapsed_us FROM split s JOIN run r ON r.id = s.run_id ORDER BY r.rep"
        ).fetchall()
    assert [us / 1e6 for (us,) in stored] == [line["splits"]["0-10m"] for line in lines]

    again = _agility("run", "backward-sprint-10m", "--device", "sim", "--athlete", "Ada Test",
                     "--reps", "1", "--json", "--db", str(db))  # fmt: skip
    assert json.loads(again.stdout)["rep"] == 4, "rep numbers continue per athlete"


def test_unknown_drill_is_a_clear_error(tmp_path: Path) -> None:
    res = _agility("run", "no-such-drill", "--device", "sim", "--athlete", "X",
                   "--db", str(tmp_path / "x.db"))  # fmt: skip
    assert res.returncode == 2
    assert "no-such-drill" in res.stderr
    assert "backward-sprint-10m" in res.stderr, "the error lists the drills that exist"
    assert "Traceback" not in res.stderr


def test_missing_port_is_a_clear_error(tmp_path: Path) -> None:
    res = _agility("run", "backward-sprint-10m", "--device", str(tmp_path / "ttyNOPE"),
                   "--athlete", "X", "--db", str(tmp_path / "x.db"))  # fmt: skip
    assert res.returncode == 2
    assert "cannot open" in res.stderr
    assert "Traceback" not in res.stderr


def test_drills_list_and_check() -> None:
    listed = _agility("drills", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    slugs = {d["slug"] for d in json.loads(listed.stdout)}
    assert {"backward-sprint-10m", "sprint-10m"} <= slugs
    checked = _agility("drills", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_drills_check_reports_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad-drill.toml"
    bad.write_text('format = 1\nslug = "bad-drill"\nname = "Bad"\n')
    res = _agility("drills", "check", str(bad))
    assert res.returncode == 1
    assert "bad-drill.toml" in res.stdout
