"""The `agility` command: every subcommand and its options, listed in this one module.

A reader scans `build_parser` to see the whole command line. What each command does lives
with its area (`server/<area>/cli.py`, `server/serve.py`) as a function of the parsed
arguments; the argparse types that know an area's syntax (a device, a role) live there too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from drills import DrillFileError
from drills.crossing import (
    DEFAULT_REARM_US,
    DEFAULT_WINDOW_US,
    MAX_WINDOW_US,
    MIN_WINDOW_US,
    Trigger,
)
from hardware.discovery import PROBE_WINDOW_S
from hardware.errors import HardwareError
from server import serve
from server.api_client import COACH_ENV, PASSWORD_ENV
from server.auth import cli as auth_cli
from server.catalog import cli as catalog_cli
from server.config import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT
from server.db import cli as db_cli
from server.devices import binding
from server.devices import cli as devices_cli
from server.errors import AppError
from server.norms import cli as norms_cli
from server.plans import cli as plans_cli
from server.reports import cli as reports_cli
from server.reports.service import FORMATS
from server.runs import cli as runs_cli

DESCRIPTION = "The `agility` command: serve, demo, headless runs, migrations and drill checks."

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # One line per scheduled job run drowns the demo's terminal; warnings still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except (DrillFileError, AppError, HardwareError) as exc:
        print(f"agility: error: {exc}", file=sys.stderr)
        if isinstance(exc, DrillFileError):
            for err in exc.errors:
                print(f"  {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head`: stop quietly, as other command-line tools do.
        sys.stderr.close()
        return 0


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; `agility --help` lists the commands in this order."""
    p = argparse.ArgumentParser(prog="agility", description=DESCRIPTION)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    _serve(sub)
    _demo(sub)
    _devices(sub)
    _migrate(sub)
    _run(sub)
    _plans(sub)
    _coach(sub)
    _norms(sub)
    _export(sub)
    _drills(sub)
    return p


def _db_option(sp: argparse.ArgumentParser) -> None:
    # The environment's AGILITY_DB is the default of every command, so a shell that set it
    # once (say, to the demo's database) points every command at the same data.
    sp.add_argument(
        "--db", default=os.environ.get("AGILITY_DB", DEFAULT_DB),
        help=f"SQLite file or database URL (default: $AGILITY_DB, else {DEFAULT_DB})",
    )  # fmt: skip


def _proxy_option(sp: argparse.ArgumentParser) -> None:
    # None unless given: server/serve.py then reads the environment, commas between.
    sp.add_argument(
        "--trusted-proxy", action="append", type=serve.proxy_arg, default=None, metavar="ADDR",
        help="a reverse proxy in front of the server (address or network, repeatable): its "
        "X-Forwarded-For names the client; without it the header is ignored "
        f"(default: ${serve.TRUSTED_PROXIES_ENV}, else none)",
    )  # fmt: skip


def _serve(sub: Subparsers) -> None:
    serve_p = sub.add_parser("serve", help="run the server with real devices")
    _db_option(serve_p)
    serve_p.add_argument("--host", default=DEFAULT_HOST)
    serve_p.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve_p.add_argument(
        "--lan", action="store_true",
        help="listen on every interface so phones on the same network can connect",
    )  # fmt: skip
    serve_p.add_argument(
        "--device", action="append", default=[], metavar="PORT",
        help="serial port or pyserial URL to open (repeatable)",
    )  # fmt: skip
    serve_p.add_argument(
        "--usb-id", action="append", type=devices_cli.usb_id_arg, default=[], metavar="VID:PID",
        help="also open ports with this USB identity as they are plugged in (repeatable; "
        "the reference firmware's 1209:A617 is always included; CH340 and FTDI ports of "
        "Nano clones are probed with IDENTIFY and opened if they answer)",
    )  # fmt: skip
    _proxy_option(serve_p)
    serve_p.set_defaults(func=serve.cmd_serve, demo=False, seed=1)


