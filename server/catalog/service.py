"""The drill catalogue: drill files loaded and validated, mirrored into the drill table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from drills import Drill, load_library
from drills.loader import LIBRARY_DIR
from server.db.models import Drill as DrillRow
from server.db.models import utc_now
from server.errors import NotFoundError


@dataclass
class Catalog:
    drills: dict[str, Drill]
    texts: dict[str, str]

    @classmethod
    def load(cls, directory: Path = LIBRARY_DIR) -> Catalog:
        # Raises DrillFileError naming every problem with its file, field and line.
        drills = load_library(directory)
        texts = {slug: (directory / f"{slug}.toml").read_text(encoding="utf-8") for slug in drills}
        return cls(drills, texts)

    def get(self, slug: str) -> Drill:
        try:
            return self.drills[slug]
        except KeyError:
            known = ", ".join(sorted(self.drills))
            raise NotFoundError(f"no drill {slug!r}; known drills: {known}") from None

    def sync(self, engine: Engine) -> None:
        """Insert new drills and update changed ones, so runs can refer to them by id."""
        with Session(engine) as session:
            rows = {row.slug: row for row in session.exec(select(DrillRow)).all()}
            for slug, drill in self.drills.items():
                text = self.texts.get(slug, "")
                row = rows.get(slug)
                if row is None:
                    row = DrillRow(slug=slug, name=drill.name, direction=drill.direction.value)
                elif (row.name, row.direction, row.twin_slug, row.definition_toml) == (
                    drill.name, drill.direction.value, drill.twin, text,
                ):  # fmt: skip
                    continue
                row.name = drill.name
                row.direction = drill.direction.value
                row.twin_slug = drill.twin
                row.definition_toml = text
                row.updated_wall = utc_now()
                session.add(row)
            session.commit()
