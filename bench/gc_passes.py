"""Full passes of Python's garbage collector while a block runs: the stalls a slow figure hides.

A full pass stops the event loop for as long as it walks the heap (server/heap.py), so a
benchmark that times the server says when the collector ran, and a reader can tell its stalls
from the code's.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

FullPasses = list[tuple[int, int]]  # (start, end) in host monotonic ns, one per full pass


@contextmanager
def full_collections() -> Iterator[FullPasses]:
    """Each full pass of the collector while the block runs, filled in as they happen."""
    passes: FullPasses = []
    started = [0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[0] = time.monotonic_ns()
        else:
            passes.append((started[0], time.monotonic_ns()))

    gc.callbacks.append(watch)
    try:
        yield passes
    finally:
        gc.callbacks.remove(watch)
