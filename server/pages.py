"""The HTML pages: the public leaderboard, the coach console, TV mode, the sign-in page and a
station's page for its assistant.

Each is a static file from web/static/ (their scripts load from /static/); the data comes from
the API. The pages are public to fetch: the console asks /api/auth/me and signs in itself.
The Content-Security-Policy keeps every page on this server: no script, style, image or
connection may reach another origin, so a page works the same with no internet.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from litestar import MediaType, Response, get

WEB_DIR = Path(str(files("web"))) / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def _page(name: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        (WEB_DIR / name).read_bytes(),
        media_type=MediaType.HTML,
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache", **(headers or {})},
    )


@get("/", include_in_schema=False, sync_to_thread=False)
def index() -> Response[bytes]:
    """The public leaderboard, for athletes' phones."""
    return _page("index.html")


@get("/console", include_in_schema=False, sync_to_thread=False)
def console_page() -> Response[bytes]:
    """The coach console (one page; it asks for a login when there is none)."""
    return _page("console.html")


@get("/tv", include_in_schema=False, sync_to_thread=False)
def tv_page() -> Response[bytes]:
    """Today's boards in large type, rotating, with live updates."""
    return _page("tv.html")


@get("/setup", include_in_schema=False, sync_to_thread=False)
def setup_page() -> Response[bytes]:
    """Coach sign-in, and first-run setup while no coach exists (the API enforces localhost)."""
    return _page("setup.html")


@get("/station/{name:str}", include_in_schema=False, sync_to_thread=False)
def station_page(name: str) -> Response[bytes]:
    """One station for its assistant's phone, opened from the coach's link (?key=...); the
    page trades the key for a cookie, and the API decides what it may see and do."""
    # The key is in this page's URL until its script takes it out: send it nowhere.
    return _page("station.html", {"Referrer-Policy": "no-referrer"})


PAGE_HANDLERS = [index, console_page, tv_page, setup_page, station_page]
