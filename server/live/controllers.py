"""WebSocket endpoint of the live feed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from server.live.hub import LiveHub


@websocket("/ws/live")
async def live_feed(socket: WebSocket[Any, Any, Any], live_hub: LiveHub) -> None:
    """Pushes JSON messages: `split` as each split is committed, `run` when a rep ends."""
    await socket.accept()
    queue = live_hub.subscribe()
    # Reading is the only way to learn that the client left; nothing it sends is used.
    reader = asyncio.create_task(_drain(socket))
    try:
        await socket.send_json({"type": "hello", "clients": live_hub.client_count})
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                break
            text = getter.result()
            if text is None:
                break
            await socket.send_text(text)
    except WebSocketDisconnect:
        pass
    finally:
        live_hub.unsubscribe(queue)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await reader
        with contextlib.suppress(Exception):
            await socket.close()


async def _drain(socket: WebSocket[Any, Any, Any]) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await socket.receive_data(mode="text")
