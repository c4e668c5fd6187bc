"""Downloader middleware: answer NHC-style HTTP 412 cookie challenges."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.http import Response

from crawler.challenge import ChallengeError, solve_cookie_challenge

__all__ = ["CookieChallengeMiddleware"]

log = logging.getLogger(__name__)

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
