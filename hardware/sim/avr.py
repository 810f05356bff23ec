"""The real firmware in simavr: starts firmware/sim's harness on an ELF and talks its line protocol.

The harness (firmware/sim/README.md) puts USART0 on a pty, paces the simulation to the wall
clock, applies pin levels at exact cycles and logs output pins with the cycle they changed at.
Cycles are the ground truth a test compares the host's timings against: F_CPU cycles a second
since the simulated power-up, monotonic across watchdog resets.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, NamedTuple

from hardware.errors import HardwareError

F_CPU = 16_000_000
EEPROM_SIZE = 1024
ERASED_ID = 0xFFFF_FFFF

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_BUILD = REPO_ROOT / "firmware" / "build"
HARNESS_NAME = "simavr-harness"

START_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0
STDERR_KEEP_CHARS = 16_000


class HarnessError(HardwareError):
    """The harness did not start, answered with an error, or died; the text says which."""


class PinChange(NamedTuple):
    """A pin level at a harness cycle: an output the firmware drove, or an input applied."""

    pin: str
    level: int
    cycle: int


def pin_name(name: str) -> str:
    """The harness's name for a pin: Arduino names (D0-D13, A0-A5), chip names for the rest."""
    text = name.strip().upper()
    if len(text) == 3 and text[0] == "P" and text[1] in "BCD" and text[2] in "01234567":
        port, bit = text[1], int(text[2])
        if port == "D":
            return f"D{bit}"
        if bit <= 5:
            return f"D{bit + 8}" if port == "B" else f"A{bit}"
    return text


def find_harness() -> Path | None:
    """The built harness binary (`make -C firmware sim`), or None if it is not built."""
    path = FIRMWARE_BUILD / HARNESS_NAME
    return path if path.is_file() and os.access(path, os.X_OK) else None


def firmware_elf(name: str) -> Path:
    """Where `make -C firmware` puts an image: `gate`, `pod`, or the harness's `sim-selftest`."""
    return FIRMWARE_BUILD / f"{name}.elf"


def cycles_to_us(cycles: int) -> float:
    return cycles * 1_000_000 / F_CPU


def us_to_cycles(us: float) -> int:
    return round(us * F_CPU / 1_000_000)


def eeprom_image(device_id: int, boot_counter: int = 0) -> bytes:
    """An EEPROM as the firmware keeps it: id big-endian in bytes 0-3, boot counter in 4-7."""
    if not 0 <= device_id <= 0xFFFF_FFFF or not 0 <= boot_counter <= 0xFFFF_FFFF:
        raise ValueError("device id and boot counter are 32-bit unsigned")
    head = device_id.to_bytes(4, "big") + boot_counter.to_bytes(4, "big")
    return head + b"\xff" * (EEPROM_SIZE - len(head))


def write_eeprom(path: Path | str, device_id: int, boot_counter: int = 0) -> Path:
    """Preload a device's EEPROM so two simulated devices have different ids."""
    target = Path(path)
    target.write_bytes(eeprom_image(device_id, boot_counter))
    return target


def read_eeprom_header(path: Path | str) -> tuple[int, int]:
    """(device id, boot counter) from an EEPROM image the harness saved."""
    data = Path(path).read_bytes()
    return int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")


