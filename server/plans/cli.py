"""`agility plans ...` and `agility run PLAN.toml`: plans from the terminal.

Without a server the commands read and write the database directly (a session stored that
way is started by the next server start, or late-marked missed). Pausing, resuming, skipping
or aborting a session that is running needs the server that runs it: pass --server URL, and
the coach's name and password (--coach NAME or $AGILITY_COACH, and $AGILITY_PASSWORD; asked on
a terminal): the command signs in as the console does (server/api_client.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from server.api_client import ApiClient, login_from
from server.config import Settings
from server.db.session import migrate
from server.errors import AppError, ConflictError


def utc_time_arg(text: str) -> datetime:
    """argparse type for --at: an ISO time with its UTC offset, so no clock is guessed."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add Z or +01:00)")
    return value


def _api(args: argparse.Namespace) -> ApiClient:
    """The running server at --server, signed in as the coach on its first call."""
    return ApiClient(args.server, lambda: login_from(args.server, args.coach))


def _store(db: str) -> Any:
    from server.db.session import make_engine
    from server.plans.store import PlanStore

    migrate(db)
    return PlanStore(make_engine(db))


def cmd_list(args: argparse.Namespace) -> int:
    if args.server:
        api = _api(args)
        plans = api.call("GET", "/api/plans")
        sessions = api.call("GET", "/api/plans/sessions")
    else:
        store = _store(args.db)
        plans = [asdict(p) for p in store.plans()]
        sessions = [asdict(s) for s in store.sessions()]
    if args.json:
        print(json.dumps({"plans": plans, "sessions": sessions}, indent=2))
        return 0
    for p in plans:
        reps = "?" if p["reps"] is None else p["reps"]
        print(f"plan {p['id']:<4} {p['name']:<32} {p['blocks']} block(s), {reps} rep(s)")
    for s in sessions:
        done = len(s["progress"].get("done", []))
        print(f"session {s['id']:<4} plan {s['plan_id']:<4} {s['state']:<10} "
              f"at {s['scheduled_wall'] or '-'}  {done} rep(s) done"
              + (f"  ({s['reason']})" if s["reason"] else ""))  # fmt: skip
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from server.plans.definition import read_plan_file

    at = None if args.at is None else args.at.isoformat()
    path = Path(args.plan)
    if args.server:
        api = _api(args)
        if path.is_file():
            text = read_plan_file(path)
            plan_id = api.call("POST", "/api/plans", {"text": text, "source": str(path)})["id"]
        else:
            plan_id = _plan_id(args.plan)
        body = {"at": at, "time_scale": args.time_scale}
        info = api.call("POST", f"/api/plans/{plan_id}/sessions", body)
        print(f"session {info['id']}: {info['state']} at {info['scheduled_wall']}")
        return 0
    from server.catalog.service import Catalog
    from server.plans.definition import parse_plan_text

    # The file is read and checked before the database is touched (or created).
    plan = (
        parse_plan_text(read_plan_file(path), str(path), Catalog.load()) if path.is_file() else None
    )
    store = _store(args.db)
    plan_id = store.add_plan(plan) if plan is not None else _plan_id(args.plan)
    session_id = store.add_session(plan_id, args.at, args.time_scale)
    print(f"session {session_id} of plan {plan_id} stored; the next `agility serve` starts "
          "it (within 15 min of its time); --server hands it to a running server")  # fmt: skip
    return 0


def _plan_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise AppError(f"{text}: no such file, and not a plan id") from None


def cmd_control(args: argparse.Namespace) -> int:
    if args.server:
        info = _api(args).call("POST", f"/api/plans/sessions/{args.session}/{args.action}")
        print(f"session {info['id']}: {info['state']}")
        return 0
    if args.action != "abort":
        raise ConflictError(f"{args.action} needs the server running the session: add --server")
    from server.plans.store import SessionState

    store = _store(args.db)
    if not store.set_state(args.session, SessionState.ABORTED, "aborted from the command line",
                           expect=(SessionState.SCHEDULED, SessionState.PAUSED)):  # fmt: skip
        state = store.session_row(args.session).state
        raise ConflictError(f"session {args.session} is {state}; a running one needs --server")
    print(f"session {args.session}: aborted")
    return 0


def is_plan_file(arg: str) -> bool:
    """`agility run X`: X is a plan when it names a file, a drill slug otherwise."""
    return Path(arg).suffix in (".toml", ".json") or Path(arg).is_file()


def run_plan_file(args: argparse.Namespace) -> int:
    """`agility run PLAN.toml --device sim`: the whole plan headless, a line per rep."""
    if args.device != "sim":
        raise ConflictError("plan files run on --device sim only so far; for real gates, "
                            "`agility serve` and `agility plans start --server`")  # fmt: skip
    if not 0 < args.time_scale <= 1:
        raise ConflictError(f"--time-scale must be in (0, 1], not {args.time_scale}")
    path = Path(args.drill)
    if not path.is_file():
        raise AppError(f"{path}: no such plan file")
    from server.plans.definition import read_plan_file

    text = read_plan_file(path)  # before the database is touched (or created)
    migrate(args.db)
    return asyncio.run(_run_plan(args, path, text))


async def _run_plan(args: argparse.Namespace, path: Path, text: str) -> int:
    from server.app import build_services

    services = build_services(
        Settings(db=args.db), on_rep=lambda entry: _print_rep(entry, args.json)
    )
    plans = services.plans
    plan_id = plans.create_plan(text, str(path))
    plans.use_simulator(services.devices, args.seed)
    services.scheduler.start()
    try:
        await plans.start()
        session_id, final = await plans.run_now(plan_id, args.time_scale)
    finally:
        await plans.stop()
        services.scheduler.shutdown(wait=False)
        await services.devices.close_all()
        services.engine.dispose()
    if not args.json:
        print(f"session {session_id}: {final.value}")
    return 0 if final.value == "finished" else 1


def _print_rep(entry: dict[str, Any], as_json: bool) -> None:
    line = {
        "drill": entry["drill"], "athlete": entry["athlete"], "rep": entry["block_rep"],
        "state": entry["state"], "splits": entry["splits"], "total_s": entry["total_s"],
        "familiarisation": entry["familiarisation"], "run_id": entry["run_id"],
    }  # fmt: skip
    if as_json:
        print(json.dumps(line), flush=True)
        return
    shown = "  ".join(f"{k} {v:.3f} s" for k, v in entry["splits"].items())
    practice = " (practice)" if entry["familiarisation"] else ""
    print(f"{entry['drill']} {entry['athlete']} rep {entry['block_rep']}{practice}: "
          f"{entry['state']}  {shown}", file=sys.stdout, flush=True)  # fmt: skip
