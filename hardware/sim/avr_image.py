"""The files around the simulated firmware: where the images and the harness are built, what
an EEPROM holds, and the conversion between harness cycles and microseconds.

Plain functions with no process behind them, so tests and benchmarks can prepare a device
(its id, its boot counter) before hardware.sim.avr starts the harness on it.
"""

from __future__ import annotations

import os
from pathlib import Path

F_CPU = 16_000_000
EEPROM_SIZE = 1024
ERASED_ID = 0xFFFF_FFFF

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_BUILD = REPO_ROOT / "firmware" / "build"
HARNESS_NAME = "simavr-harness"


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
