"""The app on loopback with one simulated hub plugged in: the set-up of the server tests that
drive a station through a hub's beams."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hardware.sim.plugged import PluggedDevice
from tests.auth_support import LiveServer, serve


@contextmanager
def serve_with_hub(db: str, hub: PluggedDevice) -> Iterator[tuple[LiveServer, str]]:
    """The app told to open `hub`'s port: the server and the hub's device key. The hub is
    stopped after, also when the server would not start, since its pty thread runs already."""
    try:
        with serve(db, (hub.start(),)) as live:
            yield live, live.services.devices.snapshot()[0]["key"]
    finally:
        hub.stop()
