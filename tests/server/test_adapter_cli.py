"""`agility run`, `agility serve` and `agility devices` with a Chronopic and a Timy, each its
simulator on a pseudo-terminal (written from the devices' published formats): splits at the
device's own resolution, stored; several gates on one Chronopic input; a port that is not the
kind it is given as gets one clear line; noise on the line stops nothing."""

from __future__ import annotations

import json
import os
import sys
import time
import zlib
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from hardware.messages import DeviceKind, EventKind
from hardware.sim.chronopic import SimChronopic
from hardware.sim.device import VirtualDevice
from hardware.sim.port import VirtualPort
from hardware.sim.timy import SimTimy
from server.db.session import migrate
from tests.agility_process import Agility
from tests.auth_support import login_client
from tests.support import free_port, server_process

MS_US = 1_000
CHRONOPIC_TICK_US = 8
DRIFT_PPM = 40.0


@pytest.fixture
def chronopic() -> Iterator[SimChronopic]:
    sim = SimChronopic(drift_ppm=DRIFT_PPM, offset_us=987_654, seed=7)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def timy() -> Iterator[SimTimy]:
    sim = SimTimy(seed=8, drift_ppm=-DRIFT_PPM, baudrate=19200)
    sim.start()
    yield sim
    sim.stop()


def now_us() -> int:
    return time.monotonic_ns() // 1000


def _json_reps(cli: Agility) -> list[dict[str, object]]:
    return [json.loads(line) for line in cli.out if line.startswith("{")]


def _stored_splits(db: Path) -> list[tuple[str, int, int | None, bool]]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT name, elapsed_us, cross_device_error_us, manual FROM split ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


def test_a_chronopic_times_each_gate_on_one_input_to_8_us(
    chronopic: SimChronopic, tmp_path: Path
) -> None:
    db = tmp_path / "chronopic.db"
    cli = Agility("run", "sprint-20m", "--device", f"chronopic:{chronopic.path}",
                  "--athlete", "Ada Lind", "--json", "--db", str(db))  # fmt: skip
    try:
        cli.wait_for("rep 1: ready, Ada Lind may go")
        t0 = now_us() + 300 * MS_US
        # Three photocells in parallel on the one input: start, 10 m, 20 m. A trailing arm
        # breaks the 10 m beam again 60 ms after the torso (longer than the 50 ms debounce).
        breaks = [t0, t0 + 1_873_457, t0 + 1_873_457 + 1_402_311]
        for at in breaks:
            chronopic.schedule_break(at, 120 * MS_US)
        chronopic.schedule_break(breaks[1] + 180 * MS_US, 70 * MS_US)
    finally:
        code = cli.finish()
    assert code == 0, "\n".join(cli.err)
    [rep] = _json_reps(cli)
    assert rep["state"] == "finished"
    splits = rep["splits"]
    assert isinstance(splits, dict)
    # The device truncates every interval it counts to whole 8 us ticks (zeroing its timer
    # clears the prescaler), so a split loses up to 8 us per edge in it: 2 for the first
    # (the start beam clears, then the 10 m beam breaks), 4 for the second (the arm too).
    edges_between = [2, 4]
    for name, (a, b), edges in zip(splits, pairwise(breaks), edges_between, strict=True):
        true_device_us = (b - a) * (1 + DRIFT_PPM * 1e-6)
        error_us = true_device_us - splits[name] * 1e6
        assert -1 <= error_us <= CHRONOPIC_TICK_US * edges + 1, name
    stored = _stored_splits(db)
    assert [s[0] for s in stored] == list(splits)
    assert all(s[2] is None and not s[3] for s in stored)  # one clock: not cross-device


def test_a_timy_times_to_its_tenth_of_a_millisecond_through_noise(
    timy: SimTimy, tmp_path: Path
) -> None:
    db = tmp_path / "timy.db"
    cli = Agility("run", "backward-sprint-10m", "--device", f"timy:{timy.port}@19200",
                  "--athlete", "Ada Lind", "--json", "--db", str(db))  # fmt: skip
    try:
        cli.wait_for("rep 1: ready, Ada Lind may go")
        t0_ns = time.monotonic_ns() + 300_000_000
        timy.garbage_at(t0_ns - 200_000_000, 200)  # a Timy switched to another rate, say
        timy.long_line_at(t0_ns - 100_000_000, 10_000)
        timy.impulse_at(t0_ns + 1_000_000_000, 0)  # c0: start
        timy.impulse_at(t0_ns + 1_000_000_000 + 3_456_789_000, 1)  # c1: finish
    finally:
        code = cli.finish()
    assert code == 0, "\n".join(cli.err)
    [rep] = _json_reps(cli)
    truth = timy.truth
    expected_s = (truth[1].time_of_day_ticks - truth[0].time_of_day_ticks) / 10_000
    assert isinstance(rep["splits"], dict)
    assert rep["splits"]["0-10m"] == pytest.approx(expected_s, abs=1e-9)
    assert _stored_splits(db)[0][1] == round(expected_s * 1e6)


def test_a_port_given_as_a_chronopic_that_is_not_one_gets_one_clear_line(
    timy: SimTimy, tmp_path: Path
) -> None:
    cli = Agility("run", "backward-sprint-10m", "--device", f"chronopic:{timy.port}",
                  "--athlete", "Ada Lind", "--db", str(tmp_path / "x.db"))  # fmt: skip
    code = cli.finish()
    assert code != 0
    assert any("no Chronopic answered" in line for line in cli.err), cli.err
    assert not any("Traceback" in line for line in cli.err)


