"""Station links: a key a coach hands an assistant (a URL and its QR code) that runs one
station from a phone, and nothing else.

The key is random (secrets.token_urlsafe(32): 256 bits, so guessing is hopeless and no rate
limit is needed) and only its SHA-256 is stored, with its station and expiry, so a copied
database opens no station. The station page trades the key for an HttpOnly, SameSite=Strict
cookie named after the station (`agility_station_<name>`), which the guards turn back into the
station it opens (server/auth/guards.py). The cookie holds the key itself: revoking a
station's links (deleting its rows) shuts every phone out at once, with no second kind of
session to hunt down. A link is not renewed by use: it ends when the coach said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from server.auth.service import new_token, token_hash
from server.db.models import StationLink, utc_now

# A testing day, so one link from the morning still works at the last station's last rep.
LINK_TTL = timedelta(hours=12)
# Longer than any testing day: a link left in a phone's history should not open a station
# next week.
MAX_LINK_TTL = timedelta(hours=48)
COOKIE_PREFIX = "agility_station_"
# token_urlsafe(32) gives 43 characters; anything much longer is not one of ours, and is
# refused before hashing.
MAX_KEY_LENGTH = 100


def station_cookie(station: str) -> str:
    """The cookie of one station's link: one per station, so a phone may hold two."""
    return COOKIE_PREFIX + station


@dataclass(frozen=True)
class NewLink:
    """What the coach gets once: the plain key exists nowhere else."""

    station: str
    key: str
    expires_wall: datetime


@dataclass(frozen=True)
class LinkGrant:
    """A key that is good now: the station it opens and until when."""

    station: str
    expires_wall: datetime


class StationLinkService:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def create(self, station: str, ttl: timedelta = LINK_TTL) -> NewLink:
        """A new key for `station` (the caller checks that the station exists); expired keys
        of every station are swept out on the way."""
        if not timedelta(0) < ttl <= MAX_LINK_TTL:
            raise ValueError(f"a station link lasts more than 0 and at most {MAX_LINK_TTL}")
        now = self.clock()
        link = NewLink(station, new_token(), now + ttl)
        with Session(self.engine) as session:
            session.exec(delete(StationLink).where(col(StationLink.expires_wall) < now))
            session.add(
                StationLink(
                    token_hash=token_hash(link.key),
                    station=station,
                    created_wall=now,
                    expires_wall=link.expires_wall,
                )
            )
            session.commit()
        return link

    def revoke(self, station: str) -> int:
        """Every link of `station` stops working at once; how many there were."""
        with Session(self.engine) as session:
            rows = session.exec(select(StationLink).where(StationLink.station == station)).all()
            for row in rows:
                session.delete(row)
            session.commit()
            return len(rows)

    def grant(self, key: str) -> LinkGrant | None:
        """The station a key opens, or None for a key unknown, revoked or expired."""
        if not key or len(key) > MAX_KEY_LENGTH:
            return None
        with Session(self.engine) as session:
            row = session.exec(
                select(StationLink).where(StationLink.token_hash == token_hash(key))
            ).first()
            if row is None:
                return None
            if row.expires_wall <= self.clock():
                session.delete(row)
                session.commit()
                return None
            return LinkGrant(row.station, row.expires_wall)
