"""Club-wide settings a coach changes from the console; for now the privacy of public names."""

from server.settings.service import (
    DEFAULT_PUBLIC_NAMES,
    PUBLIC_NAMES_MODES,
    get_privacy,
    public_name,
)

__all__ = ["DEFAULT_PUBLIC_NAMES", "PUBLIC_NAMES_MODES", "get_privacy", "public_name"]
