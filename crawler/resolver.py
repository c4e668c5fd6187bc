"""The fetch guard where connections are made: Scrapy's DNS resolver, checked.

The downloader middleware checks a request's host before it is sent, but the connection
resolves the name again; a name that answers with a public address first and with
127.0.0.1 a moment later (DNS rebinding) would pass the one and reach the other. This
resolver refuses to hand the connection a non-public address, so the address connected
to is always a checked one.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from hitwatch.addresses import address_problem

__all__ = ["GuardedResolver"]

log = logging.getLogger(__name__)


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing loopback, private, link-local and other
    non-public answers unless FETCH_ALLOW_PRIVATE or FETCH_ALLOWED_HOSTS allow them."""

    allow_private = False
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver: GuardedResolver = super().from_crawler(crawler, reactor)
        options = crawler.settings
        resolver.allow_private = options.getbool("HITWATCH_FETCH_ALLOW_PRIVATE")
        exempt = urlsplit(options.get("HITWATCH_FETCH_EXEMPT_ORIGIN", "")).hostname
        hosts = {*options.getlist("HITWATCH_FETCH_ALLOWED_HOSTS"), *([exempt] if exempt else [])}
        resolver.allowed_hosts = frozenset(hosts)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802
        resolved = super().getHostByName(name, timeout)
        resolved.addCallback(self.check, name)
        return resolved

    def check(self, address: str, name: str) -> str:
        """`address` when `name` may be connected to at it; DNSLookupError otherwise."""
        if self.allow_private or name.rstrip(".").lower() in self.allowed_hosts:
            return address
        problem = address_problem(ipaddress.ip_address(address))
        if problem is not None:
            # Twisted reports any refusal as "no results"; the log says why.
            refusal = (
                f"{name} resolves to {address}, a {problem} address: refused by the fetch guard"
            )
            log.warning("%s", refusal)
            raise DNSLookupError(refusal)
        return address
