"""Two devices reporting one id on two ports both show, and keep their own events (issue 16,
item 11); simulated hubs get distinct ids even when started from the same seed."""

from __future__ import annotations

import time

from hardware.device import DeviceEvent
from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from server.catalog.service import Catalog
from server.devices.service import DeviceService
from server.sim.rig import SimRig
from tests.hardware.host_fake import run
from tests.support import wait_until_async

MS = 1_000_000
SHARED_ID = 0x00AB12CD


def test_two_hubs_with_one_id_on_two_ports_both_appear() -> None:
    # Same id and same seed: the same boot id too, as two boards flashed alike may have.
    hubs = [PluggedDevice(device_id=SHARED_ID, seed=3), PluggedDevice(device_id=SHARED_ID, seed=3)]
    ports = [hub.start() for hub in hubs]

    async def scenario() -> None:
        events: list[DeviceEvent] = []
        manager = DeviceService(events.append)
        try:
            for port in ports:
                session = await manager.open(port)
                await session.wait_ready(timeout_s=3.0)
            rows = manager.devices_page()
            assert sorted(r["port"] for r in rows) == sorted(ports)
            assert [r["state"] for r in rows] == ["ready", "ready"]
            keys = [r["key"] for r in rows]
            assert keys == ["hub-00AB12CD", f"hub-00AB12CD@{ports[1]}"]
            assert rows[0]["message"] is None
            assert "share one id" in rows[1]["message"]

            # Each keeps its own events: neither is taken for a repeat of the other's.
            for hub in hubs:
                hub.schedule_edge(0, EventKind.BEAM_BROKEN, time.monotonic_ns() + 20 * MS)
            await wait_until_async("an event from each hub", lambda: len(events) == 2, 2.0)
            assert sorted(e.device for e in events) == sorted(keys)
            assert all(e.seq == 0 for e in events)
            # The first is still served on its own port: the second did not steal it.
            assert [manager.sessions[p].devices[0].key for p in ports] == keys
        finally:
            await manager.close_all()

    try:
        run(scenario)
    finally:
        for hub in hubs:
            hub.stop()


def test_a_device_moved_to_another_port_is_still_the_same_device() -> None:
    hub = PluggedDevice(device_id=SHARED_ID, seed=4)
    first = hub.start()

    async def scenario() -> None:
        manager = DeviceService(lambda _event: None)
        try:
            await (await manager.open(first)).wait_ready(timeout_s=3.0)
            state = manager.registry.by_key("hub-00AB12CD")
            assert state is not None
            hub.unplug()
            await wait_until_async("lost", lambda: state.state == "lost", 2.0)
            await (await manager.open(hub.replug())).wait_ready(timeout_s=3.0)
            assert [r["key"] for r in manager.snapshot()] == ["hub-00AB12CD"]
            assert manager.registry.by_key("hub-00AB12CD") is state
        finally:
            await manager.close_all()

    try:
        run(scenario)
    finally:
        hub.stop()


def test_simulated_hubs_from_one_seed_get_distinct_ids() -> None:
    drill = Catalog.load().get("backward-sprint-10m")

    async def scenario() -> list[str]:
        manager = DeviceService(lambda _event: None)
        rigs = []
        try:
            for _ in range(2):  # the demo's first lane and the plan simulator: one seed
                rigs.append(await SimRig.start(manager, drill, seed=1))
            return [rig.key for rig in rigs]
        finally:
            await manager.close_all()
            for rig in rigs:
                rig.stop()

    keys = run(scenario)
    assert len(set(keys)) == 2 and all("@" not in key for key in keys)
