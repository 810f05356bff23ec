"""Public, read-only leaderboard and drill routes."""

from __future__ import annotations

from litestar import Controller, get
from sqlalchemy import Engine

from server.catalog.service import Catalog
from server.leaderboard.service import Board, leaderboard


class LeaderboardController(Controller):
    path = "/api"
    tags = ("leaderboards",)

    @get("/leaderboards/{drill_slug:str}", sync_to_thread=True)
    def get_leaderboard(self, drill_slug: str, db_engine: Engine) -> Board:
        """Best and last time per athlete, best first, times in seconds."""
        return leaderboard(db_engine, drill_slug)

    @get("/drills", sync_to_thread=False)
    def list_drills(self, catalog: Catalog) -> list[dict[str, object]]:
        """Drills in the catalogue, for pickers and the leaderboard page."""
        return [
            {
                "slug": d.slug, "name": d.name, "direction": d.direction.value,
                "category": d.category.value, "twin": d.twin, "distance_m": d.distance_m,
                "segments": [s.name for s in d.segments],
            }
            for d in sorted(catalog.drills.values(), key=lambda d: d.slug)
        ]  # fmt: skip
