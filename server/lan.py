"""The address athletes' phones use on the local network, as text and as a QR code.

`agility serve --lan` listens on every interface; the coach shows the QR code (terminal or
console) so nobody types an IP address on a phone at the side of a pitch.
"""

from __future__ import annotations

import socket
import sys
from typing import TextIO

import segno

# Any address outside this host: connecting a UDP socket sends nothing, it only makes the
# kernel pick the interface (and so the address) that would reach the local network.
_PROBE = ("10.255.255.255", 1)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def lan_address() -> str:
    """This host's address on the local network; 127.0.0.1 when there is no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(_PROBE)
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def lan_url(port: int, address: str | None = None) -> str:
    return f"http://{address or lan_address()}:{port}/"


def listens_on_lan(host: str) -> bool:
    """Whether phones can reach a server bound to `host` at all."""
    return host not in LOOPBACK_HOSTS


def _qr(url: str) -> segno.QRCode:
    # Level M: still reads with a smudge or glare on a laptop screen in the sun.
    return segno.make_qr(url, error="m")


def qr_svg(url: str) -> str:
    """An inline SVG (no XML declaration, no links to anything), black on white."""
    return str(_qr(url).svg_inline(scale=6, dark="#000", light="#fff"))


def print_qr(url: str, out: TextIO | None = None) -> None:
    """The QR code in a terminal, two modules per character cell (half-block characters)."""
    _qr(url).terminal(out=out or sys.stdout, compact=True)
