"""Server settings. Few on purpose: a value nobody would sensibly change stays a constant."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from server.auth.forwarded import TrustedProxies

DEFAULT_DB = "var/agility.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@dataclass(frozen=True)
class Settings:
    db: str = field(default_factory=lambda: os.environ.get("AGILITY_DB", DEFAULT_DB))
    """SQLite file path, or a database URL (postgresql://user@host/db)."""
    host: str = DEFAULT_HOST
    """127.0.0.1 keeps the server on this laptop; `--lan` opens it to athletes' phones."""
    port: int = DEFAULT_PORT
    devices: tuple[str, ...] = ()
    """Serial ports (or pyserial URLs) to open at start."""
    usb_ids: tuple[tuple[int, int], ...] = ()
    """USB VID:PID pairs whose ports are opened as they are plugged in (hot-plug)."""
    demo: bool = False
    """Run the simulated team through simulated gates."""
    seed: int = 1
    """Seed of the demo's random athletes and devices, so a demo can be replayed."""
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; none
    by default, so no header can make a phone look like the laptop (server/auth/forwarded.py)."""

    def __post_init__(self) -> None:
        TrustedProxies.parse(self.trusted_proxies)  # a wrong address fails here, not later
