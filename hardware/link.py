"""Transport: one serial port, one reader thread, records handed to the asyncio loop.

The reader thread only reads: it stamps the host receive time, decodes records (protocol v1
frames, or a Chronopic's or a Timy's own format through an adapter's decoder) and passes them
to the loop with call_soon_threadsafe. Nothing that knows about devices or drills runs on it,
so a slow callback can never make the thread miss bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import serial

from hardware.errors import LinkError, PortUnavailable
from hardware.timebase import mono_us
from hardware.wire import DecoderStats, Frame, FrameDecoder

log = logging.getLogger(__name__)

BAUDRATE = 115200
# How long a blocking read waits before re-checking whether the link is closing, and whether
# a frame cut short has sat idle past wire.IDLE_DROP_US (so it is dropped within 20-40 ms of
# the last byte, not when the next frame happens to come).
READ_TIMEOUT_S = 0.02

RecordT = TypeVar("RecordT")
ClosedHandler = Callable[[BaseException | None], None]


class Decoder(Protocol[RecordT]):
    """Bytes in, whole records out; never raises. Fed empty bytes on every quiet read too, so
    a record cut short can be dropped once the line has been idle."""

    def feed(self, data: bytes, received_mono_us: int, /) -> list[RecordT]: ...


# What open() failing with these errnos means: the port is there but is not ours to use.
# EAGAIN/EWOULDBLOCK: another program holds its flock; EBUSY: its TIOCEXCL (or a driver's).
_BUSY_ERRNOS = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY})
_DENIED_ERRNOS = frozenset({errno.EACCES, errno.EPERM})


def open_error(url: str, exc: BaseException) -> LinkError:
    """The LinkError for a port that would not open; PortUnavailable when it is there but
    held by another program or not permitted, so it can be shown as a problem of the port."""
    code = getattr(exc, "errno", None)
    if code in _BUSY_ERRNOS:
        return PortUnavailable(
            url, f"port {url} is in use by another program (close it, e.g. a serial monitor)"
        )
    if code in _DENIED_ERRNOS:
        return PortUnavailable(
            url, f"port {url}: permission denied (on Linux, add the user to the dialout group)"
        )
    return LinkError(f"cannot open {url}: {exc}")


class RecordLink(Generic[RecordT]):
    """Owns one port. `url` is anything pyserial's serial_for_url takes (a device path too);
    `decoder` turns its bytes into records, each handed to `on_record` with its receipt time."""

    def __init__(
        self,
        url: str,
        loop: asyncio.AbstractEventLoop,
        decoder: Decoder[RecordT],
        on_record: Callable[[RecordT, int], None],
        on_closed: ClosedHandler,
        baudrate: int = BAUDRATE,
    ) -> None:
        self.url = url
        self._loop = loop
        self._on_record = on_record
        self._on_closed = on_closed
        self._baudrate = baudrate
        self._serial: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._decoder = decoder

    @property
    def baudrate(self) -> int:
        """The line rate the port was opened at: what a frame's bytes take on a UART."""
        return self._baudrate

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._thread is not None and self._thread.is_alive()

    def open(self) -> None:
        try:
            # exclusive: an flock on the port, so that two programs never read one port and
            # each get half its frames; a port another program holds fails here, loudly.
            self._serial = serial.serial_for_url(
                self.url, baudrate=self._baudrate, timeout=READ_TIMEOUT_S, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise open_error(self.url, exc) from exc
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._read_loop, name=f"serial-reader:{self.url}", daemon=True
        )
        self._thread.start()

    def write(self, data: bytes) -> int:
        """Write a frame; returns the host time just before the bytes went to the driver."""
        port = self._serial
        if port is None:
            raise LinkError(f"{self.url} is not open")
        with self._write_lock:
            sent_us = mono_us()
            try:
                port.write(data)
            except (serial.SerialException, OSError) as exc:
                raise LinkError(f"write to {self.url} failed: {exc}") from exc
        return sent_us

    def close(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)
        port = self._serial
        self._serial = None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                log.debug("closing %s raised", self.url, exc_info=True)

    def _read_loop(self) -> None:
        port = self._serial
        assert port is not None
        error: BaseException | None = None
        while not self._stopping.is_set():
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial's posix read after a concurrent close() sees fd None.
                if not self._stopping.is_set():
                    error = exc
                break
            received_mono_us = mono_us()
            # An empty read (the timeout) still lets the decoder drop a frame gone idle, and
            # hand up any whole frame that was queued behind its bad LEN.
            records = self._decoder.feed(data, received_mono_us)
            if records:
                # One wake-up of the loop per read, not per record: at thousands of events a
                # second the wake-ups, not the records, were the cost.
                self._loop.call_soon_threadsafe(self._deliver, records, received_mono_us)
        if not self._stopping.is_set() or error is not None:
            # RuntimeError: the loop is already closed, and nobody is left to tell.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._on_closed, error)

    def _deliver(self, records: list[RecordT], received_mono_us: int) -> None:
        # Runs on the loop. A failing handler must not kill the link: log and go on.
        for record in records:
            try:
                self._on_record(record, received_mono_us)
            except Exception:
                log.exception("record handler failed for %s", self.url)


class SerialLink(RecordLink[Frame]):
    """A protocol v1 port: frames, found by the noise-proof FrameDecoder of hardware.wire."""

    def __init__(
        self,
        url: str,
        loop: asyncio.AbstractEventLoop,
        on_frame: Callable[[Frame, int], None],
        on_closed: ClosedHandler,
        baudrate: int = BAUDRATE,
    ) -> None:
        self._frames = FrameDecoder()
        super().__init__(url, loop, self._frames, on_frame, on_closed, baudrate)

    @property
    def stats(self) -> DecoderStats:
        return self._frames.stats