class AvrDevice:
    """One ATmega328P running an ELF under the harness; a context manager that stops it.

    A reader thread routes the harness's lines: replies to the one command in flight go to
    that caller, while `out`, scheduled `in`, `reset` and `crashed` lines, which arrive at any
    time, are kept in logs that any thread can read.
    """

    def __init__(
        self,
        elf: Path | str,
        *,
        eeprom: Path | str | None = None,
        harness: Path | str | None = None,
        wait_start: bool = False,
        extra_args: Sequence[str] = (),
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        """`wait_start`: the core stays unpowered at cycle 0 until `power_up()`, so a test can
        open the port first (pyserial flushes input on open) and see the boot bytes, or set
        input pins before the firmware reads them."""
        self.elf = Path(elf)
        self.eeprom = None if eeprom is None else Path(eeprom)
        found = Path(harness) if harness is not None else find_harness()
        if found is None:
            raise HarnessError(
                f"{FIRMWARE_BUILD / HARNESS_NAME} is not built: run `make -C firmware sim`"
            )
        self.harness = found
        self.wait_start = wait_start
        self.extra_args = tuple(extra_args)
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._port = ""
        self._started = threading.Event()
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._command_lock = threading.Lock()
        self._log_lock = threading.Condition()
        self._outputs: list[PinChange] = []
        self._inputs: list[PinChange] = []
        self._scheduled_applied: dict[tuple[str, int, int], int] = {}
        self._resets: list[int] = []
        self._crashed: tuple[int, str] | None = None
        self._closed = False
        self._stderr: list[str] = []
        self._stderr_chars = 0
        self._threads: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> AvrDevice:
        if self._proc is not None:
            raise HarnessError("harness already started")
        if not self.elf.is_file():
            raise HarnessError(f"{self.elf} does not exist: run `make -C firmware`")
        args = [str(self.harness)]
        if self.eeprom is not None:
            args += ["--eeprom", str(self.eeprom)]
        if self.wait_start:
            args.append("--wait-start")
        args += [*self.extra_args, str(self.elf)]
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        for target, stream, name in (
            (self._read_stdout, self._proc.stdout, "out"),
            (self._read_stderr, self._proc.stderr, "err"),
        ):
            thread = threading.Thread(
                target=target, args=(stream,), name=f"avr-{self.elf.stem}-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if not self._started.wait(self.start_timeout_s) or not self._port:
            ended = self._closed  # its stdout closed: it exited (stop() reaps it)
            code = self.stop()
            why = (
                f"exited with code {code}"
                if ended
                else f"printed no pty line within {self.start_timeout_s:.0f} s"
            )
            raise HarnessError(f"harness on {self.elf.name} {why}{self._stderr_tail()}")
        return self

    def __enter__(self) -> AvrDevice:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """Quit (the harness saves the EEPROM), kill it if it does not go; the exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            # not in the middle of another thread's command line (it gives up after its timeout)
            locked = self._command_lock.acquire(timeout=REPLY_TIMEOUT_S)
            try:
                with contextlib.suppress(OSError, ValueError):
                    assert proc.stdin is not None
                    proc.stdin.write("quit\n")
                    proc.stdin.flush()
            finally:
                if locked:
                    self._command_lock.release()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        for thread in self._threads:
            thread.join(timeout_s)
        return proc.returncode

    def terminate(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, as a service manager would stop it; the exit code."""
        proc = self._require_proc()
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)
        for thread in self._threads:
            thread.join(timeout_s)
        return proc.returncode

    @property
    def port(self) -> str:
        """The pty the firmware's USART0 is on: open it as a serial port."""
        return self._port

    @property
    def pid(self) -> int | None:
        """The harness process, for a benchmark that raises its priority."""
        return None if self._proc is None else self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    @property
    def stderr(self) -> str:
        with self._log_lock:
            return "".join(self._stderr)

    # --- commands ---------------------------------------------------------------------------

    def power_up(self) -> None:
        """Start the core of a device made with `wait_start=True` (a no-op otherwise)."""
        self._request("start", "started")

    def set_pin(self, name: str, level: int) -> int:
        """Drive an input pin now; the cycle at which the firmware's pin changed."""
        reply = self._request(f"pin {name} {_level(level)}", "in")
        return int(reply.split()[3])

    def set_pin_at(self, name: str, level: int, cycle: int) -> None:
        """Drive an input pin at a future cycle; `applied_cycle` tells when it was applied."""
        self._request(f"pin {name} {_level(level)} at {int(cycle)}", "sched")

    def applied_cycle(
        self, name: str, level: int, at_cycle: int, timeout_s: float = REPLY_TIMEOUT_S
    ) -> int:
        """The cycle at which a `set_pin_at` edge was applied (waits for it to happen)."""
        key = (pin_name(name), _level(level), int(at_cycle))
        deadline = time.monotonic() + timeout_s
        with self._log_lock:
            while key not in self._scheduled_applied:
                self._raise_if_gone()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(f"{name}={level} at cycle {at_cycle} was not applied")
                self._log_lock.wait(left)
            return self._scheduled_applied[key]

    def command(self, line: str) -> str:
        """Send one raw protocol line; its reply line as it came, `error ...` included."""
        return self._request(line, None)

    def cycle(self) -> int:
        """The current simulated cycle."""
        return int(self._request("cycle", "cycle").split()[1])

    def lag_us(self) -> int:
        """The furthest the simulation has fallen behind the wall clock so far (machine load)."""
        return int(self._request("cycle", "cycle").split()[3])

    def stats(self) -> dict[str, int]:
        """Harness counters: cycle, lag_us, sleeps, tx_bytes, rx_bytes, tx_dropped."""
        words = self._request("stats", "stats").split()[1:]
        return {key: int(value) for key, value in zip(words[::2], words[1::2], strict=True)}

    # --- logs -------------------------------------------------------------------------------

    def outputs(self, pin: str | None = None) -> list[PinChange]:
        """Every output pin change logged so far (pin, level, cycle), oldest first."""
        with self._log_lock:
            return [c for c in self._outputs if pin is None or c.pin == pin_name(pin)]

    def inputs(self) -> list[PinChange]:
        """Every pin level the harness applied, immediate or scheduled, in the order applied."""
        with self._log_lock:
            return list(self._inputs)

    def resets(self) -> list[int]:
        """Cycles at which the core was reset (the watchdog), oldest first."""
        with self._log_lock:
            return list(self._resets)

    def crashed(self) -> tuple[int, str] | None:
        """(cycle, state) if the core stopped for good, else None."""
        with self._log_lock:
            return self._crashed

    def wait_output(
        self,
        pin: str,
        level: int,
        after_cycle: int = 0,
        timeout_s: float = REPLY_TIMEOUT_S,
    ) -> PinChange:
        """The first change of an output pin to `level` at or after a cycle, waiting for it."""
        wanted = pin_name(pin)
        deadline = time.monotonic() + timeout_s
        with self._log_lock:
            while True:
                for change in self._outputs:
                    if (
                        change.pin == wanted
                        and change.level == level
                        and change.cycle >= after_cycle
                    ):
                        return change
                self._raise_if_gone()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(f"{pin} did not go {level} after cycle {after_cycle}")
                self._log_lock.wait(left)

    def wait_reset(self, after_cycle: int = 0, timeout_s: float = REPLY_TIMEOUT_S) -> int:
        """The first reset at or after a cycle, waiting for it."""
        deadline = time.monotonic() + timeout_s
        with self._log_lock:
            while True:
                for cycle in self._resets:
                    if cycle >= after_cycle:
                        return cycle
                self._raise_if_gone()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(f"no reset after cycle {after_cycle}")
                self._log_lock.wait(left)

    def wait_exit(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """Wait for the harness to end on its own (a crash); its exit code."""
        proc = self._require_proc()
        try:
            code = proc.wait(timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"harness still running after {timeout_s} s") from exc
        for thread in self._threads:
            thread.join(timeout_s)
        return code

    # --- internals --------------------------------------------------------------------------

    def _require_proc(self) -> subprocess.Popen[str]:
        if self._proc is None:
            raise HarnessError("harness not started")
        return self._proc

    def _request(self, line: str, expect: str | None) -> str:
        proc = self._require_proc()
        with self._command_lock:
            if self._closed or proc.stdin is None:
                raise HarnessError(f"harness is not running{self._stderr_tail()}")
            try:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
            except (OSError, ValueError) as exc:
                raise HarnessError(f"harness is not running{self._stderr_tail()}") from exc
            try:
                reply = self._replies.get(timeout=REPLY_TIMEOUT_S)
            except queue.Empty as exc:
                raise HarnessError(f"no reply to {line!r} within {REPLY_TIMEOUT_S} s") from exc
        if reply is None:
            raise HarnessError(f"harness ended during {line!r}{self._stderr_tail()}")
        if expect is None:
            return reply
        if reply.startswith("error"):
            raise HarnessError(f"{line!r}: {reply[len('error ') :]}")
        if reply.split()[0] != expect:
            raise HarnessError(f"unexpected reply to {line!r}: {reply!r}")
        return reply

    def _read_stdout(self, stream: IO[str]) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            words = line.split()
            if not words:
                continue
            with self._log_lock:
                try:
                    routed = self._route(words)
                except ValueError:
                    routed = False  # not a log line after all: let the caller see it
                if not routed:
                    self._replies.put(line)
                self._log_lock.notify_all()
        with self._log_lock:
            self._closed = True
            self._started.set()
            self._log_lock.notify_all()
        self._replies.put(None)

    def _route(self, words: list[str]) -> bool:
        """Keep an asynchronous line in its log (True), or say it is a command's reply (False).

        Called with _log_lock held. A malformed number raises ValueError.
        """
        kind, n = words[0], len(words)
        if kind == "pty" and n == 2:
            self._port = words[1]
            self._started.set()
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

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            with self._log_lock:
                self._stderr.append(line)
                self._stderr_chars += len(line)
                while self._stderr_chars > STDERR_KEEP_CHARS and len(self._stderr) > 1:
                    self._stderr_chars -= len(self._stderr.pop(0))

    def _raise_if_gone(self) -> None:
        # called with _log_lock held
        if self._crashed is not None:
            cycle, state = self._crashed
            raise HarnessError(f"firmware {state} at cycle {cycle}")
        if self._closed:
            raise HarnessError(f"harness ended{self._stderr_tail()}")

    def _stderr_tail(self) -> str:
        with self._log_lock:  # a reentrant lock: callers may hold it already
            text = "".join(self._stderr).strip()
        return f"; harness stderr:\n{text[-2000:]}" if text else ""


def _level(level: int) -> int:
    if level not in (0, 1):
        raise ValueError(f"pin level must be 0 or 1, not {level!r}")
    return int(level)
