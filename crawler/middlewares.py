"""Downloader middlewares: the fetch guard, and answers to NHC-style HTTP 412 cookie
challenges."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from crawler.challenge import ChallengeError, solve_cookie_challenge
from hitwatch.addresses import FetchGuard
from hitwatch.errors import TransientError

__all__ = ["CookieChallengeMiddleware", "FetchGuardMiddleware", "FetchRefused"]

log = logging.getLogger(__name__)


class FetchRefused(IgnoreRequest):
    """A request the fetch guard refused; its message says why and which setting allows it."""


class FetchGuardMiddleware:
    """Refuses every request whose host resolves to a loopback, private, link-local or
    otherwise non-public address (hitwatch.addresses), unless the settings allow it.

    Every request passes here: list and article pages, linked documents, robots.txt, and
    each hop of a redirect (Scrapy's redirect middleware issues the next hop as a new
    request). The only exemption is the demo mirror's origin, which the product sets.
    Host verdicts are kept for the run; names are resolved off the reactor thread.
    """

    def __init__(self, guard: FetchGuard, exempt_origin: str = "") -> None:
        self.guard = guard
        parts = urlsplit(exempt_origin)
        self.exempt = (parts.scheme.lower(), parts.netloc.lower()) if exempt_origin else None
        self.verdicts: dict[tuple[str, str], str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchGuardMiddleware:
        options = crawler.settings
        guard = FetchGuard(
            allow_private=options.getbool("HITWATCH_FETCH_ALLOW_PRIVATE"),
            allowed_hosts=frozenset(options.getlist("HITWATCH_FETCH_ALLOWED_HOSTS")),
        )
        return cls(guard, options.get("HITWATCH_FETCH_EXEMPT_ORIGIN", ""))

    async def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        origin = (parts.scheme.lower(), parts.netloc.lower())
        if origin == self.exempt:
            return
        if origin not in self.verdicts:
            try:
                self.verdicts[origin] = await maybe_deferred_to_future(
                    threads.deferToThread(self.guard.url_problem, request.url)
                )
            except TransientError as exc:
                # Not kept: the name may resolve later. Refused now all the same, since a
                # name that resolves at the next lookup could resolve anywhere.
                raise FetchRefused(f"refused to fetch {request.url}: {exc}") from exc
        problem = self.verdicts[origin]
        if problem is not None:
            refusal = FetchGuard.refusal(request.url, problem)
            log.warning("%s", refusal)
            raise FetchRefused(refusal)


MAX_CHALLENGES = 2


class CookieChallengeMiddleware:
    """On a 412 whose page sets `document.cookie`, compute the cookie and ask again.

    The cookie then lives in the spider's cookie jar, so one challenge per run and site
    is enough. A page still refused after `MAX_CHALLENGES` answers passes through as an
    error, recorded like any failed fetch.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status != 412 or b"document.cookie" not in response.body:
            return response
        tries = int(request.meta.get("challenges", 0))
        if tries >= MAX_CHALLENGES:
            log.warning("cookie challenge still refused after %d answers: %s", tries, request.url)
            return response
        try:
            name, value = solve_cookie_challenge(response.body.decode("utf-8", "replace"))
        except ChallengeError as exc:
            log.warning("cannot answer the cookie challenge of %s: %s", request.url, exc)
            return response
        cookies = dict(request.cookies) if isinstance(request.cookies, dict) else {}
        cookies[name] = value
        meta = {**request.meta, "challenges": tries + 1}
        return request.replace(cookies=cookies, meta=meta, dont_filter=True)
