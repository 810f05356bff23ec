"""The LAN address and its QR code: the helpers, `GET /api/lan`, and `agility serve --lan`."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import segno

from server.db.session import migrate
from server.lan import lan_address, lan_url, listens_on_lan, print_qr, qr_svg
from tests.auth_support import login_client, serve
from tests.support import free_port

URL_RE = re.compile(r"http://(\d+\.\d+\.\d+\.\d+):(\d+)/")


def test_lan_url_is_an_ipv4_address_and_the_port() -> None:
    m = URL_RE.fullmatch(lan_url(8123))
    assert m is not None and m.group(2) == "8123"
    assert m.group(1) == lan_address()
    assert lan_url(80, "10.0.0.7") == "http://10.0.0.7:80/"
    assert listens_on_lan("0.0.0.0") and not listens_on_lan("127.0.0.1")


def test_qr_svg_is_inline_and_self_contained() -> None:
    svg = qr_svg("http://10.0.0.7:8000/")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for outside in ("<?xml", "href", "http", "<image", "<script"):
        assert outside not in svg, outside
    assert svg != qr_svg("http://10.0.0.8:8000/"), "the code must depend on the address"


def test_qr_code_matches_the_address() -> None:
    """The drawn modules are those of a QR code of exactly this URL (same matrix as segno
    makes for it), at an error level that survives some glare."""
    url = "http://10.0.0.7:8000/"
    expected = segno.make_qr(url, error="m")
    assert expected.error == "M"
    out = io.StringIO()
    print_qr(url, out)
    lines = out.getvalue().splitlines()
    assert lines, "nothing printed"
    side = len(expected.matrix) + 8  # quiet zone of 4 modules each side
    assert {len(line) for line in lines} == {side}
    assert len(lines) == (side + 1) // 2, "two module rows per text line"
    assert set("".join(lines)) <= {"█", "▀", "▄", " "}


def test_lan_route_for_coaches(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            assert client.get("/api/lan").status_code == 401
            login_client(client, server.services.engine)
            res = client.get("/api/lan")
        assert res.status_code == 200
        body = res.json()
        m = URL_RE.fullmatch(body["url"])
        assert m is not None and int(m.group(2)) == server.services.settings.port
        assert body["qr_svg"] == qr_svg(body["url"])
        assert body["lan"] is False, "this test server listens on 127.0.0.1 only"


def test_serve_lan_prints_the_address_and_a_qr_code(tmp_path: Path) -> None:
    port = free_port()
    db = str(tmp_path / "lan.db")
    log = tmp_path / "out.txt"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--lan", "--port", str(port),
             "--db", db],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    expected = ""
    try:
        deadline = time.monotonic() + 30
        # Read until the whole code is out: the server prints it line by line, and a read
        # between two lines saw half a code (a flaky failure under load).
        while True:
            text = log.read_text(encoding="utf-8", errors="replace")
            m = URL_RE.search(text)
            if m is not None:
                code = io.StringIO()
                print_qr(m.group(0), code)
                expected = code.getvalue()
                if expected in text:
                    break
            assert proc.poll() is None, text
            assert time.monotonic() < deadline, f"no whole QR code in 30 s:\n{text}"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    text = log.read_text(encoding="utf-8")
    m = URL_RE.search(text)
    assert m is not None and m.group(2) == str(port), text
    assert expected in text, "the printed code is not that of the printed address"
