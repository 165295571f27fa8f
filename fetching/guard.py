"""The SSRF guard: which URLs and addresses Vigie may fetch from.

Every URL (the one asked for, each redirect's) is checked before a request is built from it,
and every address its host resolves to is judged before a connection is opened: private,
loopback, link-local and other non-public addresses are refused unless the operator allows
them (``VIGIE_FETCH_ALLOW_HOSTS``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from parsers.exceptions import FetchError
from parsers.urls import fetch_url_refusal

#: Resolves ``(host, port)`` to IP address strings; the default asks the system (getaddrinfo).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_SETTING = "VIGIE_FETCH_ALLOW_HOSTS"
_SCHEMES = ("http", "https")

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


# --- SSRF guard -------------------------------------------------------------------------


def ip_refusal_reason(ip: IPAddress) -> str | None:
    """Why fetching from ``ip`` is refused by default, or None for a public address.

    IPv6 forms that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, 6to4, NAT64,
    IPv4-compatible) are judged by the IPv4 address inside, since that is where they lead.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return "a local-use NAT64 address"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = _address_reason(inner)
            return f"{reason} (IPv4 {inner} inside an IPv6 address)" if reason else None
    return _address_reason(ip)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):  # not :: or ::1
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _address_reason(ip: IPAddress) -> str | None:
    # Most specific first, so the message names the reason a person would recognise.
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (where cloud metadata services listen)"),
        (ip in _CGNAT, "a carrier-grade NAT address (100.64.0.0/10)"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a globally routable address"),
    )
    return next((reason for refused, reason in checks if refused), None)


@dataclass(frozen=True)
class AllowList:
    """``FetchPolicy.allow`` split into host names and networks."""

    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, entries: Sequence[str]) -> AllowList:
        names: set[str] = set()
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def allows_ip(self, ip: IPAddress) -> bool:
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)):
            candidates.append(inner)
        return any(c in net for c in candidates for net in self.networks)


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_url(url: str) -> httpx.URL:
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme.isalpha() and scheme not in _SCHEMES:
        raise FetchError(f"scheme {scheme!r} is not allowed (only http and https): {url}")
    if refusal := fetch_url_refusal(url):
        raise FetchError(f"invalid URL {url[:300]!r}: {refusal}")
    try:
        target = httpx.URL(url)
        target.host  # noqa: B018  # decodes IDNA labels, which may raise
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}") from exc
    if target.scheme not in _SCHEMES:
        raise FetchError(f"scheme {target.scheme!r} is not allowed (only http and https): {url}")
    if not target.host:
        raise FetchError(f"invalid URL {url!r}: no host")
    return target


def ip_or_none(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def refusal_message(host: str, address: str, reason: str, literal: bool) -> str:
    where = address if literal else f"{host} resolves to {address}, which"
    hint = address if literal else f"{host} (or {address})"
    return f"refused: {where} is {reason}; add {hint} to {ALLOW_SETTING} to allow it"
