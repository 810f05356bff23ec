"""settle_heap freezes the start-up heap but leaves later garbage to the collector."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from server.heap import settle_heap
import server.app  # the start-up heap of a real server
settle_heap()
frozen = gc.get_freeze_count()
class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a
del a, b
print(frozen, gc.collect())
"""


def test_settle_heap_freezes_start_up_objects_and_still_collects_new_cycles() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    frozen, collected = int(out[0]), int(out[1])
    assert frozen > 10_000, f"only {frozen} objects frozen: the start-up heap was not settled"
    assert collected >= 2, "a cycle made after settling must still be collected"
