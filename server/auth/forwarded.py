"""Which address a request comes from: the socket's peer, or what a trusted proxy says.

The address decides who may open /setup and who is spared the sign-in throttle (the laptop
itself, server/auth/service.py), and which address a failed sign-in counts against. Any
client can write `X-Forwarded-For: 127.0.0.1`, so the header is read only when the peer is
one of the reverse proxies the coach named (`agility serve --trusted-proxy ADDR`); with
none named, the default, every forwarded header is ignored and uvicorn is started with its
own proxy-header handling off (server/serve.py), so nothing else rewrites the peer either.

Only `X-Forwarded-For` (and `X-Forwarded-Proto`) are read: it is what nginx, Caddy, Traefik,
Apache and HAProxy send. RFC 7239's `Forwarded` is never read: a proxy that sets only
X-Forwarded-For passes a client's own `Forwarded: for=127.0.0.1` through untouched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_XFF = b"x-forwarded-for"
_XFP = b"x-forwarded-proto"


def parse_address(value: str) -> IPAddress | None:
    """An address as a header or a socket writes it: bare, `v4:port`, `[v6]` or `[v6]:port`;
    an IPv4-mapped IPv6 address is taken as its IPv4 one. None when it is not an address."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_proxy(value: str) -> IPNetwork:
    """One `--trusted-proxy`: an address (10.0.0.2, ::1) or a network (172.16.0.0/12)."""
    text = value.strip()
    if text in {"*", ""}:
        raise ValueError(
            "name the reverse proxy's address (or its network, like 172.16.0.0/12): "
            "trusting every address would let any phone claim to be the laptop"
        )
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IP address or network") from exc


@dataclass(frozen=True)
class TrustedProxies:
    """The reverse proxies whose X-Forwarded-For is believed; empty (the default) means none."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, values: Iterable[str]) -> TrustedProxies:
        return cls(tuple(parse_proxy(v) for v in values))

    def trusts(self, host: str | None) -> bool:
        address = parse_address(host) if host else None
        if address is None:
            return False
        return any(address.version == net.version and address in net for net in self.networks)

    def client_host(self, peer: str | None, forwarded_for: Sequence[str]) -> str | None:
        """The client's address, given the socket's peer and the X-Forwarded-For values.

        From an untrusted peer the header counts for nothing. From a trusted one the list is
        read from the right, each proxy having appended the address it was called from: the
        first address that is not a trusted proxy is the client (what a client wrote itself
        sits further left and is never reached). A hop that is no address gives None: not
        the laptop, and nobody in particular."""
        if not self.networks or not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop]
        if not hops:
            return peer
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                return None
            if not self.trusts(str(address)):
                return str(address)
        # Proxies all the way: the leftmost is the one that called the first of them.
        first = parse_address(hops[0])
        return str(first) if first is not None else None

    def forwarded_scheme(self, peer: str | None, forwarded_proto: Sequence[str]) -> str | None:
        """`http` or `https` as the nearest trusted proxy says it was called; None else."""
        if not self.networks or not self.trusts(peer) or not forwarded_proto:
            return None
        nearest = forwarded_proto[-1].split(",")[-1].strip().lower()
        return nearest if nearest in {"http", "https"} else None


def apply_forwarded(scope: Scope, proxies: TrustedProxies) -> None:
    """Puts the real client in the ASGI scope (`client`, `scheme`) for a request that came
    through a trusted proxy; leaves every other scope as it is."""
    if not proxies.networks:
        return
    client = scope.get("client")
    peer = str(client[0]) if client else None
    if not proxies.trusts(peer):
        return
    forwarded_for: list[str] = []
    forwarded_proto: list[str] = []
    for name, value in scope.get("headers", []):
        key = bytes(name).lower()
        if key == _XFF:
            forwarded_for.append(bytes(value).decode("latin-1"))
        elif key == _XFP:
            forwarded_proto.append(bytes(value).decode("latin-1"))
    host = proxies.client_host(peer, forwarded_for)
    if host != peer:
        # The client's own port is not known; 0 as uvicorn writes it.
        scope["client"] = (host, 0) if host is not None else None
    scheme = proxies.forwarded_scheme(peer, forwarded_proto)
    if scheme is not None:
        websocket = scope.get("type") == ScopeType.WEBSOCKET
        scope["scheme"] = scheme.replace("http", "ws") if websocket else scheme
