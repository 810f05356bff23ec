"""A device bound to a station's role is never forgotten for going quiet: the registry's keep
check (hardware/registry.py) is wired to every station's layout by the app."""

from __future__ import annotations

from contextlib import closing

from hardware.sim.plugged import PluggedDevice
from server.db.session import migrate
from tests.auth_support import login_client, serve


def test_a_bound_device_is_kept_and_an_unbound_one_is_not(sqlite_db: str) -> None:
    migrate(sqlite_db)
    hub = PluggedDevice(device_id=0x5400_0001, channels=4, seed=3)
    try:
        with serve(sqlite_db, (hub.start(),)) as live:
            registry = live.services.devices.registry
            (state,) = [s for s in registry.all() if s.connected]
            assert not registry.keep(state)
            lane = {"start": {"device": state.key, "channel": 0},
                    "finish": {"device": state.key, "channel": 1}}  # fmt: skip
            with closing(login_client(live.base_url, live.services.engine)) as coach:
                res = coach.put("/api/stations/lane", json={"bindings": lane})
                assert res.status_code == 200, res.text
                assert registry.keep(state)
                assert coach.delete("/api/stations/lane").status_code == 204
                assert not registry.keep(state)
    finally:
        hub.stop()