def test_a_hold_start_drill_is_refused_on_a_timy(timy: SimTimy, tmp_path: Path) -> None:
    # The pro-agility starts with a hand or foot held in the start beam.
    cli = Agility("run", "pro-agility-5-10-5-left", "--device", f"timy:{timy.port}@19200",
                  "--athlete", "Ada Lind", "--db", str(tmp_path / "x.db"))  # fmt: skip
    code = cli.finish()
    err = "\n".join(cli.err)
    assert code != 0 and "Timy reports breaks" in err, err


@pytest.mark.parametrize("which", ["sim-chronopic", "sim-timy"])
def test_simulated_gear_runs_a_drill_without_the_gear(which: str, tmp_path: Path) -> None:
    cli = Agility("run", "backpedal-turn-sprint", "--device", which, "--athlete", "Ada Lind",
                  "--json", "--db", str(tmp_path / "sim.db"))  # fmt: skip
    code = cli.finish()
    assert code == 0, "\n".join(cli.err)
    [rep] = _json_reps(cli)
    assert rep["state"] == "finished"
    assert isinstance(rep["splits"], dict) and list(rep["splits"]) == [
        "backpedal", "turn", "sprint"
    ]  # fmt: skip


def test_serve_lists_a_timy_and_adds_a_chronopic_from_the_devices_page(
    timy: SimTimy, chronopic: SimChronopic, tmp_path: Path
) -> None:
    db = str(tmp_path / "serve.db")
    migrate(db)
    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", "--db", db, "--port", str(port),
            "--device", f"timy:{timy.port}@19200",
            "--device", f"chronopic:{timy.port}"]  # fmt: skip
    with server_process(args, port, tmp_path / "serve.log", "agility serve") as (_, base):
        client = login_client(base, db)
        rows = client.get("/api/devices").json()
        assert [(r["adapter"], r["state"]) for r in rows] == [("timy", "ready")]
        # The second --device names the Timy's port again: refused, logged, and the server
        # started anyway.
        log = (tmp_path / "serve.log").read_text()
        assert f"chronopic:{timy.port} not opened" in log and "already open" in log

        added = client.post("/api/devices/ports", json={"port": f"chronopic:{chronopic.path}"})
        assert added.status_code == 200, added.text
        kinds = sorted(r["adapter"] for r in added.json())
        assert kinds == ["chronopic", "timy"]
        row = next(r for r in added.json() if r["adapter"] == "chronopic")
        assert row["adapter_details"]["debounce_ms"] == 50

        silent_master, silent_slave = os.openpty()  # a serial line with nothing behind it
        silent = os.ttyname(silent_slave)
        for bad, words in [
            (f"chronopic:{silent}", "no Chronopic answered"),
            ("timy:/dev/ttyUSB9@12345", "not a Timy baud rate"),
            ("timy:/no/such/port", "cannot open"),
        ]:
            res = client.post("/api/devices/ports", json={"port": bad})
            assert res.status_code == 422, (bad, res.text)
            assert words in res.text and "Traceback" not in res.text
        os.close(silent_master)
        os.close(silent_slave)
        # Impulses with noise between them reach the server and are counted, not fatal.
        t0 = time.monotonic_ns() + 100_000_000
        timy.garbage_at(t0, 500)
        timy.impulse_at(t0 + 300_000_000, 0)
        deadline = time.monotonic() + 10
        while True:
            row = next(r for r in client.get("/api/devices").json() if r["adapter"] == "timy")
            if row["events"] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert row["events"] == 1 and row["state"] == "ready"
        assert sum(v for k, v in row["port_stats"].items() if k != "lines") > 0
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200


def test_a_split_from_our_gate_to_a_timy_is_timed_and_marked_cross_device(
    timy: SimTimy, tmp_path: Path
) -> None:
    gate = VirtualPort([VirtualDevice(DeviceKind.GATE, 0xA1, seed=4)], seed=14)
    gate.start()
    db = tmp_path / "mixed.db"
    timy_key = f"timy-{zlib.crc32(f'timy:path:{timy.port}'.encode()):08X}"
    cli = Agility("run", "backward-sprint-10m", "--device", gate.port,
                  "--device", f"timy:{timy.port}@19200", "--role", "start=gate-000000A1:0",
                  "--role", f"finish={timy_key}:1", "--athlete", "Ada Lind", "--json",
                  "--db", str(db), "--wait", "30")  # fmt: skip
    try:
        cli.wait_for("rep 1: ready, Ada Lind may go")
        # The Timy's clock is mapped by receipt: give it a few impulses first, as a session's
        # earlier reps would (a c3 photocell nobody is bound to).
        t0_ns = time.monotonic_ns()
        for i in range(12):
            timy.impulse_at(t0_ns + 100_000_000 + i * 60_000_000, 3)
        start_ns = t0_ns + 1_200_000_000
        finish_ns = start_ns + 2_222_000_000
        gate.devices[0].schedule_edge(0, EventKind.BEAM_BROKEN, start_ns)
        gate.devices[0].schedule_edge(0, EventKind.BEAM_RESTORED, start_ns + 80_000_000)
        timy.impulse_at(finish_ns, 1)
        code = cli.finish()
    finally:
        gate.stop()
    assert code == 0, "\n".join(cli.err)
    [rep] = _json_reps(cli)
    assert isinstance(rep["splits"], dict)
    [(name, elapsed_us, bound_us, manual)] = _stored_splits(db)
    assert name == "0-10m"
    assert bound_us is not None and bound_us > 0 and not manual
    # Within the stated bound of the truth (receipt jitter, plus the gate's own sync error).
    assert abs(elapsed_us - (finish_ns - start_ns) / 1000) <= bound_us + 1_000
