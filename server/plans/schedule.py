"""A plan session's jobs on APScheduler: the one that starts it, and the countdown it sleeps on.

Each job has an explicit id, so a restart or a second call replaces a job instead of adding a
duplicate that would start a session twice or arm two reps.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler


def job_id(session_id: int) -> str:
    """The one scheduler job that starts a planned session."""
    return f"plan-session:{session_id}"


def countdown_job_id(session_id: int) -> str:
    return f"plan-session:{session_id}:countdown"


async def _resolve(future: asyncio.Future[bool]) -> None:
    # A coroutine, so the AsyncIOExecutor runs it on the loop, not in a worker thread.
    if not future.done():
        future.set_result(True)


class Alarm:
    """One session's wait: until its countdown's date job fires, or a control call wakes it."""

    def __init__(self, scheduler: AsyncIOScheduler, session_id: int) -> None:
        self.scheduler = scheduler
        self.job = countdown_job_id(session_id)
        self._wake: asyncio.Future[bool] | None = None

    async def sleep_until(self, when: datetime | None) -> bool:
        """Wait for a date job at `when` (or only for `interrupt` when None); False if
        interrupted."""
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[bool] = loop.create_future()
        self._wake = wake
        if when is not None:
            self.scheduler.add_job(
                _resolve, "date", run_date=when, args=[wake], id=self.job,
                replace_existing=True, misfire_grace_time=None,
            )  # fmt: skip
        try:
            return await wake
        finally:
            self._wake = None
            self.cancel()

    def interrupt(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(False)

    def cancel(self) -> None:
        """Remove the countdown job, if the scheduler still has it."""
        if self.scheduler.running and self.scheduler.get_job(self.job) is not None:
            self.scheduler.remove_job(self.job)
