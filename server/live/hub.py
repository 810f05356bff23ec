"""The push channel: every connected page gets every message, each through its own queue.

A slow client must not hold up the others or the run that produced the message, so each
subscriber has a bounded queue; one that falls too far behind is dropped and reconnects.

Every message is numbered (`seq`, one counter per server start) and carries the server's
`epoch`, and the last HISTORY_LIMIT are kept, so a page that reconnects can ask for what it
missed (`since`) instead of reloading everything; a page of another epoch must reload.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import threading
from collections import deque
from typing import Any, Protocol

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
HISTORY_LIMIT = 1000

Message = dict[str, Any]


class Redactor(Protocol):
    """Rewrites athlete names in a message as the privacy setting says (server/live/privacy)."""

    @property
    def mode(self) -> str:
        """The setting the last message was rewritten under."""

    def __call__(self, message: Message) -> Message: ...

    def current_mode(self) -> str: ...


class LiveHub:
    def __init__(self, history: int = HISTORY_LIMIT, redact: Redactor | None = None) -> None:
        self._subscribers: set[asyncio.Queue[str | None]] = set()
        self.published = 0
        # Random, so two server starts within one second never share an epoch.
        self.epoch = secrets.token_hex(6)
        self.seq = 0
        # (seq, text as sent, privacy mode it was written under)
        self._history: deque[tuple[int, str, str]] = deque(maxlen=history)
        # Numbering and the history are shared with threads that publish (sync routes run in
        # a worker thread); queues are touched only on the loop that subscribed them.
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Numbered but not yet queued, oldest first: the loop empties it in seq order, so a
        # message published from a thread never reaches a page after a later one.
        self._outbox: deque[str] = deque()
        # Rewrites a message before anyone sees it (athlete names per the privacy setting).
        self.redact = redact

    @property
    def client_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> asyncio.Queue[str | None]:
        """A queue of every message published from now on; call on the loop that reads it.

        `seq` read right after is what the page has seen; a message numbered in another
        thread just before may still arrive, so pages ignore a `seq` they already have.
        """
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._subscribers.discard(queue)

    def publish(self, message: Message) -> None:
        """Called only after the data in `message` is committed (DESIGN.md: commit, then push)."""
        mode = ""
        if self.redact is not None:
            message = self.redact(message)
            mode = self.redact.mode
        with self._lock:
            self.seq += 1
            stamped = {**message, "seq": self.seq, "epoch": self.epoch}
            text = json.dumps(stamped, separators=(",", ":"))
            self._history.append((self.seq, text, mode))
            self.published += 1
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            self._outbox.append(text)
        if _running_loop() is loop:
            self._flush()
        else:
            loop.call_soon_threadsafe(self._flush)

    def since(self, epoch: str, seq: int) -> list[str] | None:
        """Messages after `seq` as sent, oldest first; None when the page must reload instead
        (another server start, older than the history holds, or names written under another
        privacy setting than today's)."""
        mode = "" if self.redact is None else self.redact.current_mode()
        with self._lock:
            if epoch != self.epoch or seq < 0 or seq > self.seq:
                return None
            oldest = self._history[0][0] if self._history else self.seq + 1
            if seq + 1 < oldest:
                return None
            skip = len(self._history) - (self.seq - seq)
            missed = list(itertools.islice(self._history, skip, None))
        if any(written != mode for _, _, written in missed):
            return None
        return [text for _, text, _ in missed]

    def _flush(self) -> None:
        with self._lock:
            texts = list(self._outbox)
            self._outbox.clear()
        for text in texts:
            self._fan_out(text)

    def _fan_out(self, text: str) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(text)
            except asyncio.QueueFull:
                log.warning("live client fell %d messages behind; dropping it", QUEUE_LIMIT)
                self._subscribers.discard(queue)
                # Make room for the sentinel that tells its sender loop to close.
                queue.get_nowait()
                queue.put_nowait(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
