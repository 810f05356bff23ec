"""Coach accounts and logins, without HTTP: the routes, the CLI and tests all come here.

A login is a random token in a cookie; the database keeps only its SHA-256, so a copy of the
database (a backup on a USB stick) opens nothing. Each login also gets its own CSRF token,
which the guard checks on every change (see server/auth/middleware.py).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from server.auth.passwords import DUMMY_HASH, hash_password, password_problem, verify_password
from server.auth.ratelimit import LoginThrottle
from server.db.models import Coach, CoachSession, utc_now
from server.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotAuthorizedError,
    TooManyAttemptsError,
)

SESSION_TTL = timedelta(hours=12)
# A session used within this long of its last renewal is not written again: one UPDATE per
# five minutes per coach rather than one per request.
RENEW_STEP = timedelta(minutes=5)
MAX_NAME_LENGTH = 60
WRONG_LOGIN = "wrong name or password"


@dataclass(frozen=True)
class CoachIdentity:
    """The coach behind a request, as routes and correction logs need it."""

    id: int
    name: str

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class ActiveSession:
    coach: CoachIdentity
    csrf_token: str


@dataclass(frozen=True)
class NewLogin:
    """What the browser gets once: the plain tokens exist nowhere else."""

    coach: CoachIdentity
    token: str
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1, also when written as an IPv4-mapped IPv6 address."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInputError("the coach name must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"the coach name must be at most {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidInputError("the coach name must not contain control characters")
    return cleaned


class AuthService:
    def __init__(
        self,
        engine: Engine,
        throttle: LoginThrottle | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.throttle = throttle or LoginThrottle()
        self.clock = clock
        # Two setup requests at once must not both find "no coach yet".
        self._setup_lock = threading.Lock()

    def setup_needed(self) -> bool:
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(Coach)).one() == 0

    def add_coach(self, name: str, password: str) -> CoachIdentity:
        name = clean_name(name)
        if problem := password_problem(password):
            raise InvalidInputError(problem)
        row = Coach(name=name, password_hash=hash_password(password))
        with Session(self.engine) as session:
            if session.exec(select(Coach.id).where(Coach.name == name)).first() is not None:
                raise ConflictError(f"a coach named {name!r} already exists")
            session.add(row)
            try:
                session.commit()
            except IntegrityError as exc:  # added by someone else in between
                raise ConflictError(f"a coach named {name!r} already exists") from exc
            session.refresh(row)
            assert row.id is not None
            return CoachIdentity(row.id, row.name)

    def setup(self, name: str, password: str, client_host: str | None) -> NewLogin:
        """The first coach, made from the browser on the laptop that runs the server."""
        if not is_loopback(client_host):
            raise ForbiddenError(
                "setup answers only on the laptop running the server (open the console at "
                "http://127.0.0.1); or make the account there with `agility coach add NAME`"
            )
        with self._setup_lock:
            if not self.setup_needed():
                raise ForbiddenError("setup is already done: a coach exists; log in instead")
            coach = self.add_coach(name, password)
        return self._open_session(coach)

    def login(self, name: str, password: str, client_host: str | None) -> NewLogin:
        """Failures are counted per client address (server/auth/ratelimit.py), so guesses
        from one phone never slow down a sign-in from another. The laptop itself is never
        held back: the right password there always signs in."""
        throttled = not is_loopback(client_host)
        if throttled and (wait := self.throttle.charge(client_host)):
            raise TooManyAttemptsError(
                f"too many failed sign-ins from this device; try again in {wait} seconds "
                "(on the laptop running the server, signing in works at any time)",
                retry_after_s=wait,
            )
        with Session(self.engine) as session:
            row = session.exec(select(Coach).where(Coach.name == " ".join(name.split()))).first()
        # Hash even for an unknown name, so the answer takes as long either way.
        matches = verify_password(password, row.password_hash if row else DUMMY_HASH)
        if row is None or row.id is None or not matches:
            raise NotAuthorizedError(WRONG_LOGIN)
        if throttled:
            self.throttle.clear(client_host)
        return self._open_session(CoachIdentity(row.id, row.name))

    def _open_session(self, coach: CoachIdentity) -> NewLogin:
        login = NewLogin(coach, new_token(), new_token())
        now = self.clock()
        with Session(self.engine) as session:
            session.exec(delete(CoachSession).where(col(CoachSession.expires_wall) < now))
            session.add(
                CoachSession(
                    token_hash=token_hash(login.token),
                    coach_id=coach.id,
                    csrf_token=login.csrf_token,
                    created_wall=now,
                    expires_wall=now + SESSION_TTL,
                )
            )
            row = session.get(Coach, coach.id)
            if row is not None:
                row.last_login_wall = now
                session.add(row)
            session.commit()
        return login

    def session(self, token: str) -> ActiveSession | None:
        """The login behind a cookie's token, renewed for another SESSION_TTL; None when
        unknown or expired."""
        with Session(self.engine) as session:
            found = session.exec(
                select(CoachSession, Coach)
                .join(Coach, Coach.id == CoachSession.coach_id)  # type: ignore[arg-type]
                .where(CoachSession.token_hash == token_hash(token))
            ).first()
            if found is None:
                return None
            login, coach = found
            now = self.clock()
            if login.expires_wall <= now:
                session.delete(login)
                session.commit()
                return None
            if login.expires_wall < now + SESSION_TTL - RENEW_STEP:
                login.expires_wall = now + SESSION_TTL
                session.add(login)
                session.commit()
            assert coach.id is not None
            return ActiveSession(CoachIdentity(coach.id, coach.name), login.csrf_token)

    def logout(self, token: str) -> None:
        with Session(self.engine) as session:
            session.exec(
                delete(CoachSession).where(col(CoachSession.token_hash) == token_hash(token))
            )
            session.commit()
