"""A simulated ALGE Timy on a pseudo-terminal, written from the published RS232 format.

It has its own time-of-day clock (an offset and a drift in ppm against host monotonic time),
stamps impulses truncated to 1/10,000 s as the device does, numbers them with a continuous
counter, and prints one CR-ended line per impulse at the configured baud rate. Like the real
timer it answers nothing and sends nothing before its first impulse. The truth (the host
monotonic time at which each impulse really happened) is kept for tests and benchmarks.
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

DAY_US = 24 * 3600 * 1_000_000
TICK_US = 100
DEFAULT_BAUDRATE = 9600
BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit
LINE_WIDTH = 26  # the impulse part of a line, before any checksum and the CR


@dataclass(frozen=True)
class TimyTruth:
    """What really happened at one impulse, and whether its line left the device."""

    number: int
    channel: int
    manual: bool
    true_mono_ns: int  # host monotonic time of the impulse itself
    time_of_day_ticks: int  # what the device stamped (100 µs since its midnight)
    line: str
    sent: bool


def format_time_of_day(ticks: int, separator: str = ".", digits: int = 4) -> str:
    """`HH:MM:SS.zhtq`, truncated to `digits` fraction digits as the device prints."""
    seconds, frac = divmod(ticks, 10_000)
    frac //= 10 ** (4 - digits)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{frac:0{digits}d}"


def impulse_line(
    number: int,
    channel: int,
    ticks: int,
    *,
    manual: bool = False,
    flag: str = " ",
    separator: str = ".",
    group: int = 0,
    checksum: bool = False,
) -> str:
    """One impulse line without its CR: flag, number, channel (+`M`), time of day, group."""
    mark = "M" if manual else " "
    line = f"{flag}{number % 10_000:04d} c{channel}{mark} {format_time_of_day(ticks, separator)} "
    line += f"{group:02d}"
    if checksum:
        total = sum(ord(ch) for ch in line) & 0xFF
        line += chr(0x30 + (total >> 4)) + chr(0x30 + (total & 0x0F))
    return line


class SimTimy:
    """A Timy in plain impulse mode on a pty. Start it, open `port` with any serial library."""

    def __init__(
        self,
        *,
        seed: int = 0,
        time_of_day_at_start_us: int | None = None,
        drift_ppm: float = 0.0,
        separator: str = ".",
        running_times: bool = False,
        checksum: bool = False,
        baudrate: int = DEFAULT_BAUDRATE,
        first_number: int = 1,
    ) -> None:
        if separator not in ".:,":
            raise ValueError(f"separator must be '.', ':' or ',', not {separator!r}")
        self.rng = random.Random(seed)
        # Unless told, the device's clock was set by hand to some moment of the day.
        self.time_of_day_at_start_us = (
            self.rng.randrange(DAY_US)
            if time_of_day_at_start_us is None
            else time_of_day_at_start_us
        )
        self.drift_ppm = drift_ppm
        self.separator = separator
        self.running_times = running_times
        self.checksum = checksum
        self.baudrate = baudrate
        self._next_number = first_number
        self._last_start_ticks: int | None = None
        self._truth: list[TimyTruth] = []
        self._lock = threading.Lock()
        self._timers: list[tuple[int, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._start_ns = 0
        self._line_free_ns = 0  # when the UART is done with what it was sending
        self._master: int | None = None
        self._slave: int | None = None
        self.port = ""
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []
        self.overflow_bytes = 0

    # --- any thread ---------------------------------------------------------------------

    def start(self) -> str:
        """Power on: open the pty and start the clock; returns the path to open."""
        self._master, self._slave, self.port = open_raw_pty()
        self._start_ns = time.monotonic_ns()
        self._thread = threading.Thread(target=self._run, name="sim-timy", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._close_pty()
        close_fds(self._wake_r, self._wake_w)

    def unplug(self) -> None:
        """Pull the cable: the pty closes; the timer keeps stamping and counting impulses."""
        with self._lock:
            self._close_pty()

    def time_of_day_ticks_at(self, mono_ns: int) -> int:
        """The device's time of day at a host monotonic time, truncated to 1/10,000 s."""
        elapsed_us = (mono_ns - self._start_ns) / 1000 * (1 + self.drift_ppm * 1e-6)
        return int((self.time_of_day_at_start_us + elapsed_us) % DAY_US) // TICK_US

    def impulse_at(self, mono_ns: int, channel: int, *, manual: bool = False) -> None:
        """An impulse (photocell, or keypad when `manual`) at a host monotonic time."""
        if not 0 <= channel <= 8:
            raise ValueError(f"Timy channels are 0..8, not {channel}")
        self._call_at(mono_ns, lambda: self._impulse(mono_ns, channel, manual))

    def send_raw_at(self, mono_ns: int, data: bytes) -> None:
        """Put bytes on the line as they are: garbage, a half line, another baud rate's junk."""

        def send() -> None:
            self._send(data)

        self._call_at(mono_ns, send)

    def garbage_at(self, mono_ns: int, n_bytes: int) -> None:
        """Seeded random bytes, any value, CRs included."""
        data = self.rng.randbytes(n_bytes)
        self.send_raw_at(mono_ns, data)

    def long_line_at(self, mono_ns: int, n_chars: int) -> None:
        """A printable line of `n_chars` characters, then CR."""
        self.send_raw_at(mono_ns, b"7" * n_chars + b"\r")

    @property
    def truth(self) -> list[TimyTruth]:
        with self._lock:
            return list(self._truth)

    # --- the simulator's thread ---------------------------------------------------------

    def _call_at(self, due_ns: int, fn: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._timers, (due_ns, next(self._order), fn))
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _impulse(self, mono_ns: int, channel: int, manual: bool) -> None:
        ticks = self.time_of_day_ticks_at(mono_ns)
        number = self._next_number
        self._next_number = (number + 1) % 10_000
        line = impulse_line(
            number,
            channel,
            ticks,
            manual=manual,
            separator=self.separator,
            checksum=self.checksum,
        )
        sent = self._send(line.encode("ascii") + b"\r")
        with self._lock:
            self._truth.append(TimyTruth(number, channel, manual, mono_ns, ticks, line, sent))
        if channel == 0:
            self._last_start_ticks = ticks
        elif channel == 1 and self.running_times and self._last_start_ticks is not None:
            run = (ticks - self._last_start_ticks) % (DAY_US // TICK_US)
            rt = f" {number % 10_000:04d} RT  {format_time_of_day(run, self.separator)} 00"
            self._send(rt.encode("ascii") + b"\r")

    def _send(self, data: bytes) -> bool:
        """Write paced at the baud rate: a line is whole at the far end when its last byte
        has crossed the line (28 ms for an impulse at 9600 baud), and lines queue behind
        each other as on the real UART."""
        master = self._master
        if master is None:
            return False
        now = time.monotonic_ns()
        begin = max(now, self._line_free_ns)
        done = begin + len(data) * BITS_PER_BYTE * 1_000_000_000 // self.baudrate
        time.sleep((done - now) / 1e9)
        master = self._master
        if master is None:
            return False
        try:
            written = os.write(master, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return False
        # A real UART does not wait for a reader: what the pty cannot hold is lost.
        self.overflow_bytes += len(data) - written
        self._line_free_ns = done
        return True

    def _close_pty(self) -> None:
        close_fds(self._master, self._slave)
        self._master = self._slave = None
        self.port = ""

    def _run(self) -> None:
        while not self._stopping.is_set():
            due: list[tuple[int, int, Callable[[], None]]] = []
            timeout: float | None = None
            with self._lock:
                now = time.monotonic_ns()
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers))
                if self._timers:
                    timeout = (self._timers[0][0] - now) / 1e9
            for _, _, fn in due:
                try:
                    fn()
                except Exception as exc:  # a test reads these; the thread must keep going
                    self.errors.append(exc)
            if due:
                continue
            with contextlib.suppress(OSError, ValueError):
                readable, _, _ = select.select([self._wake_r], [], [], timeout)
                if readable:
                    os.read(self._wake_r, 4096)
