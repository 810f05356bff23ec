"""Live feed numbering and catch-up: the hub alone, then `/ws/live` and `/api/live/since` over
real HTTP on a loopback port."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from server.db.session import migrate
from server.live.hub import HISTORY_LIMIT, LiveHub
from tests.auth_support import serve
from tests.support import wait_until_async


def _texts(queue: asyncio.Queue[str | None]) -> list[dict[str, Any]]:
    out = []
    while not queue.empty():
        item = queue.get_nowait()
        assert item is not None
        out.append(json.loads(item))
    return out


def test_every_message_is_numbered_and_stamped_with_the_epoch() -> None:
    hub = LiveHub()

    async def body() -> list[dict[str, Any]]:
        queue = hub.subscribe()
        for i in range(3):
            hub.publish({"type": "split", "i": i})
        return _texts(queue)

    got = asyncio.run(body())
    assert [m["seq"] for m in got] == [1, 2, 3]
    assert {m["epoch"] for m in got} == {hub.epoch}
    assert [m["i"] for m in got] == [0, 1, 2]
    assert LiveHub().epoch != hub.epoch, "two server starts must not share an epoch"


def test_since_returns_exactly_the_missed_messages() -> None:
    hub = LiveHub()
    for i in range(10):
        hub.publish({"type": "run", "i": i})
    missed = hub.since(hub.epoch, 6)
    assert missed is not None
    assert [json.loads(t)["seq"] for t in missed] == [7, 8, 9, 10]
    assert hub.since(hub.epoch, 10) == []
    assert hub.since(hub.epoch, 0) is not None and len(hub.since(hub.epoch, 0) or []) == 10


@pytest.mark.parametrize(
    ("epoch", "seq", "why"),
    [
        ("another-start", 3, "another epoch"),
        (None, 11, "ahead of the server (cannot happen within one epoch)"),
        (None, -1, "negative"),
    ],
)
def test_since_asks_for_a_reload_when_it_cannot_say(epoch: str | None, seq: int, why: str) -> None:
    hub = LiveHub()
    for i in range(10):
        hub.publish({"type": "run", "i": i})
    assert hub.since(epoch or hub.epoch, seq) is None, why


def test_history_keeps_the_last_thousand() -> None:
    hub = LiveHub()
    total = HISTORY_LIMIT + 25
    for i in range(total):
        hub.publish({"type": "split", "i": i})
    oldest_kept = total - HISTORY_LIMIT + 1
    assert hub.since(hub.epoch, oldest_kept - 2) is None, "one message too far back"
    missed = hub.since(hub.epoch, oldest_kept - 1)
    assert missed is not None and len(missed) == HISTORY_LIMIT
    assert json.loads(missed[0])["seq"] == oldest_kept


def test_a_publish_from_another_thread_reaches_the_loop() -> None:
    """Sync routes run in worker threads; their messages must still reach every client."""
    hub = LiveHub()

    async def body() -> dict[str, Any]:
        queue = hub.subscribe()
        worker = threading.Thread(target=hub.publish, args=({"type": "correction"},))
        worker.start()
        worker.join()
        text = await asyncio.wait_for(queue.get(), 2)
        assert text is not None
        return dict(json.loads(text))

    assert asyncio.run(body())["type"] == "correction"


def test_messages_reach_pages_in_seq_order_whichever_thread_published() -> None:
    hub = LiveHub()

    async def body() -> list[int]:
        queue = hub.subscribe()
        worker = threading.Thread(target=hub.publish, args=({"type": "split", "by": "thread"},))
        worker.start()
        worker.join()  # numbered 1 in the thread; the loop has not queued it yet
        hub.publish({"type": "split", "by": "loop"})  # numbered 2, on the loop
        await wait_until_async("both messages queued", lambda: queue.qsize() >= 2)
        return [m["seq"] for m in _texts(queue)]

    assert asyncio.run(body()) == [1, 2]


def test_catch_up_over_http(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        live = server.services.live
        ws_url = server.base_url.replace("http://", "ws://") + "/ws/live"
        with connect(ws_url, open_timeout=5) as ws:
            hello = json.loads(ws.recv(timeout=5))
            assert hello["type"] == "hello"
            assert hello["epoch"] == live.epoch
            start = hello["seq"]
            live.publish({"type": "split", "drill": "sprint-10m", "n": 1})
            pushed = json.loads(ws.recv(timeout=5))
            assert (pushed["seq"], pushed["epoch"], pushed["n"]) == (start + 1, live.epoch, 1)
        # The page is away while three more messages go out.
        for n in (2, 3, 4):
            live.publish({"type": "split", "drill": "sprint-10m", "n": n})
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            res = client.get("/api/live/since", params={"epoch": live.epoch, "seq": start + 1})
            assert res.status_code == 200, res.text
            body = res.json()
            assert body["reload"] is False
            assert [m["n"] for m in body["messages"]] == [2, 3, 4]
            assert [m["seq"] for m in body["messages"]] == [start + 2, start + 3, start + 4]
            stale = client.get("/api/live/since", params={"epoch": "gone", "seq": 1}).json()
            assert stale["reload"] is True and stale["messages"] == []
            for n in range(HISTORY_LIMIT + 1):
                live.publish({"type": "split", "n": n})
            behind = client.get("/api/live/since", params={"epoch": live.epoch, "seq": start + 4})
            assert behind.json()["reload"] is True, "more than the history holds: reload"


def test_the_feed_is_sent_uncompressed_though_a_browser_offers_deflate(sqlite_db: str) -> None:
    """Messages are a few hundred bytes and go to every phone: compressing each one for each
    client cost the server more than the send. A browser's offer of permessage-deflate (the
    client here makes it too) is declined by the server as `agility serve` starts it."""
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        ws_url = server.base_url.replace("http://", "ws://") + "/ws/live"
        with connect(ws_url, open_timeout=5, compression="deflate") as ws:
            offered = ws.request.headers.get("Sec-WebSocket-Extensions", "") if ws.request else ""
            assert "permessage-deflate" in offered
            assert json.loads(ws.recv(timeout=5))["type"] == "hello"
            assert ws.response is not None
            assert "Sec-WebSocket-Extensions" not in ws.response.headers
            assert ws.protocol.extensions == []
