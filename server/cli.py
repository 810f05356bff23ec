"""The `agility` command: serve, demo, headless runs, migrations and drill checks."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drills import DrillFileError, Timing, check_paths
from hardware.errors import HardwareError
from server.config import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, Settings
from server.db.session import migrate
from server.errors import AppError

log = logging.getLogger("agility")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="agility", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    def db_option(sp: argparse.ArgumentParser) -> None:
        # The environment's AGILITY_DB is the default of every command, so a shell that set
        # it once (say, to the demo's database) points every command at the same data.
        sp.add_argument(
            "--db", default=os.environ.get("AGILITY_DB", DEFAULT_DB),
            help=f"SQLite file or database URL (default: $AGILITY_DB, else {DEFAULT_DB})",
        )  # fmt: skip

    serve = sub.add_parser("serve", help="run the server with real devices")
    db_option(serve)
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--lan",
        action="store_true",
        help="listen on every interface so phones on the same network can connect",
    )
    serve.add_argument(
        "--device",
        action="append",
        default=[],
        metavar="PORT",
        help="serial port or pyserial URL to open (repeatable)",
    )
    serve.add_argument(
        "--usb-id",
        action="append",
        type=_usb_id,
        default=[],
        metavar="VID:PID",
        help="also open ports with this USB identity as they are plugged in (repeatable; "
        "the reference firmware's 1209:A617 is always included)",
    )
    serve.set_defaults(func=_cmd_serve, demo=False, seed=1)

    demo = sub.add_parser("demo", help="the whole product on simulated gates and athletes")
    db_option(demo)
    demo.add_argument("--host", default=DEFAULT_HOST)
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--lan", action="store_true", help="open to the local network")
    demo.add_argument("--seed", type=int, default=1, help="seed of the virtual squad")
    demo.set_defaults(func=_cmd_serve, demo=True, device=[], usb_id=None)

    devices = sub.add_parser("devices", help="list serial ports and identify the devices on them")
    devices.add_argument("--json", action="store_true", help="one JSON object")
    devices.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="PATH",
        help="probe this port whatever its USB identity (repeatable)",
    )
    devices.add_argument(
        "--usb-id", action="append", type=_usb_id, default=[], metavar="VID:PID",
        help="also probe ports with this USB identity (repeatable)",
    )  # fmt: skip
    devices.add_argument(
        "--wait", type=float, default=3.0, metavar="S",
        help="how long to listen for devices and their clock sync (default 3 s)",
    )  # fmt: skip
    devices.set_defaults(func=_cmd_devices)

    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    db_option(mig)
    mig.set_defaults(func=_cmd_migrate)

    run = sub.add_parser("run", help="run a drill from the terminal, one JSON line per rep")
    db_option(run)
    run.add_argument("drill", help="drill slug (e.g. backward-sprint-10m) or a plan file (.toml)")
    run.add_argument(
        "--device",
        required=True,
        help="'sim' for a simulated hub and virtual athlete, or a serial port",
    )
    run.add_argument("--athlete", help="athlete name (created if new); required for a drill")
    run.add_argument("--team", default="Default", help="team of a new athlete")
    run.add_argument("--reps", type=int, default=1)
    run.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument(
        "--start-within",
        type=float,
        default=120.0,
        metavar="S",
        help="void a rep whose start gate is not crossed within S seconds",
    )
    run.add_argument(
        "--time-scale", type=float, default=1.0, metavar="X",
        help="plan files: multiply rests and countdowns by X (runs stay real time)",
    )  # fmt: skip
    run.set_defaults(func=_cmd_run)

    from server.plans import cli as plans_cli

    plans_cli.add_parser(sub, db_option)

    from server.auth import cli as auth_cli

    auth_cli.add_parser(sub)

    from server import norms_cli

    norms_cli.add_parser(sub)

    from server.reports import cli as reports_cli

    reports_cli.add_parser(sub, db_option)

    from server.benchmarks.cli import add_bench_parser

    add_bench_parser(sub)

    drills = sub.add_parser("drills", help="list or check drill files")
    dsub = drills.add_subparsers(dest="drills_command", required=True)
    dlist = dsub.add_parser("list", help="the drill library")
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(func=_cmd_drills_list)
    dcheck = dsub.add_parser("check", help="report every problem in drill files")
    dcheck.add_argument("paths", nargs="*", type=Path, help="files or folders (default: library)")
    dcheck.set_defaults(func=_cmd_drills_check)
    return p


def _usb_id(text: str) -> tuple[int, int]:
    from hardware.discovery import parse_usb_id

    try:
        return parse_usb_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _lan_address() -> str:
    """The address phones on the same network would use (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.heap import settle_heap

    host = "0.0.0.0" if args.lan else args.host
    if not _port_free(host, args.port):
        print(
            f"agility: error: port {args.port} on {host} is in use; pick another with --port",
            file=sys.stderr,
        )
        return 2
    migrate(args.db)
    from hardware.discovery import DEFAULT_USB_IDS

    settings = Settings(
        db=args.db,
        host=host,
        port=args.port,
        devices=tuple(args.device),
        usb_ids=() if args.demo else (*DEFAULT_USB_IDS, *args.usb_id),
        demo=args.demo,
        seed=args.seed,
    )
    app = create_app(settings)
    from server.lan import lan_url, print_qr

    url = lan_url(args.port) if args.lan else f"http://{args.host}:{args.port}/"
    what = "Demo" if args.demo else "Server"
    print(f"{what} starting: open {url} (database {args.db}; Ctrl+C stops)", flush=True)
    if args.lan:
        print("Phones on this network: scan this code or open the address above.")
        print_qr(url)
        sys.stdout.flush()
    settle_heap()
    uvicorn.run(app, host=host, port=args.port, log_level="info", ws="websockets-sansio")
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    migrate(args.db)
    print(f"database {args.db} is at the latest schema")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from server.plans import cli as plans_cli

    if plans_cli.is_plan_file(args.drill):
        return plans_cli.run_plan_file(args)
    if not args.athlete:
        print("agility: error: --athlete is required to run a drill", file=sys.stderr)
        return 2
    if args.reps < 1:
        print("agility: error: --reps must be at least 1", file=sys.stderr)
        return 2
    migrate(args.db)
    return asyncio.run(_run_reps(args))


async def _run_reps(args: argparse.Namespace) -> int:
    from hardware.sim.athlete import make_team
    from server.app import build_services
    from server.simulation import SimRig, layout_for_hub

    services = build_services(Settings(db=args.db))
    drill = services.catalog.get(args.drill)
    if drill.timing is Timing.INTERVALS:
        raise AppError(f"{drill.slug} is run for a group: put it in a plan file (agility run PLAN)")
    rig: SimRig | None = None
    try:
        if args.device == "sim":
            rig = await SimRig.start(services.devices, drill, args.seed)
            services.coordinator.layout.update(rig.layout)
        else:
            session = await services.devices.open(args.device)
            ready = await session.wait_ready(timeout_s=10.0)
            services.coordinator.layout.update(layout_for_hub(drill, ready[0].info.key))
        recorder = services.recorder
        athlete_id = recorder.ensure_athlete(recorder.ensure_team(args.team), args.athlete)
        rng = random.Random(args.seed)
        virtual = make_team(1, rng)[0]
        first_rep = recorder.count_runs(drill.slug, athlete_id) + 1
        for i in range(args.reps):
            rep = first_rep + i
            done = services.coordinator.begin(
                drill, athlete_id, args.athlete, rep, start_within_s=args.start_within,
                rng=random.Random(f"{args.seed}:{rep}"),
            )  # fmt: skip
            if rig is not None:
                rig.run_rep(drill, virtual, rng, go=services.coordinator.go, lead_s=0.2)
            elif not args.json:
                print(f"rep {rep}: ready, {args.athlete} may go", flush=True)
            outcome = await done
            splits = {s.name: s.elapsed_us / 1e6 for s in outcome.splits}
            if args.json:
                line = {
                    "drill": drill.slug, "athlete": args.athlete, "rep": rep,
                    "state": outcome.state.value, "splits": splits,
                    "total_s": None if outcome.total_us is None else outcome.total_us / 1e6,
                }  # fmt: skip
                print(json.dumps(line), flush=True)
            else:
                shown = "  ".join(f"{k} {v:.3f} s" for k, v in splits.items())
                print(f"rep {rep}: {outcome.state.value}  {shown}", flush=True)
            if rig is not None:
                await asyncio.sleep(0.3)  # let the body clear the last beam before the next rep
    finally:
        await services.devices.close_all()
        if rig is not None:
            rig.stop()
        services.engine.dispose()
    return 0


def _cmd_devices(args: argparse.Namespace) -> int:
    report = asyncio.run(_probe_devices(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    ports = report["ports"]
    if not ports:
        print("no serial ports found")
    for port in ports:
        usb = port["usb"] or "no USB id"
        mark = "probed" if port["probed"] else "not ours (add --usb-id or --port to probe)"
        print(f"{port['port']:<22} {usb:<10} {port['description']}  [{mark}]")
    devices = report["devices"]
    if not devices:
        print("no devices answered" if any(p["probed"] for p in ports) else "")
        return 0
    print()
    print(f"{'device':<16} {'state':<12} {'fw':<7} {'proto':<5} {'battery':<8} "
          f"{'beams':<12} {'sync':<10} port")  # fmt: skip
    for d in devices:
        no_status = d["battery"] is None and d["link"] is None and not d["beams"]
        battery = "-" if no_status else "mains" if d["battery"] is None else f"{d['battery']} %"
        beams = ",".join("-" if b is None else f"{b}%" for b in d["beams"]) or "-"
        sync = "-" if d["sync_error_us"] is None else f"±{d['sync_error_us'] / 1000:.2f} ms"
        print(f"{d['key']:<16} {d['state']:<12} {d['firmware']:<7} {d['protocol']:<5} "
              f"{battery:<8} {beams:<12} {sync:<10} {d['port']}#{d['address']}")  # fmt: skip
        if d["message"]:
            print(f"  ! {d['message']}")
    return 0


async def _probe_devices(args: argparse.Namespace) -> dict[str, Any]:
    from hardware.discovery import DEFAULT_USB_IDS, PortMatcher, system_ports
    from server.devices.service import DeviceManager

    matcher = PortMatcher((*DEFAULT_USB_IDS, *args.usb_id))
    ports: list[dict[str, Any]] = []
    probe: list[str] = list(args.port)
    for record in system_ports():
        ours = matcher(record)
        usb = None if record.vid is None else f"{record.vid:04X}:{record.pid or 0:04X}"
        ports.append({"port": record.device, "usb": usb, "serial_number": record.serial_number,
                      "description": record.description, "probed": ours})  # fmt: skip
        if ours and record.device not in probe:
            probe.append(record.device)
    for path in args.port:
        if all(p["port"] != path for p in ports):
            ports.append({"port": path, "usb": None, "serial_number": None,
                          "description": "given with --port", "probed": True})  # fmt: skip
    manager = DeviceManager(lambda _event: None)
    errors: list[str] = []
    try:
        for path in probe:
            try:
                await manager.open(path)
            except HardwareError as exc:
                errors.append(str(exc))
        deadline = asyncio.get_running_loop().time() + args.wait
        while asyncio.get_running_loop().time() < deadline:
            states = manager.registry.all()
            if states and all(s.ready or s.unsupported for s in states):
                break
            await asyncio.sleep(0.1)
        devices = manager.snapshot()
    finally:
        await manager.close_all()
    return {"ports": ports, "devices": devices, "errors": errors}


def _cmd_drills_list(args: argparse.Namespace) -> int:
    from server.catalog.service import Catalog

    catalog = Catalog.load()
    rows = [
        {"slug": d.slug, "name": d.name, "direction": d.direction.value,
         "category": d.category.value, "twin": d.twin}
        for d in sorted(catalog.drills.values(), key=lambda d: d.slug)
    ]  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['slug']:<28} {row['direction']:<9} {row['name']}")
    return 0


def _cmd_drills_check(args: argparse.Namespace) -> int:
    from drills.loader import LIBRARY_DIR

    paths = args.paths or [LIBRARY_DIR]
    errors = check_paths(paths)
    for err in errors:
        print(err)
    if errors:
        print(f"{len(errors)} problem(s) found", file=sys.stderr)
        return 1
    print("all drill files are valid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
