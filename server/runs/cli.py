"""`agility run`: reps of a drill timed from the terminal, a line per rep, on a simulated hub or
on real devices whose roles are bound by --role, by a saved --layout, or in running order."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from typing import TYPE_CHECKING

from drills import Drill, RunOutcome, Timing
from drills.crossing import Trigger
from hardware.errors import HardwareError
from server.config import Settings
from server.db.session import migrate
from server.devices import binding
from server.errors import AppError, InvalidInputError, NotFoundError
from server.runs.coordinator import Binding
from server.sim.adapters import SIM_ADAPTERS

if TYPE_CHECKING:
    from server.app import Services

SIM = "sim"
SIMULATED = (SIM, *SIM_ADAPTERS)
# Time for the devices to say HELLO, and again for their clocks to sync with a measured rate
# (about 5 s of pings after HELLO; a Nano's bootloader adds up to 2 s before HELLO).
DEFAULT_WAIT_S = 15.0


def role_arg(text: str) -> binding.RoleSpec:
    """argparse type for --role (binding.ROLE_SYNTAX)."""
    try:
        return binding.parse_role(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_run(args: argparse.Namespace) -> int:
    from server.plans import cli as plans_cli

    if plans_cli.is_plan_file(args.drill):
        args.device = " ".join(args.devices)  # the plan runner takes 'sim' alone
        return plans_cli.run_plan_file(args)
    if not args.athlete:
        raise InvalidInputError("--athlete is required to run a drill")
    if args.reps < 1:
        raise InvalidInputError("--reps must be at least 1")
    if args.wait < 0:
        raise InvalidInputError("--wait must be 0 or more seconds")
    simulated = [d for d in args.devices if d in SIMULATED]
    if simulated and (len(args.devices) > 1 or args.role or args.layout):
        raise InvalidInputError(
            f"--device {simulated[0]} runs alone: it binds the roles itself (no other --device, "
            "--role or --layout)"
        )
    migrate(args.db)
    return asyncio.run(_run_reps(args))


async def _run_reps(args: argparse.Namespace) -> int:
    from hardware.sim.athlete import make_team
    from server.app import build_services
    from server.sim.adapters import AdapterSimRig
    from server.sim.rig import SimRig

    services = build_services(Settings(db=args.db))
    drill = services.catalog.get(args.drill)
    if drill.timing is Timing.INTERVALS:
        raise AppError(f"{drill.slug} is run for a group: put it in a plan file (agility run PLAN)")
    rig: SimRig | None = None
    adapter_rig: AdapterSimRig | None = None
    try:
        if args.devices == [SIM]:
            # Whole bodies break the simulated beams, as on a real field (issue 14).
            beams = 1 if args.trigger is None else Trigger(args.trigger).beams
            rig = await SimRig.start(services.devices, drill, args.seed, bodies=True, beams=beams)
            services.coordinator.layout.update(_with_rules(services, drill, rig.layout, args))
        elif args.devices[0] in SIM_ADAPTERS:
            adapter_rig = await AdapterSimRig.start(
                services.devices, drill, args.devices[0], args.seed
            )
            services.coordinator.layout.update(
                _with_rules(services, drill, adapter_rig.layout, args)
            )
        else:
            from server.devices.layouts import store_main_layout

            bound_roles = await _bind_devices(services, drill, args)
            services.coordinator.layout.update(bound_roles)
            # The server binds the main station this way at its next start (README).
            store_main_layout(services.engine, bound_roles, args.layout)
        recorder = services.recorder
        athlete_id = recorder.ensure_athlete(recorder.ensure_team(args.team), args.athlete)
        rng = random.Random(args.seed)
        virtual = make_team(1, rng)[0]
        first_rep = recorder.count_runs(drill.slug, athlete_id) + 1
        bound = sorted({b.device for b in services.coordinator.layout.values()})
        for i in range(args.reps):
            rep = first_rep + i
            if rig is None and adapter_rig is None:
                # A clock can resynchronise between reps (a cable wobble, a busy laptop): wait
                # for it as before the first rep rather than end the session.
                await binding.await_sync(
                    services.devices, bound, args.wait, sys.stderr, quiet_if_ready=True
                )
            done = services.coordinator.begin(
                drill, athlete_id, args.athlete, rep, start_within_s=args.start_within,
                rng=random.Random(f"{args.seed}:{rep}"),
            )  # fmt: skip
            if rig is not None:
                rig.run_rep(drill, virtual, rng, go=services.coordinator.go, lead_s=0.2)
            elif adapter_rig is not None:
                adapter_rig.run_rep(drill, virtual, rng, lead_s=0.2)
            else:
                # On stderr with --json: stdout stays one JSON object per line.
                print(f"rep {rep}: ready, {args.athlete} may go", flush=True,
                      file=sys.stderr if args.json else sys.stdout)  # fmt: skip
            _print_rep(drill, args, rep, await done)
            if rig is not None or adapter_rig is not None:
                await asyncio.sleep(0.3)  # let the body clear the last beam before the next rep
    finally:
        await services.devices.close_all()
        if rig is not None:
            rig.stop()
        if adapter_rig is not None:
            adapter_rig.stop()
        services.engine.dispose()
    return 0


async def _bind_devices(
    services: Services, drill: Drill, args: argparse.Namespace
) -> dict[str, Binding]:
    """Open the ports, bind the drill's roles, and wait until every bound device can time."""
    manager = services.devices
    planned = None
    if args.layout is not None or args.role:
        # Checked before any port opens: a typo costs no bootloader wait.
        saved = None if args.layout is None else _saved_layout(services, args.layout)
        planned = binding.plan_roles(drill, args.role, saved)
    for port in args.devices:
        try:
            await manager.open(port)
        except ValueError as exc:  # an adapter prefix written wrong
            raise InvalidInputError(str(exc)) from None
        except HardwareError as exc:  # cannot open, or not the kind it was given as
            raise AppError(str(exc)) from None
    keep: frozenset[str] = frozenset()
    if planned is None:
        session = manager.sessions[next(iter(manager.sessions))]
        state = await binding.first_device(manager, session.url, args.wait)
        bindings = binding.default_layout(drill, state.info)
        binding.check_bindings(bindings, {state.key: state})
    else:
        refs = {spec.device for spec in planned.values()}
        found = await binding.await_devices(manager, refs, args.devices, args.wait)
        bindings = binding.bind(planned, found)
        keep = frozenset(r for r, spec in planned.items() if spec.saved is not None)
    binding.check_drill_fits(drill, bindings, manager.registry)
    bindings = _with_rules(services, drill, bindings, args, keep)
    await binding.await_sync(manager, [b.device for b in bindings.values()], args.wait, sys.stderr)
    return bindings


