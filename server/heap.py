"""Keep the garbage collector's full passes short in a long-running server.

After start-up the process holds about 100,000 long-lived objects (modules, the drill
catalogue, SQLAlchemy's mappers and compiled statements). Each full collection walks them
all: 35-50 ms on a laptop-class core, during which the event loop serves nothing, so a
phone's board request or a live split that lands then waits that long. When boards still
built ORM objects, such a pass came every dozen board requests; any allocation-heavy request
can still set one off (measured: docs/BENCHMARKS.md, "Leaderboards"). Freezing the start-up
heap moves it out of the collector's sight; objects made later are still collected as usual.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect once, then freeze what survived. Call when start-up is done, once per
    process: objects frozen are never examined for cycles again, so freezing in a process
    that keeps creating and dropping whole apps (a test run) would keep their cycles."""
    gc.collect()
    gc.freeze()
