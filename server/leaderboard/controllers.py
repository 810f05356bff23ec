"""Public, read-only leaderboard and drill routes."""

from __future__ import annotations

from litestar import Controller, get
from sqlalchemy import Engine

from server.catalog.service import Catalog
from server.leaderboard.ratio import board_twin
from server.leaderboard.service import Board, drills_run_on, leaderboard


class LeaderboardController(Controller):
    path = "/api"
    tags = ("leaderboards",)

    @get("/leaderboards/today", sync_to_thread=True)
    def get_today(self, db_engine: Engine, group: str | None = None) -> list[str]:
        """Slugs of the drills with a counted rep today (UTC date), for the TV's rotation;
        `group`: by athletes of that group."""
        return drills_run_on(db_engine, "today", group=group or None)

    @get("/leaderboards/{drill_slug:str}", sync_to_thread=True)
    def get_leaderboard(
        self, drill_slug: str, db_engine: Engine, catalog: Catalog,
        segment: str | None = None, group: str | None = None, day: str | None = None,
    ) -> Board:  # fmt: skip
        """Best and last time per athlete, best first, times in seconds: of the whole rep, or
        of one `segment` (a split name of the drill). `group`: athletes of that group only
        (422 naming `group` for a name no group could have); `day`: `today` or YYYY-MM-DD, a
        UTC date. Names as the privacy setting says. A backward drill with a forward twin
        adds each athlete's backward ÷ forward time (server/leaderboard/ratio.py)."""
        known = catalog.drills.get(drill_slug)
        segments = None if known is None else tuple(s.name for s in known.segments)
        return leaderboard(
            db_engine, drill_slug, segment=segment or None, group=group or None,
            day=day or None, segments=segments, twin=board_twin(known, catalog.drills),
        )  # fmt: skip

    @get("/drills", sync_to_thread=False)
    def list_drills(self, catalog: Catalog) -> list[dict[str, object]]:
        """Drills in the catalogue, for pickers, the layout editor and the leaderboard page:
        `start` says whether the run view needs its START button (`coach-go`)."""
        return [
            {
                "slug": d.slug, "name": d.name, "direction": d.direction.value,
                "category": d.category.value, "twin": d.twin, "distance_m": d.distance_m,
                "segments": [s.name for s in d.segments], "timing": d.timing.value,
                "start": d.start.type.value, "reps": d.reps, "rest_s": d.rest_us / 1e6,
                # What the devices page binds: every role a gate or pod must serve.
                "roles": [{"name": r, "kind": d.roles[r].kind.value} for r in d.device_roles],
            }
            for d in sorted(catalog.drills.values(), key=lambda d: d.slug)
        ]  # fmt: skip
