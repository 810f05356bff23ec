"""The pseudo-terminal plumbing every simulated device shares: a raw line, and closing it.

A simulated device stands where a USB-serial cable would, so its pty must carry bytes as they
are (no echo, no CR/LF rewriting), and pulling the cable closes both ends whatever state they
are in.
"""

from __future__ import annotations

import contextlib
import os
import tty


def open_raw_pty() -> tuple[int, int, str]:
    """A new pty as (master, slave, slave path), raw both ends and the master non-blocking.

    Raw because a cooked pty would echo and turn the 0x0D that the devices send into 0x0A;
    non-blocking because the device thread waits on it with select, never in a read.
    """
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(master, False)
    return master, slave, os.ttyname(slave)


def close_fds(*fds: int | None) -> None:
    """Close what is open; an fd the other end already closed is no error on a pulled cable."""
    for fd in fds:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
