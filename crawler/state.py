"""Crawl state kept in Redis, shared by every crawler process on every machine.

- `SeenArticles`: article URL -> hash of the bytes last handed over, expiring after a
  configurable time (`CRAWLER_SEEN_TTL_DAYS`); a URL is not fetched again in later runs
  unless a re-check asks for it, and a changed page is re-sent.
- `ListValidators`: ETag / Last-Modified of list pages for conditional requests.
- `RunRegistry`: the crawler processes working on one run, so that an idle process waits
  while another may still add requests, and the last one out cleans the run's keys.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Literal

import redis

__all__ = ["ArticleChange", "ListValidators", "RunRegistry", "SeenArticles", "Validators"]

ArticleChange = Literal["new", "changed", "same"]

# A registered process that has not reported for this long is presumed dead.
STALE_SECONDS = 120


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class SeenArticles:
    """Article URL -> content hash, one Redis key per URL that expires `ttl` seconds after
    the URL was last handed over or last seen on a list.

    The state is bounded by what the sources still list: a URL that has dropped off every
    list page for `ttl` is forgotten (if it ever comes back it is fetched once more and,
    with an unchanged hash downstream, stored again). List pages are not kept here: they
    are fetched on every run, with conditional headers from `ListValidators`.
    """

    def __init__(self, client: redis.Redis, prefix: str, ttl: int) -> None:
        if ttl <= 0:
            raise ValueError("the seen-URL TTL must be positive")
        self.client = client
        self.prefix = f"{prefix}:seen:"
        self.ttl = ttl

    def key(self, url: str) -> str:
        # A digest keeps keys short and free of characters some tools choke on.
        return self.prefix + hashlib.sha256(url.encode()).hexdigest()[:32]

    def known(self, urls: list[str]) -> set[str]:
        """The subset of `urls` already handed over; their expiry restarts (still listed)."""
        if not urls:
            return set()
        keys = [self.key(url) for url in urls]
        flags = self.client.mget(keys)
        found = {url for url, flag in zip(urls, flags, strict=True) if flag is not None}
        if found:
            pipe = self.client.pipeline(transaction=False)
            for url in found:
                pipe.expire(self.key(url), self.ttl)
            pipe.execute()
        return found

    def change(self, url: str, content_hash: str) -> ArticleChange:
        previous = self.client.get(self.key(url))
        if previous is None:
            return "new"
        return "same" if _text(previous) == content_hash else "changed"

    def remember(self, url: str, content_hash: str) -> None:
        self.client.set(self.key(url), content_hash, ex=self.ttl)

    def forget(self, url: str) -> None:
        self.client.delete(self.key(url))

    def adopt_legacy(self, key: str) -> int:
        """Move the unbounded url -> hash map earlier releases kept at `key` to expiring
        keys, then delete it; the number of URLs moved (0 when there is none)."""
        if _text(self.client.type(key)) != "hash":
            return 0
        pipe = self.client.pipeline(transaction=False)
        moved = 0
        for url, digest in self.client.hscan_iter(key):
            pipe.set(self.key(_text(url)), digest, ex=self.ttl, nx=True)
            moved += 1
        pipe.delete(key)
        pipe.execute()
        return moved


@dataclass(frozen=True)
class Validators:
    etag: str = ""
    last_modified: str = ""
    links: int = 0


class ListValidators:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:list-validators"

    def get(self, url: str) -> Validators | None:
        raw = self.client.hget(self.key, url)
        return Validators(**json.loads(raw)) if raw else None

    def put(self, url: str, validators: Validators) -> None:
        self.client.hset(self.key, url, json.dumps(validators.__dict__))

    def forget(self, url: str) -> None:
        self.client.hdel(self.key, url)


class RunRegistry:
    """Processes of one crawl run: `busy` while they have requests, `idle` when waiting."""

    def __init__(
        self, client: redis.Redis, run_key: str, worker_id: str, ttl: int = 86_400
    ) -> None:
        self.client = client
        self.key = f"{run_key}:workers"
        self.worker_id = worker_id
        self.ttl = ttl

    def _set(self, state: str) -> None:
        self.client.hset(self.key, self.worker_id, f"{state}:{time.time():.0f}")
        self.client.expire(self.key, self.ttl)

    def join(self) -> None:
        self._set("busy")

    def busy(self) -> None:
        self._set("busy")

    def idle(self) -> None:
        self._set("idle")

    def others_busy(self) -> bool:
        now = time.time()
        for worker, raw in self.client.hgetall(self.key).items():
            if _text(worker) == self.worker_id:
                continue
            state, _, stamp = _text(raw).partition(":")
            if state == "busy" and now - float(stamp or 0) < STALE_SECONDS:
                return True
        return False

    def leave(self) -> bool:
        """Unregister; True when no live process is left on the run."""
        self.client.hdel(self.key, self.worker_id)
        now = time.time()
        live = [
            raw
            for raw in self.client.hgetall(self.key).values()
            if now - float(_text(raw).partition(":")[2] or 0) < STALE_SECONDS
        ]
        return not live
