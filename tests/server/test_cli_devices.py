"""`agility devices` against simulated devices on a real pty, in a separate process."""

from __future__ import annotations

import json
import subprocess
import sys

from hardware.messages import DeviceKind
from hardware.sim.device import VirtualDevice
from hardware.sim.port import VirtualPort


def test_devices_lists_each_device_and_names_an_unsupported_version() -> None:
    hub = VirtualDevice(DeviceKind.HUB, 0x00AB12CD, seed=1, beam_alignment=(96, 41))
    gate = VirtualDevice(DeviceKind.GATE, 0x00000042, seed=2, battery_pct=57)
    future = VirtualDevice(DeviceKind.GATE, 0x00000099, versions=(2,), seed=3)
    port = VirtualPort([hub, gate, future], seed=4)
    path = port.start()
    try:
        res = subprocess.run(
            [sys.executable, "-m", "server.cli", "devices", "--json", "--port", path,
             "--wait", "3"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    finally:
        port.stop()
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert any(p["port"] == path and p["probed"] for p in report["ports"])
    found = {d["key"]: d for d in report["devices"]}
    assert set(found) == {"hub-00AB12CD", "gate-00000042", "gate-00000099"}
    h = found["hub-00AB12CD"]
    assert (h["kind"], h["address"], h["protocol"], h["firmware"]) == ("hub", 0, 1, "1.0.0")
    assert h["beams"] == [96, 41]
    assert h["battery"] is None, "a hub on mains reports no battery"
    assert h["state"] in {"ready", "syncing"}
    g = found["gate-00000042"]
    assert (g["kind"], g["address"], g["battery"]) == ("gate", 1, 57)
    f = found["gate-00000099"]
    assert f["state"] == "unsupported"
    assert "version 2" in f["message"] and "1 to 1" in f["message"]
    assert "version 2" in res.stderr, "the log names the unsupported version too"


def test_devices_with_nothing_plugged_in_says_so() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "server.cli", "devices", "--wait", "0.2"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
