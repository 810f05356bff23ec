"""Stopping background tasks the one way both the device loop and the port watcher need."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait for it to finish, so nothing of it runs after the caller stops.

    The task's own CancelledError is the expected way it ends, so it is swallowed here; any
    other error it raised on the way out still propagates.
    """
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
