"""The push channel: every connected page gets every message, each through its own queue.

A slow client must not hold up the others or the run that produced the message, so each
subscriber has a bounded queue; one that falls too far behind is dropped and reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000


class LiveHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[str | None]] = set()
        self.published = 0

    @property
    def client_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._subscribers.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        """Called only after the data in `message` is committed (DESIGN.md: commit, then push)."""
        text = json.dumps(message, separators=(",", ":"))
        self.published += 1
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(text)
            except asyncio.QueueFull:
                log.warning("live client fell %d messages behind; dropping it", QUEUE_LIMIT)
                self._subscribers.discard(queue)
                # Make room for the sentinel that tells its sender loop to close.
                queue.get_nowait()
                queue.put_nowait(None)
