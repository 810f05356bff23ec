"""`agility serve` and `agility demo`: the app on uvicorn, after the checks that turn a busy
port or a bad proxy address into one line instead of a traceback."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from typing import Any

from server.auth.forwarded import parse_proxy
from server.config import Settings
from server.db.cli import checked_migrate

log = logging.getLogger("agility")

TRUSTED_PROXIES_ENV = "AGILITY_TRUSTED_PROXIES"


def proxy_arg(value: str) -> str:
    """argparse type for --trusted-proxy: an address or a network."""
    try:
        parse_proxy(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value.strip()


def _trusted_proxies(args: argparse.Namespace) -> tuple[str, ...]:
    """--trusted-proxy if given, else $AGILITY_TRUSTED_PROXIES (commas between), else none."""
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


def cmd_serve(args: argparse.Namespace) -> int:
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
    checked_migrate(args.db)
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
