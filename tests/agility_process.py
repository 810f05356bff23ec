"""`agility ...` in a child process, for tests that drive the command line as a coach would."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

PROCESS_TIMEOUT_S = 90.0


class Agility:
    """`agility ...` in a child process, its output read line by line as it comes."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(pipe, lines), daemon=True)
            for pipe, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe: object, lines: list[str]) -> None:
        for line in pipe:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + PROCESS_TIMEOUT_S
        while not any(text in line for line in self.err + self.out):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.finish()
                raise AssertionError(f"no {text!r}; stderr:\n" + "\n".join(self.err))
            time.sleep(0.02)

    def finish(self) -> int:
        try:
            code = self.proc.wait(timeout=PROCESS_TIMEOUT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def stop(self) -> None:
        """Ends the process if it is still running (a test that failed half way)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
