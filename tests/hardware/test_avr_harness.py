"""The simavr harness itself (firmware/sim), on its selftest firmware (firmware/sim/selftest).

The selftest's behaviour is fixed and known (see the top of selftest.c): a banner at boot, an
echo of every byte, D9 toggling every 16000 cycles, D13 and D11 mirroring D8 and D2, an ICP1
report per falling edge on D8, a timer-flag check on D6 low, a watchdog hang on D12 low and a
stop on D7 low. Every check here
is in cycles or bytes, except the pacing one, which compares cycles with the wall clock over two
seconds and allows for any lag the harness reports.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import shutil
import subprocess
import termios
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from hardware.sim.avr import AvrDevice, HarnessError
from hardware.sim.avr_image import (
    EEPROM_SIZE,
    ERASED_ID,
    F_CPU,
    REPO_ROOT,
    eeprom_image,
    firmware_elf,
    read_eeprom_header,
    write_eeprom,
)
from tests.support import skip_or_fail

TOGGLE_CYCLES = 16_000  # selftest: Timer1 prescaler 8, 2000 ticks
FRAME_CYCLES = 1_360  # 115200 8N1 with U2X, UBRR0 = 16: 10 bits of 136 cycles
MAIN_LOOP_CYCLES = 6 * FRAME_CYCLES + 1_000  # a pass that sends both 3-byte reports, at most
BANNER_LEN = 10  # 'S' 'T' id[4] boot[4]
CAPTURE_TAG = 0xC1  # ICP1 report: ICR1
INT0_TAG = 0xD2  # INT0 report: TCNT1 read in the interrupt
FLAG_WAIT_TAG = 0xF0  # flag check: interrupts off, waiting for ICF1 and TOV1
FLAG_TAG = 0xF1  # flag check: TIFR1 & (ICF1 | TOV1) after TIFR1 = _BV(OCF1A)
ICF1, TOV1 = 0x20, 0x01
ONE_MS = F_CPU // 1000


@pytest.fixture(scope="session")
def selftest_elf() -> Path:
    """Build the harness and the selftest once, as CI does (`make -C firmware sim`)."""
    if shutil.which("avr-gcc") is None:
        skip_or_fail("avr-gcc is not installed (Debian: gcc-avr avr-libc)")
    if shutil.which("pkg-config") is None or (
        subprocess.run(["pkg-config", "--exists", "simavr"], check=False).returncode != 0
    ):
        skip_or_fail("libsimavr-dev is not installed (Debian: simavr libsimavr-dev)")
    build = subprocess.run(
        ["make", "-C", str(REPO_ROOT / "firmware"), "-f", "sim/harness.mk", "sim"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return firmware_elf("sim-selftest")


@pytest.fixture
def device(selftest_elf: Path, tmp_path: Path) -> Iterator[AvrDevice]:
    with AvrDevice(selftest_elf, eeprom=write_eeprom(tmp_path / "ee.bin", 0x0A0B0C0D)) as dev:
        yield dev


@contextlib.contextmanager
def powered(elf: Path, eeprom: Path | None = None) -> Iterator[tuple[AvrDevice, serial.Serial]]:
    """A device whose port is open before it boots, so the test sees the banner."""
    with AvrDevice(elf, eeprom=eeprom, wait_start=True) as dev, open_port(dev) as port:
        dev.power_up()
        yield dev, port


def open_port(dev: AvrDevice) -> serial.Serial:
    # pyserial flushes the tty's input when it opens it: bytes sent before are gone
    return serial.Serial(dev.port, 115200, timeout=3)


def read_exactly(port: serial.Serial, count: int) -> bytes:
    data = port.read(count)
    assert len(data) == count, f"wanted {count} bytes, got {data.hex()}"
    return bytes(data)


def read_banner(port: serial.Serial) -> tuple[int, int]:
    banner = read_exactly(port, BANNER_LEN)
    assert banner[:2] == b"ST", banner.hex()
    return int.from_bytes(banner[2:6], "big"), int.from_bytes(banner[6:10], "big")


def wait_cycles(dev: AvrDevice, cycles: int) -> int:
    """Let at least `cycles` simulated cycles pass; the cycle reached."""
    target = dev.cycle() + cycles
    while (now := dev.cycle()) < target:
        time.sleep(cycles / F_CPU / 4)
    return now


def test_pty_passes_every_byte_value_both_ways(selftest_elf: Path, tmp_path: Path) -> None:
    # the bytes a cooked tty or XON/XOFF flow control would eat or change, then all 256
    tricky = bytes([0x7E, 0x0D, 0x0A, 0x11, 0x13, 0x00, 0xFF, 0x03, 0x1A, 0x7F])
    payload = tricky + bytes(range(256)) + tricky
    image = write_eeprom(tmp_path / "ee.bin", 0x0A0B0C0D)
    with powered(selftest_elf, image) as (device, port):
        assert read_banner(port) == (0x0A0B0C0D, 1)
        port.write(payload)
        assert read_exactly(port, len(payload)) == payload
        stats = device.stats()
        received = device.outputs("D10")  # toggled by each receive interrupt
    assert len(received) == len(payload)
    gaps = sorted(b.cycle - a.cycle for a, b in itertools.pairwise(received))
    # the bytes came back to back: one 8N1 frame apart (simavr alone counts 11 bits, and
    # would run at half speed here, as the selftest sets U2X0 after UBRR0)
    assert abs(gaps[len(gaps) // 2] - FRAME_CYCLES) <= 8
    assert stats["rx_bytes"] == len(payload)
    assert stats["tx_bytes"] == BANNER_LEN + len(payload)
    assert stats["tx_dropped"] == 0


def test_firmware_bytes_wait_in_the_pty_until_the_host_opens_it(device: AvrDevice) -> None:
    wait_cycles(device, 20 * ONE_MS)  # the banner went out at about 1 ms
    fd = os.open(device.port, os.O_RDWR | os.O_NOCTTY)  # no flush on open, unlike pyserial
    try:
        tty.setraw(fd, termios.TCSANOW)  # the default, TCSAFLUSH, would drop them too
        data = b""
        while len(data) < BANNER_LEN and select.select([fd], [], [], 3)[0]:
            data += os.read(fd, BANNER_LEN - len(data))
    finally:
        os.close(fd)
    assert data == b"ST" + bytes([0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 1])


def test_injected_low_holds_while_the_firmware_rewrites_the_port(device: AvrDevice) -> None:
    # D8 and D2 have pull-ups; simavr 1.6 would pull them HIGH again at every PORTx write
    device.wait_output("D13", 1)
    device.wait_output("D11", 1)
    low_d8 = device.set_pin("D8", 0)
    low_d2 = device.set_pin("D2", 0)
    mirrored_d8 = device.wait_output("D13", 0, after_cycle=low_d8)
    mirrored_d2 = device.wait_output("D11", 0, after_cycle=low_d2)
    # within one pass of the main loop, which may include sending the edge reports
    assert mirrored_d8.cycle - low_d8 < MAIN_LOOP_CYCLES
    assert mirrored_d2.cycle - low_d2 < MAIN_LOOP_CYCLES

    held_until = wait_cycles(device, 30 * ONE_MS)
    toggles = [c for c in device.outputs("D9") if low_d8 < c.cycle < held_until]
    assert len(toggles) >= 25  # the compare ISR wrote PORTB all along, the main loop too
    assert not [c for c in device.outputs("D13") if c.cycle > low_d8 and c.level == 1]
    assert not [c for c in device.outputs("D11") if c.cycle > low_d2 and c.level == 1]

    high = device.set_pin("D8", 1)
    assert device.wait_output("D13", 1, after_cycle=high).cycle - high < MAIN_LOOP_CYCLES
    # inputs are never reported as outputs, injected or not
    assert not device.outputs("D8") and not device.outputs("D2")
    assert [(c.pin, c.level) for c in device.inputs()] == [("D8", 0), ("D2", 0), ("D8", 1)]


def test_output_log_gives_the_cycle_of_each_toggle(device: AvrDevice) -> None:
    wait_cycles(device, 60 * ONE_MS)
    toggles = device.outputs("D9")
    assert len(toggles) >= 50
    assert all(a.level != b.level for a, b in itertools.pairwise(toggles))
    intervals = [b.cycle - a.cycle for a, b in itertools.pairwise(toggles)]
    # interrupt latency moves a single toggle by a few cycles, never the period
    assert all(abs(i - TOGGLE_CYCLES) <= 32 for i in intervals), intervals
    span = toggles[-1].cycle - toggles[0].cycle
    assert abs(span - TOGGLE_CYCLES * len(intervals)) <= 32


def test_scheduled_edges_land_on_their_cycle_for_capture_and_int0(selftest_elf: Path) -> None:
    with powered(selftest_elf) as (device, port):
        read_banner(port)
        start = device.cycle() + 5 * ONE_MS
        plan = [
            ("D8", 0, start),
            ("D8", 1, start + 8_000),
            ("D8", 0, start + 20_345),
            ("D2", 0, start + 40_000),
            ("D2", 1, start + 48_000),
            ("D2", 0, start + 63_456),
        ]
        for pin, level, cycle in plan:
            device.set_pin_at(pin, level, cycle)
        applied = [device.applied_cycle(pin, level, cycle) for pin, level, cycle in plan]
        # an edge lands at the first instruction boundary at or after its cycle
        late = [a - c for a, (_, _, c) in zip(applied, plan, strict=True)]
        assert all(0 <= d <= 4 for d in late), late
        reports = read_exactly(port, 12)
    tags = [reports[i] for i in range(0, 12, 3)]
    stamps = [int.from_bytes(reports[i + 1 : i + 3], "big") for i in range(0, 12, 3)]
    assert tags == [CAPTURE_TAG, CAPTURE_TAG, INT0_TAG, INT0_TAG], reports.hex()
    # Timer1 counts every 8 cycles: input capture stamps the applied cycle to one tick...
    icp_ticks = (stamps[1] - stamps[0]) % 65536
    assert abs(icp_ticks * 8 - (applied[2] - applied[0])) < 8
    # ...and INT0 fires at it, give or take the interrupt latency
    int0_ticks = (stamps[3] - stamps[2]) % 65536
    assert abs(int0_ticks * 8 - (applied[5] - applied[3])) < 64


def test_clearing_one_timer_flag_keeps_a_capture_raised_while_interrupts_were_off(
    selftest_elf: Path,
) -> None:
    # simavr 1.6 clears every Timer1 flag on any TIFR1 write, so re-arming a compare alarm
    # with interrupts off lost a touch (and could lose a counter wrap) that landed meanwhile
    with powered(selftest_elf) as (device, port):
        read_banner(port)
        device.set_pin("D6", 0)
        assert read_exactly(port, 1) == bytes([FLAG_WAIT_TAG])
        device.set_pin("D8", 0)
        device.set_pin("D8", 1)
        flags = read_exactly(port, 2)
        assert flags == bytes([FLAG_TAG, ICF1 | TOV1]), flags.hex()
        # the capture interrupt ran once interrupts were back on
        assert read_exactly(port, 3)[0] == CAPTURE_TAG
        device.set_pin("D6", 1)


def test_a_cycle_already_passed_is_refused_and_the_harness_carries_on(
    device: AvrDevice,
) -> None:
    now = device.cycle()
    with pytest.raises(HarnessError, match="already passed"):
        device.set_pin_at("D8", 0, now)
    with pytest.raises(HarnessError, match="unknown pin"):
        device.set_pin("D14", 0)
    assert device.command("pin D8 2").startswith("error level")
    assert device.command("pin D8").startswith("error usage")
    assert device.command("jump").startswith("error unknown command")
    assert device.command("pin PB0 0").split()[:3] == ["in", "D8", "0"]
    assert device.cycle() > now


def test_pacing_keeps_simulated_time_on_the_wall_clock(device: AvrDevice) -> None:
    sent0 = time.monotonic()
    cycle0 = device.cycle()
    got0 = time.monotonic()
    time.sleep(2.0)
    sent1 = time.monotonic()
    cycle1 = device.cycle()
    got1 = time.monotonic()
    lag_s = device.lag_us() / 1e6
    simulated_s = (cycle1 - cycle0) / F_CPU
    # Never ahead of the wall clock (the harness allows itself about 100 us), never behind it
    # by more than 3 %, except by the lag it admits to: on a loaded machine it falls behind,
    # then catches up, so the first reading may have been late.
    assert simulated_s <= (got1 - sent0) + 0.0002 + lag_s
    assert simulated_s >= (sent1 - got0) * 0.97 - lag_s


def test_eeprom_is_loaded_and_written_back(selftest_elf: Path, tmp_path: Path) -> None:
    image = write_eeprom(tmp_path / "ee.bin", 0x12345678, boot_counter=5)
    for boot in (6, 7):
        with powered(selftest_elf, image) as (dev, port):
            assert read_banner(port) == (0x12345678, boot)
        assert dev.returncode == 0
        assert read_eeprom_header(image) == (0x12345678, boot)
    data = image.read_bytes()
    assert len(data) == EEPROM_SIZE and data[8:] == b"\xff" * (EEPROM_SIZE - 8)


def test_a_missing_eeprom_file_is_an_erased_eeprom(selftest_elf: Path, tmp_path: Path) -> None:
    image = tmp_path / "new.bin"
    with powered(selftest_elf, image) as (_dev, port):
        assert read_banner(port) == (ERASED_ID, 0)  # the erased counter wraps to 0
    assert image.read_bytes() == eeprom_image(ERASED_ID, 0)


def test_sigterm_saves_the_eeprom_and_exits_cleanly(selftest_elf: Path, tmp_path: Path) -> None:
    image = write_eeprom(tmp_path / "ee.bin", 0x01020304, boot_counter=41)
    dev = AvrDevice(selftest_elf, eeprom=image, wait_start=True).start()
    try:
        with open_port(dev) as port:
            dev.power_up()
            read_banner(port)
        assert dev.terminate() == 0
    finally:
        dev.stop()
    assert read_eeprom_header(image) == (0x01020304, 42)


def test_watchdog_resets_the_core_and_pins_keep_their_levels(selftest_elf: Path) -> None:
    with powered(selftest_elf) as (device, port):
        assert read_banner(port)[1] == 0  # no EEPROM file: erased, the counter wraps to 0
        device.set_pin("D8", 1)  # driven HIGH: must read HIGH after the reset too
        hang = device.set_pin("D12", 0)
        reset = device.wait_reset(after_cycle=hang)
        # WDTO_15MS: simavr's watchdog runs at 128 kHz, 2048 periods
        assert 15 * ONE_MS < reset - hang < 20 * ONE_MS
        assert read_banner(port)[1] == 1  # booted again, counted again
        assert device.wait_output("D13", 1, after_cycle=reset).cycle - reset < 40_000
        device.set_pin("D12", 1)
        assert device.cycle() > reset  # cycles stay monotonic across the reset
        assert device.resets() == [reset]


def test_a_stopped_core_is_reported_and_ends_the_harness(
    selftest_elf: Path, tmp_path: Path
) -> None:
    image = write_eeprom(tmp_path / "ee.bin", 0x0000_0007)
    dev = AvrDevice(selftest_elf, eeprom=image).start()
    try:
        stop = dev.set_pin("D7", 0)  # the selftest then sleeps with interrupts off
        assert dev.wait_exit() == 3
        crash = dev.crashed()
        assert crash is not None and crash[0] >= stop and crash[1] == "done"
        with pytest.raises(HarnessError):
            dev.cycle()
    finally:
        dev.stop()
    assert read_eeprom_header(image) == (7, 1)  # saved on the way out


def test_a_file_that_is_not_firmware_fails_with_the_harness_message(
    selftest_elf: Path, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.elf"
    bogus.write_bytes(b"not an ELF file")
    with pytest.raises(HarnessError, match=r"exited with code 2(.|\n)*cannot load"):
        AvrDevice(bogus).start()
