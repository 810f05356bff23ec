"""The real firmware in simavr: starts firmware/sim's harness on an ELF and talks its line protocol.

The harness (firmware/sim/README.md) puts USART0 on a pty, paces the simulation to the wall
clock, applies pin levels at exact cycles and logs output pins with the cycle they changed at.
Cycles are the ground truth a test compares the host's timings against: F_CPU cycles a second
since the simulated power-up, monotonic across watchdog resets.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from hardware.sim.avr_image import FIRMWARE_BUILD, HARNESS_NAME, find_harness
from hardware.sim.avr_log import REPLY_TIMEOUT_S, HarnessError, HarnessLog, PinChange

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0

__all__ = ["AvrDevice", "HarnessError", "PinChange"]


class AvrDevice:
    """One ATmega328P running an ELF under the harness; a context manager that stops it.

    A reader thread routes the harness's lines: replies to the one command in flight go to
    that caller, while `out`, scheduled `in`, `reset` and `crashed` lines, which arrive at any
    time, are kept in a HarnessLog that any thread can read.
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
        self._log = HarnessLog()
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._command_lock = threading.Lock()
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
        if not self._log.started.wait(self.start_timeout_s) or not self._log.port:
            ended = self._log.closed  # its stdout closed: it exited (stop() reaps it)
            code = self.stop()
            why = (
                f"exited with code {code}"
                if ended
                else f"printed no pty line within {self.start_timeout_s:.0f} s"
            )
            raise HarnessError(f"harness on {self.elf.name} {why}{self._log.stderr_tail()}")
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
        return self._log.port

    @property
    def pid(self) -> int | None:
        """The harness process, for a benchmark that raises its priority."""
        return None if self._proc is None else self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    @property
    def stderr(self) -> str:
        return self._log.stderr

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
        return self._log.applied_cycle(name, _level(level), int(at_cycle), timeout_s)

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
        return self._log.outputs(pin)

    def inputs(self) -> list[PinChange]:
        """Every pin level the harness applied, immediate or scheduled, in the order applied."""
        return self._log.inputs()

    def resets(self) -> list[int]:
        """Cycles at which the core was reset (the watchdog), oldest first."""
        return self._log.resets()

    def crashed(self) -> tuple[int, str] | None:
        """(cycle, state) if the core stopped for good, else None."""
        return self._log.crashed()

    def wait_output(
        self,
        pin: str,
        level: int,
        after_cycle: int = 0,
        timeout_s: float = REPLY_TIMEOUT_S,
    ) -> PinChange:
        """The first change of an output pin to `level` at or after a cycle, waiting for it."""
        return self._log.wait_output(pin, level, after_cycle, timeout_s)

    def wait_reset(self, after_cycle: int = 0, timeout_s: float = REPLY_TIMEOUT_S) -> int:
        """The first reset at or after a cycle, waiting for it."""
        return self._log.wait_reset(after_cycle, timeout_s)

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
            if self._log.closed or proc.stdin is None:
                raise HarnessError(f"harness is not running{self._log.stderr_tail()}")
            try:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
            except (OSError, ValueError) as exc:
                raise HarnessError(f"harness is not running{self._log.stderr_tail()}") from exc
            try:
                reply = self._replies.get(timeout=REPLY_TIMEOUT_S)
            except queue.Empty as exc:
                raise HarnessError(f"no reply to {line!r} within {REPLY_TIMEOUT_S} s") from exc
        if reply is None:
            raise HarnessError(f"harness ended during {line!r}{self._log.stderr_tail()}")
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
            with self._log.lock:
                try:
                    routed = self._log.route(words)
                except ValueError:
                    routed = False  # not a log line after all: let the caller see it
                if not routed:
                    self._replies.put(line)
                self._log.lock.notify_all()
        self._log.end()
        self._replies.put(None)

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self._log.add_stderr(line)


def _level(level: int) -> int:
    if level not in (0, 1):
        raise ValueError(f"pin level must be 0 or 1, not {level!r}")
    return int(level)