def _demo(sub: Subparsers) -> None:
    demo = sub.add_parser("demo", help="the whole product on simulated gates and athletes")
    _db_option(demo)
    demo.add_argument("--host", default=DEFAULT_HOST)
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--lan", action="store_true", help="open to the local network")
    demo.add_argument("--seed", type=int, default=1, help="seed of the virtual squad")
    _proxy_option(demo)
    demo.set_defaults(func=serve.cmd_serve, demo=True, device=[], usb_id=None)


def _devices(sub: Subparsers) -> None:
    devices = sub.add_parser("devices", help="list serial ports and identify the devices on them")
    devices.add_argument("--json", action="store_true", help="one JSON object")
    devices.add_argument(
        "--port", action="append", default=[], metavar="PATH",
        help="probe this port whatever its USB identity (repeatable); chronopic:PATH for a "
        "Chronojump Chronopic, timy:PATH or timy:PATH@BAUD for an ALGE Timy",
    )  # fmt: skip
    devices.add_argument(
        "--chronopic-debounce-ms", type=int, metavar="MS",
        help="set the debounce of every Chronopic given with --port (10 to 250 ms in steps of "
        "10; the device keeps it until it is powered off; its default is 50 ms)",
    )  # fmt: skip
    devices.add_argument(
        "--usb-id", action="append", type=devices_cli.usb_id_arg, default=[], metavar="VID:PID",
        help="also open ports with this USB identity (repeatable); CH340 (1A86:7523) and "
        "FTDI (0403:6001) ports are probed anyway: what answers IDENTIFY is listed",
    )  # fmt: skip
    devices.add_argument(
        "--wait", type=float, default=3.0, metavar="S",
        help="how long to listen for devices and their clock sync (default 3 s; probed "
        f"ports get at least {PROBE_WINDOW_S:g} s, a Nano's bootloader runs first)",
    )  # fmt: skip
    devices.add_argument(
        "--polarity", action="append", type=devices_cli.polarity_arg, default=[],
        metavar="DEVICE:CHANNEL=low|high",
        help="set which level of a gate's beam input means broken, kept in the gate's EEPROM "
        "(low: the default, a receiver or optocoupler pulling the pin to GND; high: one that "
        "drives it high when blocked), e.g. gate-00AB12CD:1=high (repeatable)",
    )  # fmt: skip
    devices.set_defaults(func=devices_cli.cmd_devices)


def _migrate(sub: Subparsers) -> None:
    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    _db_option(mig)
    mig.set_defaults(func=db_cli.cmd_migrate)


