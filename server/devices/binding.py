"""Binding a drill's roles to devices and channels from the terminal (`agility run --role`,
`--layout`), and waiting until those devices can time a rep.

Every problem is one line a coach can act on: a role the drill does not have, a role left
unbound, a device that never said HELLO, a channel the device does not have, a clock that did
not synchronise in time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TextIO

from drills import Drill, StartType
from drills.crossing import Trigger
from hardware.adapters.session import ADAPTERS
from hardware.device_state import DeviceState
from hardware.messages import DeviceKind
from hardware.records import DeviceInfo, device_key
from hardware.registry import DeviceRegistry
from server.devices.service import DeviceService
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.runs.coordinator import Binding

ROLE_SYNTAX = "ROLE=DEVICE:CHANNEL[,BOTTOM]"
_KEY = re.compile(r"(?:(?P<kind>[a-z]+)-)?(?:0x)?(?P<id>[0-9a-f]{1,8})", re.IGNORECASE)
# Timy channels by what ALGE calls them: c0 the start, c1 the finish, c2.. intermediates.
TIMY_START, TIMY_FINISH, TIMY_FIRST_INTERMEDIATE = 0, 1, 2
POLL_S = 0.1


def invalid(message: str) -> InvalidInputError:
    """A 422 naming one problem a coach can act on."""
    error = InvalidInputError(message, [message])
    return error


@dataclass(frozen=True)
class DeviceRef:
    """A device as a coach names it: its key (`gate-00AB12CD`, `chronopic-1A2B3C4D`) or its
    id alone (`00AB12CD`)."""

    device_id: int
    kind: DeviceKind | None = None
    adapter: str | None = None  # "chronopic" or "timy": a key names one, not a kind

    def __str__(self) -> str:
        if self.kind is None:
            return f"{self.device_id:08X}"
        return device_key(self.kind, self.device_id, self.adapter)

    def matches(self, info: DeviceInfo) -> bool:
        if info.device_id != self.device_id:
            return False
        if self.adapter is not None:
            return info.adapter == self.adapter
        return self.kind is None or (self.kind == info.kind and info.adapter is None)


def parse_device_ref(text: str) -> DeviceRef:
    match = _KEY.fullmatch(text.strip())
    kinds = {k.name.lower(): k for k in DeviceKind}
    kind_name = None if match is None else match["kind"]
    named = None if kind_name is None else kind_name.lower()
    if match is None or (named is not None and named not in kinds and named not in ADAPTERS):
        raise ValueError(
            f"{text!r} is not a device: write its key as `agility devices` shows it "
            "(gate-00AB12CD, chronopic-1A2B3C4D) or its 8 hex digits"
        )
    if named in ADAPTERS:
        return DeviceRef(int(match["id"], 16), DeviceKind.GATE, named)
    kind = None if named is None else kinds[named]
    return DeviceRef(int(match["id"], 16), kind)


@dataclass(frozen=True)
class RoleSpec:
    """One `--role ROLE=DEVICE:CHANNEL` (or `DEVICE:TOP,BOTTOM` for a dual-beam gate): the
    channel counts from 0. `saved`: the binding a saved layout gave the role, rule and all."""

    role: str
    device: DeviceRef
    channel: int
    bottom: int | None = None
    saved: Binding | None = None


def parse_role(text: str) -> RoleSpec:
    role, eq, rest = text.partition("=")
    device, colon, channels = rest.rpartition(":")
    parts = [c.strip() for c in channels.split(",")]
    if (
        not eq or not colon or not role.strip() or len(parts) > 2
        or not all(p.isdigit() for p in parts) or len(set(parts)) != len(parts)
    ):  # fmt: skip
        raise ValueError(
            f"{text!r} is not {ROLE_SYNTAX} (e.g. start=gate-00AB12CD:0, or "
            "start=gate-00AB12CD:0,1 for a dual-beam gate's top and bottom beams)"
        )
    bottom = int(parts[1]) if len(parts) == 2 else None
    return RoleSpec(role.strip(), parse_device_ref(device), int(parts[0]), bottom)


def plan_roles(
    drill: Drill, specs: Sequence[RoleSpec], saved: Mapping[str, Binding] | None = None
) -> dict[str, RoleSpec]:
    """The drill's roles bound as a saved layout says, then as `specs` say (they win).

    A saved layout may carry roles of other drills (one lane, many drills): those are left out.
    Roles given on the command line must be the drill's, once each, and every role the drill
    needs a device for must end up bound.
    """
    roles = drill.device_roles
    given: dict[str, RoleSpec] = {}
    for spec in specs:
        if spec.role not in roles:
            raise invalid(f"{drill.slug} has no role {spec.role!r}; its roles: {', '.join(roles)}")
        if spec.role in given:
            raise invalid(f"role {spec.role} is bound twice with --role")
        given[spec.role] = spec
    planned: dict[str, RoleSpec] = {}
    for role, binding in (saved or {}).items():
        if role in roles:
            try:
                planned[role] = RoleSpec(
                    role, parse_device_ref(binding.device), binding.channel, binding.bottom,
                    saved=binding,
                )  # fmt: skip
            except ValueError as exc:
                raise invalid(f"the layout's role {role}: {exc}") from None
    planned.update(given)
    unbound = [r for r in roles if r not in planned]
    if unbound:
        hint = " ".join(f"--role {r}=DEVICE:CHANNEL" for r in unbound)
        raise invalid(f"{drill.slug}: role(s) {', '.join(unbound)} bound to no device; add {hint}")
    return {role: planned[role] for role in roles}


def _connected(manager: DeviceService, ref: DeviceRef) -> list[DeviceState]:
    return [s for s in manager.registry.all() if s.connected and ref.matches(s.info)]


async def await_devices(
    manager: DeviceService, refs: Iterable[DeviceRef], ports: Sequence[str], wait_s: float
) -> dict[DeviceRef, DeviceState]:
    """Each device as it says HELLO on one of the open ports, or a NotFoundError naming the
    ones that did not within `wait_s`."""
    wanted = sorted(set(refs), key=str)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        found = {ref: _connected(manager, ref) for ref in wanted}
        for ref, states in found.items():
            if len(states) > 1:
                keys = " and ".join(s.key for s in states)
                raise invalid(f"{ref} could be {keys}: write the whole key")
        missing = [str(ref) for ref, states in found.items() if not states]
        if not missing:
            return {ref: states[0] for ref, states in found.items()}
        if loop.time() >= deadline:
            seen = ", ".join(sorted(s.key for s in manager.registry.all() if s.connected))
            raise NotFoundError(
                f"device {', '.join(missing)} did not show up on {', '.join(ports)} within "
                f"{wait_s:g} s (seen: {seen or 'none'})"
            )
        await asyncio.sleep(POLL_S)


async def first_device(manager: DeviceService, port: str, wait_s: float) -> DeviceState:
    """The device on the cable of `port` (the lowest address that said HELLO): the one a
    run without --role or --layout binds every role to, as it always has."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        session = manager.sessions.get(port)
        devices = {} if session is None else session.devices
        if devices:
            return devices[min(devices)]
        if loop.time() >= deadline:
            raise NotFoundError(f"no device answered on {port} within {wait_s:g} s")
        await asyncio.sleep(POLL_S)


