"""Station links: the coach makes a link (and its QR code) that lets an assistant's phone run one
station; the station page trades the link's key for a cookie. The keys themselves are in
server/auth/station_links.py, the rule of who may call what in server/auth/guards.py.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import segno
from litestar import Controller, Request, Response, delete, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Engine

from server.auth.guards import PUBLIC_OPT, requires_coach
from server.auth.middleware import station_link_cookie
from server.auth.station_links import (
    LINK_TTL,
    MAX_LINK_TTL,
    StationLinkService,
    station_cookie,
)
from server.config import Settings
from server.db.models import utc_now
from server.errors import ForbiddenError, InvalidInputError, NotAuthorizedError
from server.lan import lan_url, listens_on_lan
from server.stations.registry import Stations, check_name

EXPIRED = "this station link has expired or was revoked: ask the coach for a new one"


@dataclass
class LinkRequest:
    hours: float = LINK_TTL.total_seconds() / 3600
    """How long the link works, in hours (at most 48); a testing day by default."""


@dataclass
class LinkInfo:
    station: str
    url: str
    """The page the assistant opens: /station/{name}?key=..., shown once; only its hash is
    kept, so a lost link is revoked and made again, not looked up."""
    expires_wall: datetime
    qr_svg: str
    """The URL as a QR code: a standalone SVG document (made here: no internet needed)."""
    lan: bool
    """False when the server listens on this laptop only: phones cannot open the URL until
    it is started with --lan."""


@dataclass
class Revoked:
    station: str
    revoked: int


@dataclass
class EnterRequest:
    key: str
    """The `key` of the link's URL."""


@dataclass
class Entered:
    station: str
    expires_wall: datetime


def qr_svg(url: str) -> str:
    """The QR code as a whole SVG document (with its namespace, unlike server/lan.py's inline
    one), so it works inline, as an <img> (how the console shows it) or saved to a file and
    printed for the station's table. Level M, as for the LAN address: reads through glare."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(
        out, kind="svg", xmldecl=False, nl=False, scale=6, dark="#000", light="#fff"
    )
    return out.getvalue().decode("utf-8")


def _hours(data: LinkRequest | None) -> timedelta:
    hours = LINK_TTL.total_seconds() / 3600 if data is None else data.hours
    limit = MAX_LINK_TTL.total_seconds() / 3600
    if not (math.isfinite(hours) and 0 < hours <= limit):
        error = InvalidInputError("invalid hours", [f"hours: more than 0 and at most {limit:g}"])
        raise error
    return timedelta(hours=hours)


class StationLinksController(Controller):
    path = "/api/stations"
    tags = ("stations",)

    @post("/{name:str}/links", guards=[requires_coach], sync_to_thread=False,
          status_code=HTTP_200_OK)  # fmt: skip
    def make_link(
        self, name: str, request: Request[Any, Any, Any], stations: Stations,
        app_settings: Settings, db_engine: Engine, data: LinkRequest | None = None,
    ) -> LinkInfo:  # fmt: skip
        """A new link for an assistant to run this station (and nothing else) from a phone."""
        stations.get(name)  # 404 for an unknown station
        link = StationLinkService(db_engine).create(name, _hours(data))
        lan = listens_on_lan(app_settings.host)
        # The laptop's own address is no use to a phone: the LAN one when phones can reach us.
        base = lan_url(app_settings.port) if lan else str(request.base_url).rstrip("/") + "/"
        url = f"{base}station/{name}?key={link.key}"
        return LinkInfo(name, url, link.expires_wall, qr_svg(url), lan)

    @delete("/{name:str}/links", guards=[requires_coach], sync_to_thread=False,
            status_code=HTTP_200_OK)  # fmt: skip
    def revoke_links(self, name: str, db_engine: Engine) -> Revoked:
        """Every link of this station stops working at once (a lost phone, the day is over)."""
        check_name(name)  # a station removed since may still have links to revoke
        return Revoked(name, StationLinkService(db_engine).revoke(name))

    @post("/{name:str}/enter", opt={PUBLIC_OPT: True}, sync_to_thread=False,
          status_code=HTTP_200_OK)  # fmt: skip
    def enter(self, name: str, data: EnterRequest, db_engine: Engine) -> Response[Entered]:
        """The station page's first call: the link's key for an HttpOnly cookie that opens
        this station's routes until the link expires. Needs the CSRF header like any POST."""
        grant = StationLinkService(db_engine).grant(data.key)
        if grant is None:
            raise NotAuthorizedError(EXPIRED)
        if grant.station != name:
            raise ForbiddenError(f"this link is for station {grant.station}, not this page")
        max_age = max(1, int((grant.expires_wall - utc_now()).total_seconds()))
        return Response(
            Entered(name, grant.expires_wall),
            cookies=[station_link_cookie(station_cookie(name), data.key, max_age)],
        )