def _with_rules(
    services: Services, drill: Drill, bindings: dict[str, Binding], args: argparse.Namespace,
    keep: frozenset[str] = frozenset(),
) -> dict[str, Binding]:  # fmt: skip
    """Each gate role's crossing rule (server/devices/gate_rules.py), said on stderr."""
    from server.devices import gate_rules

    infos = {}
    for b in bindings.values():
        state = services.devices.registry.by_key(b.device)
        if state is None:
            raise AppError(f"{b.device} is not connected")
        infos[b.device] = state.info
    chosen = gate_rules.choose(
        drill, bindings, infos, trigger=None if args.trigger is None else Trigger(args.trigger),
        rearm_ms=args.rearm_ms, window_ms=args.window_ms, keep=keep,
    )  # fmt: skip
    print(gate_rules.describe(chosen, drill), file=sys.stderr, flush=True)
    return chosen


def _saved_layout(services: Services, name: str) -> dict[str, Binding]:
    from server.devices.layouts import LayoutService, bindings_from_json

    layouts = LayoutService(services.engine, services.coordinator).layouts()
    for info in layouts:
        if info.name == name:
            return bindings_from_json(info.bindings)
    names = ", ".join(repr(i.name) for i in layouts) or "none saved yet"
    raise NotFoundError(f"no layout {name!r} (layouts: {names})")


def _print_rep(drill: Drill, args: argparse.Namespace, rep: int, outcome: RunOutcome) -> None:
    splits = {s.name: s.elapsed_us / 1e6 for s in outcome.splits}
    if args.json:
        line = {
            "drill": drill.slug, "athlete": args.athlete, "rep": rep,
            "state": outcome.state.value, "splits": splits,
            "total_s": None if outcome.total_us is None else outcome.total_us / 1e6,
        }  # fmt: skip
        print(json.dumps(line), flush=True)
    else:
        shown = "  ".join(f"{k} {v:.3f} s" for k, v in splits.items())
        print(f"rep {rep}: {outcome.state.value}  {shown}", flush=True)
