"""What the simavr harness prints on its own, kept for any thread to read and wait on.

Output pin changes, applied inputs, resets and a crash arrive at any time, between the replies
to commands (firmware/sim/README.md); hardware.sim.avr routes each stdout line here first and
treats what is not kept as the reply to the command in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from hardware.errors import HardwareError
from hardware.sim.avr_image import pin_name

REPLY_TIMEOUT_S = 5.0
STDERR_KEEP_CHARS = 16_000

T = TypeVar("T")


class HarnessError(HardwareError):
    """The harness did not start, answered with an error, or died; the text says which."""


class PinChange(NamedTuple):
    """A pin level at a harness cycle: an output the firmware drove, or an input applied."""

    pin: str
    level: int
    cycle: int


class HarnessLog:
    """The harness's asynchronous lines and its stderr tail, under one reentrant condition."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.port = ""
        self.started = threading.Event()  # the pty line came, or stdout closed first
        self.closed = False  # stdout closed: the harness has exited or is exiting
        self._outputs: list[PinChange] = []
        self._inputs: list[PinChange] = []
        self._scheduled_applied: dict[tuple[str, int, int], int] = {}
        self._resets: list[int] = []
        self._crashed: tuple[int, str] | None = None
        self._stderr: list[str] = []
        self._stderr_chars = 0

    def route(self, words: list[str]) -> bool:
        """Keep an asynchronous line in its log (True), or say it is a command's reply (False).

        Called with `lock` held. A malformed number raises ValueError.
        """
        kind, n = words[0], len(words)
        if kind == "pty" and n == 2:
            self.port = words[1]
            self.started.set()
        elif kind == "out" and n == 4:
            self._outputs.append(PinChange(words[1], int(words[2]), int(words[3])))
        elif kind == "in" and n == 6 and words[4] == "at":
            change, at_cycle = PinChange(words[1], int(words[2]), int(words[3])), int(words[5])
            self._inputs.append(change)
            self._scheduled_applied[(change.pin, change.level, at_cycle)] = change.cycle
        elif kind == "reset" and n == 2:
            self._resets.append(int(words[1]))
        elif kind == "crashed" and n >= 2:
            self._crashed = (int(words[1]), words[2] if n > 2 else "")
        elif kind == "bye":
            pass
        else:
            if kind == "in" and n == 4:  # an immediate `pin`: logged, and its caller's reply
                self._inputs.append(PinChange(words[1], int(words[2]), int(words[3])))
            return False
        return True

    def end(self) -> None:
        """Stdout closed: wake every waiter, and a start() still waiting for the pty line."""
        with self.lock:
            self.closed = True
            self.started.set()
            self.lock.notify_all()

    def add_stderr(self, line: str) -> None:
        with self.lock:
            self._stderr.append(line)
            self._stderr_chars += len(line)
            while self._stderr_chars > STDERR_KEEP_CHARS and len(self._stderr) > 1:
                self._stderr_chars -= len(self._stderr.pop(0))

    @property
    def stderr(self) -> str:
        with self.lock:
            return "".join(self._stderr)

    def stderr_tail(self) -> str:
        """The end of stderr, to append to an error message ('' if the harness said nothing)."""
        text = self.stderr.strip()
        return f"; harness stderr:\n{text[-2000:]}" if text else ""

    def outputs(self, pin: str | None = None) -> list[PinChange]:
        with self.lock:
            return [c for c in self._outputs if pin is None or c.pin == pin_name(pin)]

    def inputs(self) -> list[PinChange]:
        with self.lock:
            return list(self._inputs)

    def resets(self) -> list[int]:
        with self.lock:
            return list(self._resets)

    def crashed(self) -> tuple[int, str] | None:
        with self.lock:
            return self._crashed

    def applied_cycle(self, name: str, level: int, at_cycle: int, timeout_s: float) -> int:
        key = (pin_name(name), level, at_cycle)
        return self._wait_for(
            lambda: self._scheduled_applied.get(key), timeout_s,
            f"{name}={level} at cycle {at_cycle} was not applied",
        )  # fmt: skip

    def wait_output(self, pin: str, level: int, after_cycle: int, timeout_s: float) -> PinChange:
        wanted = pin_name(pin)

        def first() -> PinChange | None:
            return next(
                (c for c in self._outputs
                 if c.pin == wanted and c.level == level and c.cycle >= after_cycle),
                None,
            )  # fmt: skip

        return self._wait_for(
            first, timeout_s, f"{pin} did not go {level} after cycle {after_cycle}"
        )

    def wait_reset(self, after_cycle: int, timeout_s: float) -> int:
        return self._wait_for(
            lambda: next((c for c in self._resets if c >= after_cycle), None), timeout_s,
            f"no reset after cycle {after_cycle}",
        )  # fmt: skip

    def _wait_for(self, found: Callable[[], T | None], timeout_s: float, failure: str) -> T:
        """Wait until `found` gives something, the harness is gone, or the time is up."""
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while True:
                value = found()
                if value is not None:
                    return value
                self.raise_if_gone()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(failure)
                self.lock.wait(left)

    def raise_if_gone(self) -> None:
        with self.lock:
            if self._crashed is not None:
                cycle, state = self._crashed
                raise HarnessError(f"firmware {state} at cycle {cycle}")
            if self.closed:
                raise HarnessError(f"harness ended{self.stderr_tail()}")
