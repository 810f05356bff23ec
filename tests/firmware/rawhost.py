"""A bare protocol-v1 host for firmware tests: frames in and out of the pty, nothing else.

The real driver (hardware/device.py) hides what the firmware did on the wire: it acknowledges,
re-asks and removes repeats. These tests need to see the firmware's own behaviour, so this
host only encodes what it is told to send and decodes what comes back.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import serial

from hardware.messages import Message, decode_message, encode_message
from hardware.timebase import mono_us
from hardware.wire import FrameDecoder

M = TypeVar("M")


class RawHost:
    def __init__(self, port: str) -> None:
        self.serial = serial.Serial(port, 115200, timeout=0.02)
        self.decoder = FrameDecoder()
        self.received: list[tuple[int, Message]] = []  # (host receipt mono us, message)
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.serial.read(self.serial.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError):
                return
            now_us = mono_us()
            for frame in self.decoder.feed(data, now_us):
                try:
                    msg = decode_message(frame)
                except Exception:
                    continue
                with self._cond:
                    self.received.append((now_us, msg))
                    self._cond.notify_all()

    def send(self, msg: Message) -> int:
        """Writes one frame; the host time just before it went to the driver."""
        sent_us = mono_us()
        self.serial.write(encode_message(0, next(self._seq) & 0xFFFF, msg))
        return sent_us

    def write(self, data: bytes) -> None:
        self.serial.write(data)

    def got(self, kind: type[M], since: int = 0) -> list[M]:
        with self._cond:
            return [m for _, m in self.received[since:] if isinstance(m, kind)]

    def mark(self) -> int:
        with self._cond:
            return len(self.received)

    def wait_for(
        self,
        kind: type[M],
        where: Callable[[M], bool] = lambda _m: True,
        since: int = 0,
        timeout_s: float = 3.0,
        count: int = 1,
    ) -> list[M]:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                found = [m for m in self.got(kind, since) if where(m)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{count} {kind.__name__} expected within {timeout_s} s, got {found}"
                    )
                self._cond.wait(left)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        self.serial.close()

    def __enter__(self) -> RawHost:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
