"""A relay that puts a USB-serial bridge's latency between a simulator's pty and the host.

A pty delivers bytes at once; a real cable's bridge holds each chunk for up to its latency
timer (16 ms on an FTDI by default). The adapters benchmark times splits through this relay to
show that device timestamps do not care, while a host-receipt split does.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from collections import deque
from typing import Final

from hardware.sim.models import LatencyModel

_BRIDGE_WAKE_S: Final = 0.05
_JOIN_S: Final = 2.0


class Bridge:
    """A relay between a simulator's pty and a new pty the host opens: each chunk the device
    writes (already paced at its baud rate by the simulator) waits a USB latency drawn per
    chunk; chunks stay in order. The host's bytes go to the device at once.

    A test fixture only: it adds time, never changes a byte.
    """

    def __init__(self, device_path: str, baudrate: int, latency: LatencyModel, seed: int) -> None:
        self.device_path = device_path
        self.baudrate = baudrate
        self.latency = latency
        self.rng = random.Random(seed)
        self.path = ""
        self._device_fd: int | None = None
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self._queue: deque[tuple[int, bytes]] = deque()  # (due_ns, bytes), in order
        self._wire_free_ns = 0
        self._last_due_ns = 0
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def start(self) -> str:
        device = os.open(self.device_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(device)
        master, slave = os.openpty()
        # Raw both ends; the bridge keeps its slave open so the master never reads EIO
        # before the host has opened it.
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._device_fd, self._master_fd, self._slave_fd = device, master, slave
        self.path = os.ttyname(slave)
        self._thread = threading.Thread(
            target=self._run, name=f"bench-bridge:{self.device_path}", daemon=True
        )
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_S)
        for fd in (self._device_fd, self._master_fd, self._slave_fd, self._wake_r, self._wake_w):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._device_fd = self._master_fd = self._slave_fd = None

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a fixture bug must show in the result, not hang the run
            self.errors.append(exc)

    def _loop(self) -> None:
        device, master = self._device_fd, self._master_fd
        assert device is not None and master is not None
        readers = [self._wake_r, device, master]
        while not self._stopping.is_set():
            self._deliver(master, time.monotonic_ns())
            timeout = _BRIDGE_WAKE_S
            if self._queue:
                wait_ns = self._queue[0][0] - time.monotonic_ns()
                timeout = min(timeout, max(0.0, wait_ns / 1e9))
            readable, _, _ = select.select(readers, [], [], timeout)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            if device in readable and not self._from_device(device):
                readers.remove(device)  # the simulator closed its end
            if master in readable:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                if data:
                    os.write(device, data)
                else:
                    readers.remove(master)

    def _from_device(self, device: int) -> bool:
        try:
            data = os.read(device, 4096)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        now_ns = time.monotonic_ns()
        due_ns = max(self._last_due_ns, now_ns + self.latency.draw_ns(self.rng))
        self._last_due_ns = due_ns
        self._queue.append((due_ns, data))
        return True

    def _deliver(self, master: int, now_ns: int) -> None:
        while self._queue and self._queue[0][0] <= now_ns:
            due_ns, data = self._queue[0]
            try:
                written = os.write(master, data)
            except BlockingIOError:
                return  # the host is not reading: keep it for the next turn
            if written < len(data):
                self._queue[0] = (due_ns, data[written:])
                return
            self._queue.popleft()