def bind(
    planned: Mapping[str, RoleSpec], found: Mapping[DeviceRef, DeviceState]
) -> dict[str, Binding]:
    """Bindings by device key, each channel checked against what the device's HELLO said."""
    bindings: dict[str, Binding] = {}
    for role, spec in planned.items():
        state = found[spec.device]
        if spec.saved is not None:
            bindings[role] = replace(spec.saved, device=state.key)
        else:
            trigger = Trigger.FIRST_BREAK if spec.bottom is None else Trigger.DUAL_LONGEST
            bindings[role] = Binding(state.key, spec.channel, trigger, bottom=spec.bottom)
    check_bindings(bindings, {s.key: s for s in found.values()})
    return bindings


def roles_to_bind(drill: Drill) -> list[str]:
    """The roles that need a device, in running order (roles off the route last)."""
    roles = dict.fromkeys((*drill.roles_in_order, *drill.device_roles))
    return [r for r in roles if r in drill.device_roles]


def default_layout(drill: Drill, info: DeviceInfo) -> dict[str, Binding]:
    """Every role the drill needs a device for, on one device, as that device is wired:

    - a Chronopic: every role on its one input, taken by successive breaks in running order;
    - a Timy: its own channel names, c0 the start and c1 the finish, c2.. the gates between
      (in running order), so a Timy set up as ALGE's manual says needs no --role;
    - any other device: channel 0 the start, 1 the next role, and so on.
    """
    roles = roles_to_bind(drill)
    if info.successive_breaks:
        return {role: Binding(info.key, 0) for role in roles}
    if info.adapter == "timy" and len(roles) >= 2:
        middle = roles[1:-1]
        channels = [TIMY_START, *range(TIMY_FIRST_INTERMEDIATE, 2 + len(middle)), TIMY_FINISH]
        return dict(zip(roles, (Binding(info.key, ch) for ch in channels), strict=True))
    return {role: Binding(info.key, ch) for ch, role in enumerate(roles)}


