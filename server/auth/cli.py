"""`agility coach add NAME`: the way to make a coach account without a browser.

The password is never an argument (it would sit in the shell history): it is asked twice on a
terminal, or read from the first line of standard input for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO

from server.config import Settings
from server.db.session import make_engine, migrate


def read_password(stdin: TextIO, prompt: Any = getpass.getpass) -> str:
    """Twice on a terminal, so a typo does not lock the coach out; else the first line."""
    if stdin.isatty():
        first = str(prompt("Password (at least 10 characters): "))
        again = str(prompt("Password again: "))
        if first != again:
            raise ValueError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def cmd_coach_add(args: argparse.Namespace) -> int:
    from server.auth.service import AuthService

    db = args.db or Settings().db
    try:
        password = read_password(sys.stdin)
    except (ValueError, EOFError) as exc:
        print(f"agility: error: {exc or 'no password given'}", file=sys.stderr)
        return 2
    migrate(db)
    engine = make_engine(db)
    try:
        coach = AuthService(engine).add_coach(args.name, password)
    finally:
        engine.dispose()
    print(f"coach {coach.name!r} added (id {coach.id}); log in at /console")
    return 0
