"""Builds the firmware and the simavr harness once per session, or skips with the reason.

The tests run the exact images `make -C firmware` builds for a Nano. On a machine without the
AVR toolchain or simavr they skip and say what to install; under CI=true they fail instead,
since .ci/run installs both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hardware.sim.avr_image import FIRMWARE_BUILD, REPO_ROOT, find_harness, firmware_elf

NEEDS = "apt-get install gcc-avr binutils-avr avr-libc simavr libsimavr-dev pkg-config"


def _missing() -> str | None:
    if shutil.which("avr-gcc") is None:
        return "avr-gcc is not installed"
    if not Path("/usr/include/simavr/sim_avr.h").is_file():
        return "libsimavr-dev is not installed"
    return None


@pytest.fixture(scope="session")
def firmware_built() -> Path:
    """Runs `make -C firmware all sim` and returns the build folder."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}; .ci/run must install it ({NEEDS})")
        pytest.skip(f"{missing} ({NEEDS})")
    done = subprocess.run(
        ["make", "-C", str(REPO_ROOT / "firmware"), "all", "sim"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert find_harness() is not None
    for name in ("gate", "pod"):
        assert firmware_elf(name).is_file()
    return FIRMWARE_BUILD
