"""Devices that do not speak protocol v1, translated for the rest of the program."""

from __future__ import annotations

from typing import Any

from hardware.adapters.session import AdapterSession, AdapterSpec, parse_adapter_url

__all__ = ["AdapterSession", "AdapterSpec", "make_session", "parse_adapter_url"]


def make_session(spec: AdapterSpec, **kwargs: Any) -> AdapterSession:
    """The session for the kind of device `spec` names (keyword arguments as AdapterSession)."""
    from hardware.adapters.chronopic_session import ChronopicSession
    from hardware.adapters.timy_session import TimySession

    kinds: dict[str, type[AdapterSession]] = {"chronopic": ChronopicSession, "timy": TimySession}
    return kinds[spec.adapter](spec, **kwargs)
