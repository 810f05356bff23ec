"""Device and layout routes (coach only): thin, the logic is in service.py and layouts.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, delete, get, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from hardware.errors import HardwareError
from server.auth.guards import requires_coach
from server.config import Settings
from server.devices.layouts import LayoutInfo, LayoutService
from server.devices.service import DeviceService
from server.errors import InvalidInputError
from server.lan import lan_url, listens_on_lan, qr_svg


def _bad_port(problem: str) -> InvalidInputError:
    error = InvalidInputError(problem, [problem])
    return error


@dataclass
class TestModeRequest:
    on: bool


@dataclass
class AddPortRequest:
    port: str
    """A serial port: `/dev/ttyUSB0` (protocol v1), `chronopic:/dev/ttyUSB0`, `timy:COM3` or
    `timy:/dev/ttyUSB1@38400`."""


@dataclass
class LayoutRequest:
    """PUT /api/layouts/{name}; other keys are ignored, as they always were."""

    bindings: dict[str, Any] | None = None
    """{"role": {"device": "<key from /api/devices>", "channel": 0}}, each binding with an
    optional "trigger", "rearm_ms" and "window_ms", or {"device", "channels": [top, bottom],
    "trigger": "dual-beam"}. Each binding is checked by server/devices/layouts.py, which
    names every problem with its role and field."""


MAX_PORT_CHARS = 200


class DevicesController(Controller):
    path = "/api"
    tags = ("devices",)
    guards = (requires_coach,)

    @get("/devices", sync_to_thread=False)
    def list_devices(self, devices: DeviceService) -> list[dict[str, Any]]:
        """Every identified device: kind, id, port, battery, beams, clock sync, state, link
        counters (`port_stats`, with `dropped_new_devices`) and `last_event_s_ago`; then a
        row with `problem` true and a `message` per port that could not be opened (in use by
        another program, permission denied)."""
        return devices.devices_page()

    @get("/devices/test", sync_to_thread=False)
    def get_test_mode(self, devices: DeviceService) -> dict[str, bool]:
        return {"on": devices.test_mode}

    @post("/devices/test", sync_to_thread=False, status_code=HTTP_200_OK)
    def set_test_mode(self, data: TestModeRequest, devices: DeviceService) -> dict[str, bool]:
        """While on, every beam edge and touch is pushed on /ws/live as
        {"type": "device", "device", "channel", "kind"}."""
        devices.test_mode = data.on
        return {"on": devices.test_mode}

    @post("/devices/ports", status_code=HTTP_200_OK)
    async def add_port(self, data: AddPortRequest, devices: DeviceService) -> list[dict[str, Any]]:
        """Open a port by hand ("add a device on a port"): a Chronopic or a Timy, or a port
        that is not found by its USB identity. Answers the device list; 400 with the reason
        when the port cannot be opened or does not answer as the kind it is given as."""
        port = data.port.strip()
        if not port or len(port) > MAX_PORT_CHARS or "\x00" in port:
            raise _bad_port(f"port: a serial port of 1 to {MAX_PORT_CHARS} characters")
        try:
            await devices.open(port)
        except (ValueError, HardwareError) as exc:  # a prefix written wrong; no such device
            raise _bad_port(f"port: {exc}") from None
        return devices.devices_page()

    @get("/layouts", sync_to_thread=True)
    def list_layouts(self, layouts: LayoutService) -> list[LayoutInfo]:
        return layouts.layouts()

    @put("/layouts/{name:str}", sync_to_thread=True)
    def put_layout(self, name: str, data: LayoutRequest, layouts: LayoutService) -> LayoutInfo:
        """Creates or replaces the layout `name`; every binding is checked first."""
        return layouts.put(name, data.bindings)

    @delete("/layouts/{name:str}", sync_to_thread=True, status_code=HTTP_204_NO_CONTENT)
    def delete_layout(self, name: str, layouts: LayoutService) -> None:
        layouts.delete(name)

    # On the loop: it swaps the bindings the device events are read against.
    @post("/layouts/{name:str}/apply", sync_to_thread=False, status_code=HTTP_200_OK)
    def apply_layout(self, name: str, layouts: LayoutService) -> LayoutInfo:
        """Bind drill roles to devices as the layout says, from the next rep on."""
        return layouts.apply(name)

    @get("/lan", sync_to_thread=False)
    def lan(self, app_settings: Settings) -> dict[str, Any]:
        """The address phones open, and its QR code as inline SVG; `lan` is false when the
        server listens on this laptop only (start it with `--lan` for phones)."""
        url = lan_url(app_settings.port)
        return {"url": url, "qr_svg": qr_svg(url), "lan": listens_on_lan(app_settings.host)}
