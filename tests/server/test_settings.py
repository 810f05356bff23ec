"""The privacy setting: how names look on public pages, where it is stored, who may change it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.db.models import AppSetting
from server.db.session import make_engine, migrate
from server.errors import InvalidInputError
from server.settings import DEFAULT_PUBLIC_NAMES, get_privacy, public_name
from server.settings.service import update_settings
from tests.auth_support import csrf_headers, login_client, serve


@pytest.fixture
def engine(any_db: str) -> Iterator[Engine]:
    migrate(any_db)
    engine = make_engine(any_db)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("name", "display", "mode", "shown"),
    [
        ("Ada Lind", "Ada", "full", "Ada Lind"),
        ("  Ada   Maria Lind ", None, "full", "Ada Maria Lind"),
        ("Ada Lind", "Speedy A", "display", "Speedy A"),
        ("Ada Maria Lind", None, "display", "Ada L."),
        ("Ada Lind", "   ", "display", "Ada L."),
        ("Ada", None, "display", "Ada"),
        ("Ada Maria Lind", "Ada", "initials", "A.M.L."),
        ("åsa berg", None, "initials", "Å.B."),
    ],
)
def test_public_name_for_each_mode(name: str, display: str | None, mode: str, shown: str) -> None:
    assert public_name(name, display, mode) == shown


def test_unknown_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown public_names mode"):
        public_name("Ada Lind", None, "nicknames")


def test_privacy_is_stored_and_defaults_to_display(engine: Engine) -> None:
    assert get_privacy(engine) == DEFAULT_PUBLIC_NAMES == "display"
    assert update_settings(engine, {"public_names": "initials"}) == {"public_names": "initials"}
    assert get_privacy(engine) == "initials"
    assert update_settings(engine, {"public_names": "full"}) == {"public_names": "full"}
    assert get_privacy(engine) == "full"
    with pytest.raises(InvalidInputError) as info:
        update_settings(engine, {"public_names": "nicknames", "theme": "dark"})
    assert info.value.errors == [
        "theme: unknown setting",
        "public_names: must be one of 'full', 'display', 'initials'",
    ]
    assert get_privacy(engine) == "full", "nothing stored from a refused request"
    with Session(engine) as session:
        row = session.get(AppSetting, "public_names")
        assert row is not None
        row.value_json = "{broken"
        session.add(row)
        session.commit()
    assert get_privacy(engine) == "display", "a damaged value never breaks a public page"


def test_settings_api_is_for_coaches(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as live:
        with httpx.Client(base_url=live.base_url) as anonymous:
            assert anonymous.get("/api/settings").status_code == 401
            res = anonymous.put("/api/settings", json={"public_names": "full"},
                                headers=csrf_headers(anonymous))  # fmt: skip
            assert res.status_code == 401
        coach = login_client(live.base_url, live.services.engine)
        assert coach.get("/api/settings").json() == {"public_names": "display"}
        res = coach.put("/api/settings", json={"public_names": "initials"})
        assert res.status_code == 200 and res.json() == {"public_names": "initials"}
        bad = coach.put("/api/settings", json={"public_names": "everything"})
        assert bad.status_code == 422 and bad.json()["errors"]
        assert get_privacy(live.services.engine) == "initials"
        coach.close()