def _run(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="run a drill from the terminal, one line per rep")
    _db_option(run)
    run.add_argument("drill", help="drill slug (e.g. backward-sprint-10m) or a plan file (.toml)")
    run.add_argument(
        "--device", action="append", dest="devices", required=True, metavar="PORT",
        help="a serial port (repeatable: one per gate when each has its own cable); "
        "chronopic:PORT for a Chronojump Chronopic, timy:PORT or timy:PORT@BAUD for an ALGE "
        "Timy; or alone, 'sim' for a simulated hub, 'sim-chronopic' or 'sim-timy' for a "
        "simulated Chronopic or Timy, each with a virtual athlete",
    )  # fmt: skip
    run.add_argument(
        "--role", action="append", type=runs_cli.role_arg, default=[],
        metavar=binding.ROLE_SYNTAX,
        help="bind a role of the drill to a device (its key or 8 hex digits, as `agility "
        "devices` shows it) and channel, from 0 (repeatable; overrides --layout). Without "
        "--role or --layout, the roles go to the first device's channels in running order",
    )  # fmt: skip
    run.add_argument("--layout", metavar="NAME", help="bind roles as the saved layout NAME says")
    run.add_argument(
        "--wait", type=float, default=runs_cli.DEFAULT_WAIT_S, metavar="S",
        help=f"how long the devices have to answer, and then to sync their clocks "
        f"(default {runs_cli.DEFAULT_WAIT_S:g} s each)",
    )  # fmt: skip
    run.add_argument(
        "--trigger", choices=[t.value for t in Trigger],
        help="how a gate's crossing is found among its beam's edges, for every gate role: "
        "first-break (the first edge), longest-break (the start of the longest break within "
        "--window-ms of the first: the torso, not a leading hand or knee), dual-beam (the "
        "first instant both of two beams are broken), dual-longest (longest-break on each of "
        "two beams, the later start; the most accurate). Bind a two-beam role to two "
        "channels with --role ROLE=DEVICE:TOP,BOTTOM. Default by gear: longest-break on our "
        "gates (dual-longest on two beams), first-break on a Timy or a Chronopic",
    )  # fmt: skip
    run.add_argument(
        "--rearm-ms", type=int, metavar="MS",
        help=f"after a crossing, ignore the gate's breaks for MS (a trailing arm; default "
        f"{DEFAULT_REARM_US // 1000} ms)",
    )  # fmt: skip
    run.add_argument(
        "--window-ms", type=int, metavar="MS",
        help=f"longest-break: how long after the first break the longest is looked for "
        f"(default {DEFAULT_WINDOW_US // 1000} ms, {MIN_WINDOW_US // 1000} to "
        f"{MAX_WINDOW_US // 1000}; longer for walking drills)",
    )  # fmt: skip
    run.add_argument("--athlete", help="athlete name (created if new); required for a drill")
    run.add_argument("--team", default="Default", help="team of a new athlete")
    run.add_argument("--reps", type=int, default=1)
    run.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument(
        "--start-within", type=float, default=120.0, metavar="S",
        help="void a rep whose start gate is not crossed within S seconds",
    )  # fmt: skip
    run.add_argument(
        "--time-scale", type=float, default=1.0, metavar="X",
        help="plan files: multiply rests and countdowns by X (runs stay real time)",
    )  # fmt: skip
    run.set_defaults(func=runs_cli.cmd_run)


def _plans(sub: Subparsers) -> None:
    plans = sub.add_parser("plans", help="list, start, pause, resume and abort session plans")
    psub = plans.add_subparsers(dest="plans_command", required=True)

    def server_option(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--server", metavar="URL",
                        help="a running server, e.g. http://127.0.0.1:8000")  # fmt: skip
        sp.add_argument("--coach", metavar="NAME",
                        help=f"with --server: sign in as this coach (default ${COACH_ENV}); "
                             f"password: ${PASSWORD_ENV}, else asked on a terminal")  # fmt: skip

    plist = psub.add_parser("list", help="stored plans and their sessions")
    _db_option(plist)
    server_option(plist)
    plist.add_argument("--json", action="store_true")
    plist.set_defaults(func=plans_cli.cmd_list)

    start = psub.add_parser("start", help="start a plan (a file or a stored plan id) now or later")
    _db_option(start)
    server_option(start)
    start.add_argument("plan", help="plan file (.toml or .json) or the id of a stored plan")
    start.add_argument(
        "--at", type=plans_cli.utc_time_arg, metavar="ISO_TIME",
        help="start at this time (UTC offset required, e.g. 2026-12-01T16:00Z)",
    )  # fmt: skip
    start.add_argument("--time-scale", type=float, default=1.0, metavar="X",
                       help="multiply rests and countdowns by X (demos and tests)")  # fmt: skip
    start.set_defaults(func=plans_cli.cmd_start)

    for action in ("pause", "resume", "skip", "abort"):
        sp = psub.add_parser(action, help=f"{action} a plan session")
        _db_option(sp)
        server_option(sp)
        sp.add_argument("session", type=int, help="plan session id (see `agility plans list`)")
        sp.set_defaults(func=plans_cli.cmd_control, action=action)


