"""Sending a prepared post over HTTP, behind the fetch guard.

The channel's host is resolved and every address checked right before each request
(`hitwatch.addresses`, with CHANNEL_ALLOWED_HOSTS as the allowance); redirects are not
followed (a robot's endpoint does not move: a 3xx is a failure); each request has
CHANNEL_TIMEOUT and reads at most CHANNEL_MAX_RESPONSE_BYTES of the answer.

A 5xx, 429, timeout or connection error is `retryable`; anything else that is not a
success (4xx, a platform's error code in a 200 answer, a refused address) is not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from hitwatch.addresses import FetchGuard, FetchRefusedError, Resolver, resolve_host
from hitwatch.channels.formats import PreparedPost
from hitwatch.errors import TransientError
from hitwatch.settings import Settings

__all__ = ["HttpPoster", "PostResult", "Poster", "platform_error"]


@dataclass(frozen=True)
class PostResult:
    ok: bool
    retryable: bool = False
    http_status: int | None = None
    error: str = ""
    duration_ms: int = 0


Poster = Callable[[str, PreparedPost], PostResult]


def platform_error(kind: str, body: bytes) -> str:
    """The error a platform reports inside a 200 answer ("" when it reports success)."""
    if kind == "webhook":
        return ""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return f"answer is not JSON: {body[:200]!r}"
    if not isinstance(data, dict):
        return f"unexpected answer: {body[:200]!r}"
    if kind in ("wecom", "dingtalk"):
        code, text = data.get("errcode", 0), data.get("errmsg", "")
    else:  # feishu: `code`, or the older `StatusCode`
        code = data.get("code", data.get("StatusCode", 0))
        text = data.get("msg", data.get("StatusMessage", ""))
    return "" if code in (0, "0") else f"platform error {code}: {text}"


@dataclass(frozen=True)
class HttpPoster:
    """`poster(kind, post)`: one POST; never raises for a network or server problem."""

    guard: FetchGuard
    allow_http: bool = False
    timeout: float = 10.0
    max_response_bytes: int = 65536

    @classmethod
    def from_settings(cls, settings: Settings, resolve: Resolver = resolve_host) -> HttpPoster:
        guard = FetchGuard(False, settings.channel_allowed_host_set, resolve)
        return cls(
            guard,
            settings.channel_allow_http,
            settings.channel_timeout,
            settings.channel_max_response_bytes,
        )

    def url_problem(self, url: str) -> str | None:
        """Why a channel may not post to `url` (TransientError: the host does not resolve)."""
        scheme = urlsplit(url).scheme.lower()
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            return "a channel URL must start with https:// (CHANNEL_ALLOW_HTTP allows http://)"
        problem = self.guard.url_problem(url)
        if problem is None:
            return None
        refusal = FetchGuard.refusal(url, problem).replace("refused to fetch", "refused to post to")
        return refusal.replace("FETCH_ALLOWED_HOSTS", "CHANNEL_ALLOWED_HOSTS").replace(
            " or FETCH_ALLOW_PRIVATE=true", ""
        )

    def __call__(self, kind: str, post: PreparedPost) -> PostResult:
        started = time.monotonic()

        def result(ok: bool, retryable: bool, status: int | None, error: str) -> PostResult:
            elapsed = int((time.monotonic() - started) * 1000)
            return PostResult(ok, retryable, status, error[:2000], elapsed)

        try:
            problem = self.url_problem(post.url)
        except TransientError as error:
            return result(False, True, None, str(error))
        if problem is not None:
            return result(False, False, None, problem)
        try:
            with requests.post(
                post.url,
                data=post.body,
                headers=post.headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                body = self._read(response)
                status = response.status_code
        except FetchRefusedError as error:
            return result(False, False, None, str(error))
        except requests.Timeout:
            return result(False, True, None, f"no answer within {self.timeout:g} s")
        except requests.RequestException as error:
            return result(False, True, None, f"connection failed: {error}")
        if 300 <= status < 400:
            return result(False, False, status, f"HTTP {status}: redirects are not followed")
        if status >= 500 or status == 429:
            return result(False, True, status, f"HTTP {status}: {body[:300]!r}")
        if status >= 400:
            return result(False, False, status, f"HTTP {status}: {body[:300]!r}")
        refused = platform_error(kind, body)
        return result(not refused, False, status, refused)

    def _read(self, response: requests.Response) -> bytes:
        data = b""
        for chunk in response.iter_content(8192):
            data += chunk
            if len(data) > self.max_response_bytes:
                # The answer only says yes or no; a huge one is cut, not read to the end.
                return data[: self.max_response_bytes]
        return data
