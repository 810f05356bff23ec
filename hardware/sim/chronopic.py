"""A simulated Chronopic on a pseudo-terminal, written from its published behaviour.

Behaviour from reference/timing-and-devices.md sections 2.1 and 2.5: 9600 8N1; an accepted
input change is sent as 'X' + state (raw 0/1) + the 24-bit big-endian count of 8 us ticks
since the previous accepted edge (0 for the first after power-up), truncated to whole ticks
because zeroing Timer1 clears the prescaler, with the top byte sticking at 0xFF once the
interval passes ~134 s. Debounce: the edge time is latched at the change, the interrupt is off
for the debounce time, and the edge is reported only if the input is still changed then; a
change during the debounce is latched when the interrupt comes back on. 'J' answers 'J',
'E' answers 'E' + state, 'b' + byte sets the debounce in 10 ms units, 'a' answers the units
plus ASCII '0' (from the multitest firmware's source), unknown commands answer "-1".

The device has its own clock (offset and drift in ppm against host monotonic time) and the
simulator keeps the truth (host time of every input change and of every reported edge), so
tests and benchmarks can check splits. Edge times come from the scheduled host times, not
from when the thread woke, so the ticks are exact whatever the host's scheduling.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import random
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.sim.ptys import close_fds, open_raw_pty

TICK_US = 8
BAUDRATE = 9600
BITS_PER_BYTE = 10  # 8N1: start, eight data bits, stop
_TOP_STICKY = 0xFF
_WAKE_CAP_S = 0.05
_STOP_JOIN_S = 2.0


@dataclass(frozen=True)
class TruthEdge:
    """An edge the device reported, with the host time its input really changed."""

    host_mono_us: int
    state: int
    interval_ticks: int  # what the device sent for it


def encode_interval(interval_ticks: int) -> bytes:
    """The 24-bit interval as the firmware sends it: the top byte counts Timer1 overflows
    and sticks at 0xFF, the low 16 bits are the timer and keep wrapping."""
    top = min(interval_ticks >> 16, _TOP_STICKY)
    return bytes([top]) + (interval_ticks & 0xFFFF).to_bytes(2, "big")


class SimChronopic:
    """One Chronopic with one input, on its own pty. Times are host monotonic microseconds
    (time.monotonic_ns() // 1000), the clock the tests schedule in."""

    def __init__(
        self,
        *,
        drift_ppm: float = 0.0,
        offset_us: int = 0,
        debounce_ms: int = 50,
        seed: int = 0,
        name: str = "sim-chronopic",
    ) -> None:
        self.drift_ppm = drift_ppm
        self.offset_us = offset_us
        self.debounce_us = debounce_ms * 1000
        self.rng = random.Random(seed)
        self.name = name
        self.input_state = 0  # the level on the input now (as the simulation has reached)
        self.input_truth: list[tuple[int, int]] = []  # (host_mono_us, level) of every change
        self.edges_truth: list[TruthEdge] = []
        self.errors: list[BaseException] = []
        self._reported_state = 0
        self._debounce_byte_due = False
        self._line_free_us = 0  # when the UART has sent what it was given
        self._last_edge_device_us: float | None = None  # None until the first edge: reads 0
        self._pending: tuple[int, int] | None = None  # (host_mono_us latched, level)
        self._timers: list[tuple[int, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._out = bytearray()
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self.path = ""
        self._start_host_us = 0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # --- public, any thread ----------------------------------------------------------------

    @staticmethod
    def now_mono_us() -> int:
        return time.monotonic_ns() // 1000

    def start(self) -> str:
        """Power up on a new pty; returns the path a host opens with pyserial."""
        self._master_fd, self._slave_fd, self.path = open_raw_pty()
        self._start_host_us = self.now_mono_us()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=_STOP_JOIN_S)
        self._close_pty()
        close_fds(self._wake_r, self._wake_w)

    def unplug(self) -> None:
        """Pull the cable: the pty closes, so the host's reads fail."""
        with self._lock:
            self._close_pty()
        self._wake()

    def device_us(self, host_mono_us: float) -> float:
        """The device's own clock at a host time: offset plus a drifting rate."""
        elapsed_us = host_mono_us - self._start_host_us
        return self.offset_us + elapsed_us * (1.0 + self.drift_ppm * 1e-6)

    def schedule_input(self, host_mono_us: int, state: int) -> None:
        """Set the input level (1 = on, a beam broken) at a host time."""
        if state not in (0, 1):
            raise ValueError("a Chronopic input is 0 or 1")
        self._call_at(host_mono_us, lambda: self._on_input(host_mono_us, state))

    def schedule_break(self, host_mono_us: int, duration_us: int) -> None:
        """A beam broken at `host_mono_us` for `duration_us` (input on, then off)."""
        self.schedule_input(host_mono_us, 1)
        self.schedule_input(host_mono_us + duration_us, 0)

    def inject_garbage(self, data: bytes | int) -> bytes:
        """Send junk on the line now: the given bytes, or that many seeded random bytes."""
        junk = data if isinstance(data, bytes) else self.rng.randbytes(data)
        with self._lock:
            self._out += junk
        self._wake()
        return junk

    # --- the device, on its thread ---------------------------------------------------------

    def _on_input(self, host_mono_us: int, state: int) -> None:
        if state == self.input_state:
            return
        self.input_state = state
        self.input_truth.append((host_mono_us, state))
        if self._pending is None:
            self._latch(host_mono_us)
        # else: the port-change interrupt is off during the debounce; handled at its end.

    def _latch(self, host_mono_us: int) -> None:
        """The ISR: latch the edge time, start the debounce."""
        self._pending = (host_mono_us, self.input_state)
        self._call_at(host_mono_us + self.debounce_us, self._end_debounce)

    def _end_debounce(self) -> None:
        assert self._pending is not None
        latched_us, _level = self._pending
        self._pending = None
        if self.input_state != self._reported_state:
            self._accept(latched_us, self.input_state)
        # A spurious pulse leaves the previous edge's time as the reference, which is the
        # firmware's "add the pulse back to the counter": no time is lost.
        if self.input_state != self._reported_state:
            # The input changed again during the debounce: the interrupt, back on, sees it now.
            self._latch(latched_us + self.debounce_us)

    def _accept(self, host_mono_us: int, state: int) -> None:
        now_device_us = self.device_us(host_mono_us)
        if self._last_edge_device_us is None:
            interval_ticks = 0
        else:
            interval_ticks = int((now_device_us - self._last_edge_device_us) // TICK_US)
        self._last_edge_device_us = now_device_us
        self._reported_state = state
        wire = encode_interval(interval_ticks)
        self.edges_truth.append(TruthEdge(host_mono_us, state, int.from_bytes(wire, "big")))
        self._send(b"X" + bytes([state]) + wire)

    def _set_debounce_units(self, units: int) -> None:
        if units:
            self.debounce_us = units * 10_000

    def _on_command(self, data: bytes) -> None:
        i = 0
        if self._debounce_byte_due and data:
            self._debounce_byte_due = False
            self._set_debounce_units(data[0])
            i = 1
        while i < len(data):
            cmd = data[i : i + 1]
            i += 1
            if cmd == b"J":
                self._send(b"J")
            elif cmd == b"E":
                self._send(b"E" + bytes([self.input_state]))
            elif cmd == b"b":
                if i >= len(data):
                    self._debounce_byte_due = True  # the firmware waits for the next byte
                    break
                self._set_debounce_units(data[i])
                i += 1
            elif cmd == b"a":
                # The multitest firmware answers the count of 10 ms units plus ASCII '0'.
                self._send(bytes([(self.debounce_us // 10_000 + 0x30) & 0xFF]))
            else:
                self._send(b"-1")

    def _send(self, data: bytes) -> None:
        """Put bytes on the line as the UART does: one after another at 9600 baud, so a
        5-byte frame is whole at the far end 5.2 ms after it started (the host's adapter
        counts on that), and frames queue behind each other."""
        now_us = self.now_mono_us()
        begin_us = max(now_us, self._line_free_us)
        self._line_free_us = begin_us + len(data) * BITS_PER_BYTE * 1_000_000 // BAUDRATE
        self._call_at(self._line_free_us, lambda: self._deliver(data))

    def _deliver(self, data: bytes) -> None:
        with self._lock:
            if self._master_fd is not None:  # a cable pulled meanwhile carries nothing
                self._out += data

    # --- the loop ----------------------------------------------------------------------------

    def _call_at(self, host_mono_us: int, fn: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._timers, (host_mono_us, next(self._order), fn))
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception as exc:  # a sim bug must surface in the test, not hang it
                self.errors.append(exc)
                return

    def _step(self) -> None:
        now_us = self.now_mono_us()
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > now_us:
                    break
                _, _, fn = heapq.heappop(self._timers)
            fn()
        with self._lock:
            master = self._master_fd
            pending_out = bool(self._out)
            next_us = self._timers[0][0] if self._timers else None
        timeout_s = _WAKE_CAP_S
        if next_us is not None:
            timeout_s = min(timeout_s, max(0.0, (next_us - now_us) / 1e6))
        readers = [self._wake_r] if master is None else [self._wake_r, master]
        writers = [master] if master is not None and pending_out else []
        try:
            readable, writable, _ = select.select(readers, writers, [], timeout_s)
        except (OSError, ValueError):
            return  # an fd closed under us (unplug): the next turn re-reads the state
        if self._wake_r in readable:
            with contextlib.suppress(OSError):
                os.read(self._wake_r, 4096)
        if master is None:
            return
        if master in readable:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
            if data:
                self._on_command(data)
        if master in writable:
            with self._lock:
                try:
                    written = os.write(master, bytes(self._out))
                except (BlockingIOError, OSError):
                    written = 0
                del self._out[:written]

    def _close_pty(self) -> None:
        close_fds(self._master_fd, self._slave_fd)
        self._master_fd = self._slave_fd = None
        self._out.clear()