def check_bindings(bindings: Mapping[str, Binding], states: Mapping[str, DeviceState]) -> None:
    """Every channel exists on its device, and no two roles share one input (but on a
    device whose photocells share one, where successive breaks go to roles in order)."""
    taken: dict[tuple[str, int], str] = {}
    for role, binding in bindings.items():
        info = states[binding.device].info
        channels = info.channels
        for channel in binding.channels:
            if channel >= channels:
                raise invalid(
                    f"role {role}: {binding.device} has {channels} channel(s), 0 to "
                    f"{channels - 1}; there is no channel {channel}"
                )
            key = (binding.device, channel)
            if key in taken and not info.successive_breaks:
                raise invalid(
                    f"roles {taken[key]} and {role} are both on {binding.device} channel "
                    f"{channel}: one beam break cannot mean both"
                )
            taken[key] = role


def check_drill_fits(
    drill: Drill, bindings: Mapping[str, Binding], registry: DeviceRegistry
) -> None:
    """What a drill needs of its devices that a channel count does not say: a hold start
    needs the beam's clearing, which a Timy (impulses only) never reports."""
    if drill.start.type is not StartType.HOLD:
        return
    start = bindings.get(drill.start_role)
    state = None if start is None else registry.by_key(start.device)
    if state is not None and state.info.adapter == "timy":
        raise invalid(
            f"{drill.slug} starts by holding a beam, and a Timy reports breaks, not when a beam "
            "clears: put its start gate on a Chronopic or one of our gates"
        )


async def await_sync(
    manager: DeviceService, keys: Iterable[str], wait_s: float, out: TextIO,
    quiet_if_ready: bool = False,
) -> None:  # fmt: skip
    """Wait until every device can time a split against any clock: identified, in sync, and
    with its tick rate measured (until then the nominal rate is used, 0.3-0.5 ms off over a
    sprint with a cheap crystal). Progress goes to `out`, a line per device (with
    `quiet_if_ready`, only for a device that is not ready at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    for key in sorted(set(keys)):
        if quiet_if_ready and manager.not_ready_reason(key, across_devices=True) is None:
            continue
        print(f"waiting for clock sync of {key} ...", end="", file=out, flush=True)
        while (why := manager.not_ready_reason(key, across_devices=True)) is not None:
            state = manager.registry.by_key(key)
            if loop.time() >= deadline or (state is not None and state.unsupported):
                print(" not ready", file=out, flush=True)
                if state is not None and state.unsupported:
                    raise ConflictError(why)  # waiting longer would not help
                raise ConflictError(f"{key}: clock not ready to time after {wait_s:g} s: {why}")
            await asyncio.sleep(POLL_S)
        bound = manager.registry.by_key(key)
        error_us = None if bound is None else bound.sync_error_us
        detail = "" if error_us is None else f" (±{error_us / 1000:.2f} ms)"
        print(f" ready{detail}", file=out, flush=True)
