"""Errors of the hardware layer; the server maps them to messages and status codes in one place."""


class HardwareError(Exception):
    """Base of every error the hardware layer raises."""


class LinkError(HardwareError):
    """A port could not be opened, written or read (unplugged, busy, no such device)."""


class DeviceNotReady(HardwareError):
    """A device is known but its clock is not synchronised well enough to time a run."""


class PortUnavailable(LinkError):
    """A port that exists but that this program may not have: another program holds it, or
    the user lacks permission. `message` says which, in words a coach can act on."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
