"""A port whose device does not speak protocol v1, shown to the rest of the program as one that
does: one DeviceState in the shared registry, DeviceEvents in order, counters for the devices
page. The device kinds (Chronopic, Timy) say how to read their bytes and how to tell whether
the port answers as one; everything they have in common is here.

Neither kind has a clock query, so a ReceiptClock maps its timeline to host time from the
receipt of its own records, and every event says so (`by_receipt`): a split against another
device's clock is then marked cross-device with the receipt jitter as its error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any, ClassVar, Final

from hardware.adapters.receipt_clock import ReceiptClock
from hardware.cues import Cues
from hardware.device_state import DeviceState
from hardware.errors import DeviceNotReady, LinkError
from hardware.link import Decoder, RecordLink
from hardware.messages import Caps, DeviceKind, EventKind, Message
from hardware.records import (
    DeviceEvent,
    DeviceHandler,
    DeviceInfo,
    EventHandler,
    LostHandler,
)
from hardware.registry import DeviceRegistry

log = logging.getLogger(__name__)

ADAPTERS: Final = ("chronopic", "timy")
# Kinds whose one input carries several photocells wired in parallel: roles bind to its
# successive breaks (DeviceInfo.successive_breaks), so many roles share its channel 0.
SUCCESSIVE_BREAK_ADAPTERS: Final = ("chronopic",)
# What a Timy's RS232 can be set to (ALGE's menu); a Chronopic only ever talks at 9600.
TIMY_BAUDRATES: Final = (1200, 2400, 4800, 9600, 19200, 38400)
DEFAULT_BAUDRATE: Final = 9600
ADAPTER_SYNTAX: Final = "chronopic:PATH, timy:PATH, timy:PATH@BAUD or timy:PATH@BAUD,bibs"
# A Timy set to start numbers (not its default impulse counter): each line's number is the
# athlete's bib, and names the athlete of the rep it starts.
BIBS_OPTION: Final = "bibs"


@dataclass(frozen=True)
class AdapterSpec:
    """`chronopic:/dev/ttyUSB0` or `timy:/dev/ttyUSB1@38400,bibs` as the program reads it."""

    adapter: str
    path: str
    baudrate: int = DEFAULT_BAUDRATE
    bibs: bool = False  # a Timy's number field is a start number (the coach turned it on)

    @property
    def url(self) -> str:
        """The one spelling of this port, the key of its session and the device's `port`."""
        speed = "" if self.baudrate == DEFAULT_BAUDRATE else f"@{self.baudrate}"
        return f"{self.adapter}:{self.path}{speed}" + (f",{BIBS_OPTION}" if self.bibs else "")


def parse_adapter_url(url: str) -> AdapterSpec | None:
    """The adapter a port is given with, or None for a plain (protocol v1) port; ValueError
    with a message a coach can act on for a prefix that is ours but badly written."""
    adapter, colon, rest = url.partition(":")
    if not colon or adapter.lower() not in ADAPTERS:
        return None
    adapter = adapter.lower()
    rest, comma, option = rest.rpartition(",") if "," in rest else (rest, "", "")
    bibs = bool(comma)
    if comma and (option.strip().lower() != BIBS_OPTION or adapter != "timy"):
        raise ValueError(
            f"{url!r}: the only option after ',' is 'bibs', for a Timy set to start numbers"
        )
    path, at, speed = rest.rpartition("@")
    if not at:
        path, speed = rest, ""
    if not path.strip():
        raise ValueError(f"{url!r}: no port after '{adapter}:' (write {ADAPTER_SYNTAX})")
    if not speed:
        return AdapterSpec(adapter, path, DEFAULT_BAUDRATE, bibs)
    if adapter == "chronopic":
        raise ValueError(f"{url!r}: a Chronopic talks at 9600 baud only; write chronopic:{path}")
    if not speed.isdigit() or int(speed) not in TIMY_BAUDRATES:
        choices = ", ".join(map(str, TIMY_BAUDRATES))
        raise ValueError(f"{url!r}: {speed!r} is not a Timy baud rate ({choices})")
    return AdapterSpec(adapter, path, int(speed), bibs)


