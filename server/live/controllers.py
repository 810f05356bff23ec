"""WebSocket endpoint of the live feed, and the catch-up route for pages that reconnect."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import MediaType, Response, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect

from server.live.hub import LiveHub
from server.live.messages import LiveType


@websocket("/ws/live")
async def live_feed(socket: WebSocket[Any, Any, Any], live_hub: LiveHub) -> None:
    """Pushes JSON messages: `split` as each split is committed, `run` when a rep ends.

    The first message, `hello`, carries the `epoch` and the `seq` the page is now at: with
    the `seq` it had before a disconnect, that is the gap `/api/live/since` fills.
    """
    await socket.accept()
    queue = live_hub.subscribe()
    seen = live_hub.seq
    # Reading is the only way to learn that the client left; nothing it sends is used. The
    # reader then wakes the sender with the sentinel: one task per client, not one per message
    # (with a squad's phones on the feed, that overhead was most of the fan-out time).
    reader = asyncio.create_task(_drain(socket, queue))
    try:
        await socket.send_json(
            {"type": LiveType.HELLO, "clients": live_hub.client_count, "epoch": live_hub.epoch,
             "seq": seen}
        )  # fmt: skip
        while (text := await queue.get()) is not None:
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


async def _drain(socket: WebSocket[Any, Any, Any], queue: asyncio.Queue[str | None]) -> None:
    try:
        while True:
            await socket.receive_data(mode="text")
    except WebSocketDisconnect:
        pass
    finally:
        # A full queue means the sender is busy and will fail on its next send instead.
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(None)


@get("/api/live/since", sync_to_thread=False, tags=["live"], media_type=MediaType.JSON)
def live_since(live_hub: LiveHub, epoch: str, seq: int) -> Response[bytes]:
    """The messages after `seq` of server start `epoch`, exactly as `/ws/live` sent them:
    `{"reload": false, "epoch", "messages": [...]}`; or `{"reload": true, ...}` when
    they are no longer kept (another epoch, or more than the last 1,000 messages ago), and
    the page must reload its boards instead."""
    missed = live_hub.since(epoch, seq)
    head = f'{{"epoch":"{live_hub.epoch}",'
    if missed is None:
        body = head + '"reload":true,"messages":[]}'
    else:
        body = head + '"reload":false,"messages":[' + ",".join(missed) + "]}"
    return Response(body.encode(), media_type=MediaType.JSON)
