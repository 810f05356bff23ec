"""One simulated USB port: a pseudo-terminal carrying up to 32 virtual devices (a hub's radio).

The host opens the pty's slave path with the real driver, so everything above the tty is the
code that runs against USB devices. One thread per port reads the host's bytes, runs the
devices' timers and releases their frames after a drawn USB delay, in order, as one serial
line does. Faults (bit flips, lost frames, latency spikes, a pulled cable) are knobs here.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hardware.clock import uart_time_us
from hardware.sim.device import VirtualDevice
from hardware.sim.line_faults import BitFlipper, PortStats
from hardware.sim.models import LatencyModel, TruthEvent
from hardware.sim.ptys import close_fds, open_raw_pty
from hardware.sim.timers import TimerQueue
from hardware.wire import FRAME_OVERHEAD, MAX_PAYLOAD, Frame, FrameDecoder, encode_frame

MAX_DEVICES = 32
# What a device's USB endpoint holds while the host is not reading; beyond that bytes are lost.
OUT_BUFFER_LIMIT = 64 * 1024
THREAD_CALL_TIMEOUT_S = 2.0


USB_FRAME_NS = 1_000_000
# The UART between the USB bridge and the device's MCU (PROTOCOL.md section 1).
UART_BAUDRATE = 115200


@dataclass(frozen=True)
class UsbIdentity:
    """What the USB descriptor of the device on the cable says (PROTOCOL.md section 1)."""

    vid: int = 0x1209
    pid: int = 0xA617
    serial_number: str | None = None
    description: str = "Agility device"


class VirtualPort:
    """A pty with devices at addresses 0..31: 0 is the one on the cable, the rest behind it."""

    def __init__(
        self,
        devices: Sequence[VirtualDevice] = (),
        *,
        latency: LatencyModel | None = None,
        corrupt_rate: float = 0.0,
        loss_rate: float = 0.0,
        usb: UsbIdentity | None = None,
        seed: int = 0,
        name: str = "sim-port",
        baudrate: int = UART_BAUDRATE,
    ) -> None:
        self.rng = random.Random(seed)
        self.baudrate = baudrate
        self.latency = latency or LatencyModel()
        self.corrupt_rate = corrupt_rate
        self.loss_rate = loss_rate
        self.name = name
        self.devices: dict[int, VirtualDevice] = {}
        self.stats = PortStats()
        self._flip_up = BitFlipper(random.Random(self.rng.getrandbits(64)))
        self._flip_down = BitFlipper(random.Random(self.rng.getrandbits(64)))
        self._timers = TimerQueue()
        self._uplink: deque[tuple[int, bytes]] = deque()
        self._last_release_ns = 0
        self._out = bytearray()
        self._decoder = FrameDecoder()
        self._downlink_free_ns = 0  # when the UART towards the devices is done sending
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self._paths_used: set[str] = set()
        self._path = ""
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._stopping = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []
        for device in devices:
            self.add(device)
        self.usb = usb or UsbIdentity(
            serial_number=f"AG{self.devices[0].device_id:08X}" if 0 in self.devices else None
        )

    # --- public, any thread ----------------------------------------------------------------

    def add(self, device: VirtualDevice, address: int | None = None) -> int:
        """Put a device at an address (the lowest free one by default), before start()."""
        if self._thread_started():
            raise RuntimeError("add devices before start()")
        if address is None:
            address = next((a for a in range(MAX_DEVICES) if a not in self.devices), -1)
        if not 0 <= address < MAX_DEVICES or address in self.devices:
            raise ValueError(f"address {address} is taken or outside 0..{MAX_DEVICES - 1}")
        self.devices[address] = device
        device.attach(self, address)
        return address

    def start(self) -> str:
        """Power up: every device sends HELLO and STATUS. Returns the pty path."""
        if self._thread_started():
            raise RuntimeError("port already started")
        self._open_pty()
        for address in sorted(self.devices):
            self.call_at(0, self.devices[address].power_up)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self._path

    def stop(self) -> None:
        """Power off: closing the master makes the host's reads fail, as an unplug does."""
        if self._stopped:
            return  # already off: the pipe is closed, so a second stop must touch nothing
        self._stopping.set()
        self._wake()
        self._stopped = True
        if self._thread is not None:
            self._thread.join(timeout=THREAD_CALL_TIMEOUT_S)
        self._close_pty()
        close_fds(self._wake_r, self._wake_w)

    def unplug(self) -> None:
        """Pull the cable: the pty closes, devices keep running, stamping and buffering."""
        self._on_thread(self._close_pty)

    def replug(self) -> str:
        """Plug back in on a new pty path; each device sends HELLO, then its unacked events."""
        paths: list[str] = []

        def plug() -> None:
            self._open_pty()
            paths.append(self._path)
            for address in sorted(self.devices):
                self.devices[address].on_reconnect()

        self._on_thread(plug)
        return paths[0]

    @property
    def port(self) -> str:
        """The current pty path ('' while unplugged)."""
        return self._path if self._master_fd is not None else ""

    @property
    def plugged(self) -> bool:
        return self._master_fd is not None and not self._stopped

    @property
    def connected(self) -> bool:
        return self._master_fd is not None

    def truth(self) -> list[TruthEvent]:
        """Every reported event of every device, by true time."""
        merged = [ev for d in self.devices.values() for ev in d.truth_since(0)]
        return sorted(merged, key=lambda ev: ev.mono_ns)

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def call_at(self, due_ns: int, fn: Callable[[], None]) -> None:
        earliest = self._timers.add(due_ns, fn)
        if threading.current_thread() is not self._thread and earliest:
            self._wake()

    # --- port thread -------------------------------------------------------------------------

    def transmit(self, address: int, frame: bytes) -> None:
        if self._master_fd is None:
            return
        self.stats.frames_up += 1
        if self.loss_rate > 0 and self.rng.random() < self.loss_rate:
            self.stats.lost_up += 1
            return
        sent = self._flip_up.apply(frame, self.corrupt_rate)
        if sent is not frame:
            self.stats.corrupted_up += 1
        # No frame reaches the host before its bytes have crossed the UART: a PONG's tick was
        # read at least its line time before the host can have it (section 4.3). Frames are
        # not queued behind each other on that line, so a hub's many devices are not held to
        # one gate's 11.5 kB/s; only when a frame can arrive at the earliest is modelled.
        now = time.monotonic_ns()
        release = max(now + self._line_ns(len(frame)), now + self.latency.draw_ns(self.rng))
        # A serial line is FIFO: a frame cannot overtake the one before it, so a spike stalls
        # every frame behind it.
        release = max(release, self._last_release_ns)
        # Full-speed USB moves data in 1 ms frames: what is ready by a frame's start leaves
        # together in it, so the host reads several of our frames at once, as from real gates.
        release = -(-release // USB_FRAME_NS) * USB_FRAME_NS
        self._last_release_ns = release
        self._uplink.append((release, sent))

    def _line_ns(self, n_bytes: int) -> int:
        """What `n_bytes` take on the UART, rounded up: never sooner than a real line."""
        return math.ceil(uart_time_us(n_bytes, self.baudrate) * 1000)

    def _thread_started(self) -> bool:
        return self._thread is not None

    def _wake(self) -> None:
        if self._stopped:
            return  # the pipe's fds are closed and their numbers may belong to others now
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _on_thread(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the port thread (fds are only touched there) and wait for it."""
        if self._stopped or self._thread is None:
            raise RuntimeError("port is not running")
        if threading.current_thread() is self._thread:
            fn()  # called from a device hook: already where fds may be touched
            return
        done = threading.Event()

        def call() -> None:
            try:
                fn()
            finally:
                done.set()

        self.call_at(0, call)
        if not done.wait(THREAD_CALL_TIMEOUT_S):
            raise TimeoutError(f"{self.name}: port thread did not answer")

    def _open_pty(self) -> None:
        held: list[tuple[int, int]] = []
        try:
            # A re-enumerated USB device gets a new name: hold a recycled pty until the kernel
            # hands out one whose path this port has not used.
            for _ in range(8):
                master, slave, path = open_raw_pty()
                if path not in self._paths_used:
                    break
                held.append((master, slave))
        finally:
            for fds in held:
                for fd in fds:
                    os.close(fd)
        self._paths_used.add(path)
        self._master_fd, self._slave_fd, self._path = master, slave, path
        self._decoder = FrameDecoder()
        self._downlink_free_ns = 0

    def _close_pty(self) -> None:
        close_fds(self._master_fd, self._slave_fd)
        self._master_fd = self._slave_fd = None
        self._uplink.clear()
        self._out.clear()
        self._last_release_ns = 0

    def _run(self) -> None:
        while not self._stopping.is_set():
            now = time.monotonic_ns()
            self._timers.run_due(now, self.errors)
            self._release(time.monotonic_ns())
            master = self._master_fd
            timeout = self._timeout(time.monotonic_ns())
            readers = [self._wake_r] if master is None else [self._wake_r, master]
            writers = [master] if master is not None and self._out else []
            try:
                readable, writable, _ = select.select(readers, writers, [], timeout)
            except (OSError, ValueError):
                continue  # an fd closed under us: the loop re-reads the state
            if self._wake_r in readable:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
            if master is not None and master in writable:
                self._flush()
            if master is not None and master in readable:
                self._receive(master)

    def _timeout(self, now: int) -> float | None:
        due = self._timers.next_due()
        if self._uplink:
            due = self._uplink[0][0] if due is None else min(due, self._uplink[0][0])
        return None if due is None else max(0.0, (due - now) / 1e9)

    def _release(self, now: int) -> None:
        while self._uplink and self._uplink[0][0] <= now:
            self._out += self._uplink.popleft()[1]
        if len(self._out) > OUT_BUFFER_LIMIT:
            self.stats.overflow_bytes += len(self._out) - OUT_BUFFER_LIMIT
            del self._out[OUT_BUFFER_LIMIT:]
        if self._out:
            self._flush()

    def _flush(self) -> None:
        if self._master_fd is None:
            return
        try:
            written = os.write(self._master_fd, self._out)
        except BlockingIOError:
            return  # the host is not reading: keep the bytes, as a USB endpoint does
        except OSError:
            written = len(self._out)
        del self._out[:written]

    def _receive(self, master: int) -> None:
        try:
            data = os.read(master, 65536)
        except OSError:
            return
        received_ns = time.monotonic_ns()
        # The bytes now cross the UART to the devices, one every 86.8 us at 115200, starting
        # no sooner than they were read (so no sooner than the host wrote them).
        start_ns = max(received_ns, self._downlink_free_ns)
        self._downlink_free_ns = start_ns + self._line_ns(len(data))
        frames = self._decode(data, received_ns)
        self._dispatch(frames, start_ns, len(data) - self._decoder.pending_bytes)
        due_us = self._decoder.idle_due_us()
        if due_us is not None:
            self.call_at(due_us * 1000, self._idle_check)

    def _idle_check(self) -> None:
        """A device's receiver drops a frame that went quiet (section 2), by its own timer."""
        if self._master_fd is None:
            return
        now_ns = time.monotonic_ns()
        self._dispatch(self._decode(b"", now_ns), now_ns, 0)

    def _decode(self, data: bytes, now_ns: int) -> list[Frame]:
        bad_before = self._decoder.stats.bad_crc
        frames = self._decoder.feed(data, now_ns // 1000)
        if self._decoder.stats.bad_crc != bad_before and 0 in self.devices:
            # The device on the cable checks every byte the host sends.
            self.devices[0].rx_errors += self._decoder.stats.bad_crc - bad_before
        return frames

    def _dispatch(self, frames: list[Frame], start_ns: int, end_pos: int) -> None:
        """Hand each frame to its device when its last byte is through the UART: the PING's
        tick is read then (section 4.3). `end_pos` is where the last frame ends among the
        bytes that began crossing at `start_ns`; earlier frames are taken to end right before
        the next one, which is never sooner than they really did."""
        ends: list[int] = []
        pos = end_pos
        for frame in reversed(frames):
            ends.append(max(pos, 0))
            pos -= FRAME_OVERHEAD + len(frame.payload)
        for frame, end in zip(frames, reversed(ends), strict=True):
            self.stats.frames_down += 1
            device = self.devices.get(frame.addr)
            if device is None:
                self.stats.to_nobody += 1
                continue
            if self.loss_rate > 0 and self.rng.random() < self.loss_rate:
                self.stats.lost_down += 1
                continue
            if self.corrupt_rate > 0 and not self._survives(frame, device):
                continue
            done_ns = start_ns + self._line_ns(end)
            self.call_at(done_ns, self._deliver_down(device, frame, done_ns))

    @staticmethod
    def _deliver_down(device: VirtualDevice, frame: Frame, done_ns: int) -> Callable[[], None]:
        # The device stamps the frame with when its last byte arrived, as the firmware's
        # receive interrupt does, even if this thread gets to it a little later.
        return lambda: device.on_frame(frame, done_ns)

    def _survives(self, frame: Frame, device: VirtualDevice) -> bool:
        """Apply the downlink's bit flips; a hit frame is lost (CRC-16 catches up to 3 flips).

        Only a frame whose start the device still finds is a CRC failure it counts: a flipped
        SYNC, or a LEN flipped past 200, is noise it skips without knowing a frame was there.
        """
        raw = encode_frame(frame)
        hit = self._flip_down.apply(raw, self.corrupt_rate)
        if hit is raw:
            return True
        self.stats.corrupted_down += 1
        if hit[0] == raw[0] and hit[1] <= MAX_PAYLOAD:
            device.note_rx_error()
        return False