def successive_breaks_key(device_key: str) -> bool:
    """Whether the device called `device_key` takes several roles on one input (known from
    the key alone, so a saved layout can be checked with the device unplugged)."""
    return any(device_key.startswith(f"{a}-") for a in SUCCESSIVE_BREAK_ADAPTERS)


def port_identity(path: str) -> str:
    """What stays the same when this port's cable is replugged: the USB-serial bridge's serial
    number when it has one, else the path (a Chronopic's FTDI has one; many RS232 cables
    do not)."""
    try:
        from serial.tools.list_ports import comports

        for port in comports():
            if port.device == path and port.serial_number:
                return f"usb-serial:{port.serial_number}"
    except Exception:  # listing ports is a nicety here; the path always works
        log.debug("could not list ports to identify %s", path, exc_info=True)
    return f"path:{path}"


_last_boot_id = 0


def new_boot_id() -> int:
    """A boot id for a conversation that starts now: wall seconds, never repeated in this
    process. Raw events are stored by (device, boot, seq), and these devices number nothing
    themselves, so the id must not repeat across restarts of the host either."""
    global _last_boot_id
    _last_boot_id = max(int(time.time()) & 0xFFFFFFFF, _last_boot_id + 1)
    return _last_boot_id


class AdapterSession(Cues, ABC):
    """One port carrying one device that speaks its own format; runs on the asyncio loop."""

    adapter: ClassVar[str]
    tick_us: ClassVar[int]
    channels: ClassVar[int]
    successive_breaks: ClassVar[bool] = False

    def __init__(
        self,
        spec: AdapterSpec,
        on_event: EventHandler,
        on_device: DeviceHandler | None = None,
        on_lost: LostHandler | None = None,
        registry: DeviceRegistry | None = None,
        identity: str | None = None,
    ) -> None:
        super().__init__(registry if registry is not None else DeviceRegistry())
        self.spec = spec
        self.url = spec.url
        self._on_event = on_event
        self._on_device = on_device
        self._on_lost = on_lost
        self._identity = identity
        self._link: RecordLink[Any] | None = None
        self._clock = ReceiptClock(self.tick_us)
        self._next_seq = 0
        self.devices: dict[int, DeviceState] = {}
        self.lost = False
        self._record_decoder = self._make_decoder()

    # --- what a device kind provides -----------------------------------------------------------

    @abstractmethod
    def _make_decoder(self) -> Decoder[Any]:
        """The decoder for this kind's byte stream, with the kind's own state set up beside
        it (called once, from __init__: each opening of a port is a new session)."""

    @abstractmethod
    def _handle_record(self, record: Any) -> None:
        """One decoded record, on the loop."""

    @abstractmethod
    def _decoder_stats(self) -> object:
        """The decoder's counters (a dataclass of ints)."""

    async def _identify(self) -> None:
        """Make sure the port answers as this kind; raise LinkError saying so if it does not."""

    async def _after_attach(self) -> None:
        """Ask the device what it can tell once attached (a Chronopic's input and debounce)."""

    @property
    def details(self) -> dict[str, Any]:
        """Kind-specific facts for the devices page (a Chronopic's debounce, ...)."""
        return {}

    @property
    def warning(self) -> str | None:
        """Something a coach should know about this port, in words (e.g. a wrong baud rate)."""
        return None

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        identity = self._identity
        if identity is None:
            identity = await asyncio.to_thread(port_identity, self.spec.path)
        link: RecordLink[Any] = RecordLink(
            self.spec.path, loop, self._record_decoder, self._on_record, self._handle_closed,
            baudrate=self.spec.baudrate,
        )  # fmt: skip
        link.open()
        self._link = link
        self.lost = False
        try:
            await self._identify()
        except BaseException:
            await self.stop()
            raise
        self._attach(identity)
        try:
            await self._after_attach()
        except LinkError as exc:
            log.warning("%s: %s", self.url, exc)

    async def stop(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()
        for state in self.devices.values():
            if state.owner is self:
                state.mark_lost()

    async def wait_ready(self, timeout_s: float = 10.0, count: int = 1) -> list[DeviceState]:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            ready = [d for d in self.devices.values() if d.ready]
            if len(ready) >= count:
                return ready
            if asyncio.get_running_loop().time() > deadline:
                raise DeviceNotReady(f"{self.url}: no {self.adapter} ready after {timeout_s:g} s")
            await asyncio.sleep(0.02)

    def _attach(self, identity: str) -> None:
        device_id = zlib.crc32(f"{self.adapter}:{identity}".encode())
        info = DeviceInfo(
            port=self.url, addr=0, kind=DeviceKind.GATE, device_id=device_id,
            boot_id=new_boot_id(), firmware=(0, 0, 0), nominal_tick_hz=1_000_000 // self.tick_us,
            channels=self.channels, proto=0, caps=Caps.BEAM, adapter=self.adapter,
            successive_breaks=self.successive_breaks,
        )  # fmt: skip
        # Every open is a new boot: the device's timeline restarts with our reading of it.
        self._clock = ReceiptClock(self.tick_us)
        self._next_seq = 0
        state, _ = self.registry.resume_or_create(info, clock=self._clock)
        if state.owner is not None and state.owner is not self:
            state.owner.release(state)
        state.attach(self, info)
        self.devices[0] = state
        log.info("%s: found %s (%s)", self.url, info.key, identity)
        if self._on_device is not None:
            self._on_device(info)

    @property
    def state(self) -> DeviceState | None:
        """The device on this port, once the port answered as its kind."""
        return self.devices.get(0)

    # --- Owner (hardware.registry) -------------------------------------------------------------

    def send_message(self, addr: int, msg: Message) -> int:
        del addr
        raise LinkError(
            f"{self.url}: a {self.adapter.capitalize()} takes no {type(msg).__name__}: it has no "
            "lights or beeper this program can drive"
        )

    def release(self, state: DeviceState) -> None:
        for addr in [a for a, s in self.devices.items() if s is state]:
            del self.devices[addr]

    # --- from the link -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._link is None or self.lost:
            raise LinkError(f"{self.url} is closed")
        self._link.write(data)

    def _on_record(self, record: Any, received_mono_us: int) -> None:
        del received_mono_us  # each record carries the receipt of the bytes that completed it
        self._handle_record(record)

    def _handle_closed(self, error: BaseException | None) -> None:
        self.lost = True
        log.warning("%s: link lost: %s", self.url, error)
        for state in self.devices.values():
            if state.owner is self:
                state.mark_lost()
        if self._on_lost is not None:
            self._on_lost(self.url, error)

    def deliver(
        self, channel: int, kind: EventKind, ticks: int, received_mono_us: int, *,
        line_us: float, manual: bool = False, coarse: bool = False, bib: int | None = None,
    ) -> DeviceEvent | None:  # fmt: skip
        """Hand one edge on as a DeviceEvent, mapped to host time by receipt. `line_us`: the
        least its record can take to arrive, taken off the receipt for the clock. An edge
        placed by receipt (`coarse`) teaches the clock nothing and is not fed to it."""
        state = self.state
        if state is None:
            return None
        if not coarse or self._clock.sample_count == 0:
            self._clock.add(ticks, round(received_mono_us - line_us))
        event = DeviceEvent(
            device=state.key, boot_id=state.info.boot_id, seq=self._next_seq, channel=channel,
            kind=kind, ticks=ticks, tick_hz_est=float(state.info.nominal_tick_hz),
            mono_us=round(self._clock.mono_us(ticks)), received_mono_us=received_mono_us,
            sync_error_us=self._clock.error_bound_us, by_receipt=True, manual=manual,
            coarse=coarse, bib=bib,
        )  # fmt: skip
        self._next_seq += 1
        state.events += 1
        state.last_event_mono_us = received_mono_us
        try:
            self._on_event(event)
        except Exception:
            log.exception("%s: event listener failed on %s", self.url, event)
        return event

    def restart_timeline(self) -> None:
        """The device's timeline restarted under us (a Chronopic reset): the clock forgets."""
        self._clock.reset()

    @property
    def link_stats(self) -> dict[str, int]:
        stats = self._decoder_stats()
        counts = asdict(stats) if is_dataclass(stats) and not isinstance(stats, type) else {}
        return {k: v for k, v in counts.items() if isinstance(v, int)}


async def wait_for(event: asyncio.Event, timeout_s: float) -> bool:
    """True if `event` is set within `timeout_s`."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout_s)
    return event.is_set()
