"""A host process for the kill-and-restart test: the real driver, events printed as they come.

`python -m tests.firmware.host_proc PORT` opens PORT with hardware.device.PortSession, prints
`ready` once the device is, then one line per delivered event: `event SEQ CHANNEL KIND TICKS`.
The test kills it with SIGKILL, as a crashed laptop program would die: nothing is closed
cleanly and no last acknowledgement is sent.
"""

from __future__ import annotations

import asyncio
import sys

from hardware.device import DeviceEvent, PortSession


def _print(event: DeviceEvent) -> None:
    print(f"event {event.seq} {event.channel} {int(event.kind)} {event.ticks}", flush=True)


async def _serve(port: str) -> None:
    session = PortSession(port, on_event=_print)
    await session.start()
    await session.wait_ready(timeout_s=20.0)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
