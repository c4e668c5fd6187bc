"""The fetch guard: may hitwatch fetch this URL, given to it by a person or a crawled page?

A URL typed into `hitwatch crawl --url`, linked from a crawled page or named by a
redirect could point the crawler at the machine it runs on or at the private network
behind it (Redis, the cloud's metadata service, an intranet). `check_url` resolves the
host name and refuses when any of its addresses is not a public unicast one, unless the
settings allow it. Pure apart from the resolver, which is passed in (tests use a fake);
the crawler's downloader middleware and, later, webhook channels share it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hitwatch.errors import PermanentError, TransientError
from hitwatch.settings import Settings

__all__ = [
    "FETCHABLE_SCHEMES",
    "FetchGuard",
    "FetchRefusedError",
    "Resolver",
    "address_problem",
    "resolve_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host name -> its addresses as text; raises OSError when the name does not resolve
Resolver = Callable[[str], list[str]]

FETCHABLE_SCHEMES = ("http", "https")


class FetchRefusedError(PermanentError):
    """A URL is not fetched: its scheme, or an address of its host, is not allowed."""


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def address_problem(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 reaches 10.0.0.1; judge the IPv4 address it carries.
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return address_problem(mapped)
        if address.scope_id:
            return "link-local (scoped)"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class FetchGuard:
    """The rule of one deployment: `check_url` raises FetchRefusedError or returns None.

    `allow_private` (FETCH_ALLOW_PRIVATE) lets private and local addresses through;
    `allowed_hosts` (FETCH_ALLOWED_HOSTS) names hosts fetched whatever they resolve to.
    The scheme is checked in every case: file:, ftp:, data: and s3: URLs never are.
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    resolve: Resolver = resolve_host

    @classmethod
    def from_settings(cls, settings: Settings, resolve: Resolver = resolve_host) -> FetchGuard:
        return cls(settings.fetch_allow_private, settings.fetch_allowed_host_set, resolve)

    def check_url(self, url: str) -> None:
        """Raise FetchRefusedError when `url` may not be fetched, saying why and what
        allows it (TransientError when its host does not resolve now)."""
        problem = self.url_problem(url)
        if problem is not None:
            raise FetchRefusedError(self.refusal(url, problem))

    def url_problem(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None (TransientError: the host does not resolve)."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in FETCHABLE_SCHEMES:
            return "only http and https URLs are fetched"
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            return "the URL names no host"
        return self.host_problem(host)

    def host_problem(self, host: str) -> str | None:
        """Why `host` may not be fetched (e.g. "127.0.0.1 is a loopback address"), or None.

        Raises TransientError when the name does not resolve.
        """
        if self.allow_private or host in self.allowed_hosts:
            return None
        literal = _literal(host)
        addresses = [str(literal)] if literal else self._resolve(host)
        for text in addresses:
            problem = address_problem(ipaddress.ip_address(text.split("%", 1)[0]))
            if problem is not None:
                where = text if text == host else f"{host} resolves to {text}, which"
                return f"{where} is a {problem} address"
        return None

    @staticmethod
    def refusal(url: str, problem: str) -> str:
        """The message of a refusal: the URL, the problem, and the setting that allows it."""
        text = f"refused to fetch {url}: {problem}"
        if problem.endswith(" address"):
            text += (
                ". Set FETCH_ALLOWED_HOSTS (to this host) or FETCH_ALLOW_PRIVATE=true to allow it"
            )
        return text + "."

    def _resolve(self, host: str) -> list[str]:
        try:
            addresses = self.resolve(host)
        except OSError as exc:
            # Not refused for good: a name that does not resolve now may resolve later.
            raise TransientError(f"{host} does not resolve ({exc})") from exc
        if not addresses:
            raise TransientError(f"{host} has no address")
        return addresses
