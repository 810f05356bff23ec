"""A server for the browser tests: the whole app on loopback, and every rep a plan arms is run
by a virtual athlete on a simulated hub (as `agility run PLAN.toml --device sim` does).

`agility demo` cannot serve here: its own squad holds the lane every 4 s and its plan
service has no simulator, so a session started through the API would wait for an athlete
nobody plays. Run as `python -m tests.web.sim_server --db FILE --port N [--seed N]`.
"""

from __future__ import annotations

import argparse

import uvicorn

from server.app import build_services, create_app
from server.config import Settings
from server.db.session import migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    migrate(args.db)
    services = build_services(Settings(db=args.db, port=args.port))
    services.plans.use_simulator(services.devices, args.seed)
    app = create_app(services.settings, services)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning",
                ws="websockets-sansio")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
