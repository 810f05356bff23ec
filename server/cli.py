"""The `agility` command: serve, demo, headless runs, migrations and drill checks."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drills import DrillFileError, check_paths
from hardware.errors import HardwareError
from server.auth.forwarded import parse_proxy
from server.config import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, Settings
from server.db.session import migrate, normalise_url
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

    from server.devices import cli as devices_cli

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
        type=devices_cli.usb_id_arg,
        default=[],
        metavar="VID:PID",
        help="also open ports with this USB identity as they are plugged in (repeatable; "
        "the reference firmware's 1209:A617 is always included; CH340 and FTDI ports of "
        "Nano clones are probed with IDENTIFY and opened if they answer)",
    )
    proxy_option(serve)
    serve.set_defaults(func=_cmd_serve, demo=False, seed=1)

    demo = sub.add_parser("demo", help="the whole product on simulated gates and athletes")
    db_option(demo)
    demo.add_argument("--host", default=DEFAULT_HOST)
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--lan", action="store_true", help="open to the local network")
    demo.add_argument("--seed", type=int, default=1, help="seed of the virtual squad")
    proxy_option(demo)
    demo.set_defaults(func=_cmd_serve, demo=True, device=[], usb_id=None)

    devices_cli.add_parser(sub)

    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    db_option(mig)
    mig.set_defaults(func=_cmd_migrate)

    from server.runs import cli as runs_cli

    runs_cli.add_parser(sub, db_option)

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


TRUSTED_PROXIES_ENV = "AGILITY_TRUSTED_PROXIES"


def _proxy_arg(value: str) -> str:
    try:
        parse_proxy(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value.strip()


def proxy_option(sp: argparse.ArgumentParser) -> None:
    """`--trusted-proxy`: none unless given (or set in $AGILITY_TRUSTED_PROXIES, commas between)."""
    sp.add_argument(
        "--trusted-proxy", action="append", type=_proxy_arg, default=None, metavar="ADDR",
        help="a reverse proxy in front of the server (address or network, repeatable): its "
        "X-Forwarded-For names the client; without it the header is ignored "
        f"(default: ${TRUSTED_PROXIES_ENV}, else none)",
    )  # fmt: skip


def _trusted_proxies(args: argparse.Namespace) -> tuple[str, ...]:
    if args.trusted_proxy:
        return tuple(args.trusted_proxy)
    from_env = [v.strip() for v in os.environ.get(TRUSTED_PROXIES_ENV, "").split(",")]
    for value in from_env:
        if value:
            try:
                parse_proxy(value)
            except ValueError as exc:
                raise ValueError(f"${TRUSTED_PROXIES_ENV}: {exc}") from exc
    return tuple(v for v in from_env if v)


def uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """How `agility serve` and `agility demo` start uvicorn.

    uvicorn's own proxy handling is off: on, it believes X-Forwarded-For from 127.0.0.1 by
    default, and from anyone with FORWARDED_ALLOW_IPS=*, and a phone could then claim to be
    the laptop. The app reads the header itself, from --trusted-proxy addresses only
    (server/auth/forwarded.py)."""
    return {
        "host": host,
        "port": port,
        "log_level": "info",
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        "proxy_headers": False,
        "forwarded_allow_ips": [],
    }


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
    try:
        trusted_proxies = _trusted_proxies(args)
    except ValueError as exc:
        print(f"agility: error: {exc}", file=sys.stderr)
        return 2
    _migrate(args.db)
    from hardware.discovery import DEFAULT_USB_IDS

    settings = Settings(
        db=args.db,
        host=host,
        port=args.port,
        devices=tuple(args.device),
        usb_ids=() if args.demo else (*DEFAULT_USB_IDS, *args.usb_id),
        demo=args.demo,
        seed=args.seed,
        trusted_proxies=trusted_proxies,
    )
    if os.environ.get("FORWARDED_ALLOW_IPS"):
        log.warning("FORWARDED_ALLOW_IPS is ignored; name a reverse proxy with --trusted-proxy")
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
    uvicorn.run(app, **uvicorn_options(host, args.port))
    return 0


SQLITE_MAGIC = b"SQLite format 3\x00"


def _migrate(db: str) -> None:
    """`migrate`, with a one-line error for a file that is not a database (a CSV export, a
    plan) or a database that cannot be reached, instead of SQLAlchemy's traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    url = normalise_url(db)  # an unsupported URL raises a one-line AppError
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.is_dir():
            raise AppError(f"{db} is a folder, not a database file")
        if path.is_file() and path.stat().st_size > 0:
            with path.open("rb") as file:
                head = file.read(len(SQLITE_MAGIC))
            if head != SQLITE_MAGIC:
                raise AppError(f"{db} is not an SQLite database; give the database file "
                               "(default var/agility.db) or a postgresql:// URL")  # fmt: skip
    try:
        migrate(db)
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
        raise AppError(f"cannot migrate {db}: {first}") from None


def _cmd_migrate(args: argparse.Namespace) -> int:
    _migrate(args.db)
    print(f"database {args.db} is at the latest schema")
    return 0


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
