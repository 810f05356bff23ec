"""Shared fixtures (free loopback ports, migrated databases, a real demo server process) and
which tests are slow, by cause."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.db.scratch import postgres_reachable, scratch_postgres
from tests.support import PG_ADMIN_URL, DemoServer, free_port, server_process, skip_or_fail

TESTS = Path(__file__).resolve().parent
# `make test-fast` (pytest -m "not slow") leaves these out; `make test`, which CI runs, does
# not. Marked here by what makes them slow, so a new test of the same kind is marked too; the
# slow tests of otherwise quick modules are named in SLOW_TESTS (or carry @pytest.mark.slow).
SLOW_FOLDERS = {
    "web": "drives headless Chromium against a server process",
    "firmware": "builds the AVR firmware and runs it in simavr",
}
SLOW_FIXTURES = {
    "postgres_db": "creates and drops a PostgreSQL database",
    "demo_server": "starts `agility demo` as a process",
    "selftest_elf": "builds the simavr harness and runs an AVR image in it",
}
SLOW_SUFFIX = ("_smoke", "runs a benchmark, in small")
# Modules (stems) all of whose tests share one slow cause, and single tests of otherwise quick
# modules (stem::name), measured with --durations: each over about a second on a quiet machine.
REAL_TIME_SIM = "runs simulated devices or athletes in real time"
CLI_PROCESS = "starts the agility command as a process"
SLOW_MODULES = {
    "test_schema_fuzz": "sends every request the OpenAPI schema describes",
    "test_overlap_properties": "checks properties over many generated races",
    **dict.fromkeys(
        ("test_plans_sim", "test_gate_rules_on_sim", "test_library_on_sim", "test_run_roles",
         "test_pipeline_accuracy", "test_series_on_sim", "test_stations", "test_unplug_mid_run",
         "test_restart_recovery", "test_session_precheck", "test_station_links",
         "test_stations_overview", "test_demo_yields", "test_adapter_sessions", "test_host_on_sim",
         "test_phantom_devices", "test_reopen_explicit"),
        REAL_TIME_SIM,
    ),
    **dict.fromkeys(("test_cli_run", "test_adapter_cli", "test_cli_errors", "test_cli_devices",
                     "test_lan", "test_cli_probe"), CLI_PROCESS),
}  # fmt: skip
SLOW_TESTS = {
    "test_plans::test_cli_runs_a_plan_file_and_stores_planned_sessions": CLI_PROCESS,
    "test_auth::test_cli_process_takes_the_database_from_agility_db": CLI_PROCESS,
    "test_plans::test_pause_resume_skip_abort": REAL_TIME_SIM,
    "test_day_plans::test_a_day_rotates_two_groups_through_two_stations": REAL_TIME_SIM,
    "test_export_cli::test_report_pdf_benchmark_runs_end_to_end_on_a_tiny_season": SLOW_SUFFIX[1],
    "test_login_throttle::test_a_phone_behind_the_proxy_waits_and_others_do_not":
        "waits out a sign-in block",
    "test_busy_port::test_a_probed_port_in_use_is_reported_once_and_cleared_when_it_goes":
        REAL_TIME_SIM,
    "test_faults::test_10000_events_through_corruption_and_loss_arrive_exactly_once":
        REAL_TIME_SIM,
    "test_faults::test_hot_plug_unplug_and_replug_resume_with_buffered_events": REAL_TIME_SIM,
    "test_link_pty::test_hub_ticks_extend_across_32_bit_wrap": REAL_TIME_SIM,
    "test_link_pty::test_hub_events_carry_true_ticks": REAL_TIME_SIM,
    "test_sim_port::test_loss_and_corruption_rates_hold_statistically": REAL_TIME_SIM,
    "test_sim_port::test_four_ports_of_eight_devices_carry_5000_events_a_second": REAL_TIME_SIM,
    "test_timy::test_sim_timy_on_pty_matches_truth_within_0_2_ms": REAL_TIME_SIM,
}  # fmt: skip
SAMPLED_BODIES = "samples many simulated crossings of the body model"
for _name in (
    "test_walking_leads_last_longer_than_running_ones",
    "test_a_lateral_pass_is_led_by_the_leading_side_and_differs_from_forward",
    "test_running_backward_arms_break_a_hip_beam_early",
    "test_forward_sprinters_sometimes_break_both_beams_before_the_torso",
):
    SLOW_TESTS[f"test_body_model::{_name}"] = SAMPLED_BODIES


def _slow_cause(item: pytest.Item) -> str | None:
    folder = item.path.relative_to(TESTS).parts[0]
    if folder in SLOW_FOLDERS:
        return SLOW_FOLDERS[folder]
    for name in getattr(item, "fixturenames", ()):
        if name in SLOW_FIXTURES:
            return SLOW_FIXTURES[name]
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("any_db") == "postgres":
        return SLOW_FIXTURES["postgres_db"]
    stem = item.path.stem
    if stem.endswith(SLOW_SUFFIX[0]):
        return SLOW_SUFFIX[1]
    name = getattr(item, "originalname", item.name)  # without its parameters
    return SLOW_MODULES.get(stem) or SLOW_TESTS.get(f"{stem}::{name}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _slow_cause(item) is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return str(tmp_path / "agility.db")


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A fresh PostgreSQL database per test, dropped afterwards."""
    problem = postgres_reachable(PG_ADMIN_URL)
    if problem is not None:
        skip_or_fail(problem)
    with scratch_postgres(PG_ADMIN_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "agility.db")
    return str(request.getfixturevalue("postgres_db"))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`agility demo` as a newcomer runs it: a real process, uvicorn on a loopback port."""
    tmp = tmp_path_factory.mktemp("demo")
    port = free_port()
    db = str(tmp / "var" / "demo.db")  # a folder that does not exist yet, as on a fresh clone
    log = tmp / "server.log"
    args = [sys.executable, "-m", "server.cli", "demo", "--port", str(port), "--db", db,
            "--seed", "7"]  # fmt: skip
    with server_process(args, port, log, "demo server") as (proc, base):
        yield DemoServer(base, db, proc, log)