def _coach(sub: Subparsers) -> None:
    coach = sub.add_parser("coach", help="coach accounts (the people who may change things)")
    csub = coach.add_subparsers(dest="coach_command", required=True)
    add = csub.add_parser(
        "add", help="make a coach account; the password is asked, or read from standard input"
    )
    add.add_argument("name", help="the name the coach logs in with")
    # None: Settings().db when the command runs, so $AGILITY_DB is read then, not at parsing.
    add.add_argument(
        "--db", default=None,
        help="SQLite file or database URL (default $AGILITY_DB, else var/agility.db)",
    )  # fmt: skip
    add.set_defaults(func=auth_cli.cmd_coach_add)


def _norms(sub: Subparsers) -> None:
    norms = sub.add_parser("norms", help="list norm tables or rate a time against one")
    nsub = norms.add_subparsers(dest="norms_command", required=True)

    def folder_option(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--norms-dir", type=Path, metavar="DIR",
                        help="a folder of norm files (default: the built-in tables)")  # fmt: skip

    nlist = nsub.add_parser("list", help="the norm tables: drill, population, method, source")
    folder_option(nlist)
    nlist.add_argument("--json", action="store_true")
    nlist.set_defaults(func=norms_cli.cmd_list)

    nrate = nsub.add_parser("rate", help="rate one time (seconds) against one table")
    folder_option(nrate)
    nrate.add_argument("drill", help="drill slug or protocol, e.g. pro-agility-5-10-5-left")
    nrate.add_argument("--population", required=True, metavar="ID",
                       help="population id (see `agility norms list`)")  # fmt: skip
    nrate.add_argument("--time-s", required=True, type=norms_cli.seconds_arg, metavar="T",
                       help="the time in seconds, e.g. 4.82")  # fmt: skip
    nrate.add_argument("--json", action="store_true")
    nrate.set_defaults(func=norms_cli.cmd_rate)


def _export(sub: Subparsers) -> None:
    export = sub.add_parser(
        "export", help="export reps as CSV, XLSX or a PDF team report",
        description=reports_cli.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    _db_option(export)
    # None means: AGILITY_DB from the environment, else the default file (server.config).
    export.set_defaults(db=None)
    export.add_argument("--team", help="team name (default: every team)")
    export.add_argument(
        "--from", dest="date_from", metavar="DATE",
        help="first day, YYYY-MM-DD, UTC, inclusive (default: the first rep)",
    )  # fmt: skip
    export.add_argument(
        "--to", dest="date_to", metavar="DATE",
        help="last day, YYYY-MM-DD, UTC, inclusive (default: the last rep)",
    )  # fmt: skip
    export.add_argument(
        "--format", dest="fmt", required=True, choices=list(FORMATS),
        help="csv: one row per rep; csv-summary: one row per athlete and drill; "
        "xlsx: a summary sheet and a sheet per drill; pdf: the team report",
    )  # fmt: skip
    export.add_argument(
        "--out", required=True, metavar="FILE", help="file to write, or - for stdout"
    )
    export.add_argument(
        "--norm", action="append", default=[], metavar="DRILL=POPULATION[,...]",
        help="rate DRILL against these norm populations (repeatable), e.g. "
        "t-test=college-men,college-women; without it only screening cut-offs apply",
    )  # fmt: skip
    export.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar, no summary line"
    )
    export.set_defaults(func=reports_cli.run_export)


def _drills(sub: Subparsers) -> None:
    drills = sub.add_parser("drills", help="list or check drill files")
    dsub = drills.add_subparsers(dest="drills_command", required=True)
    dlist = dsub.add_parser("list", help="the drill library")
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(func=catalog_cli.cmd_list)
    dcheck = dsub.add_parser("check", help="report every problem in drill files")
    dcheck.add_argument("paths", nargs="*", type=Path, help="files or folders (default: library)")
    dcheck.set_defaults(func=catalog_cli.cmd_check)


if __name__ == "__main__":
    raise SystemExit(main())
