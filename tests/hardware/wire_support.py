"""Small helpers shared by the wire and message tests."""

from __future__ import annotations


def h(text: str) -> bytes:
    return bytes.fromhex(text)
