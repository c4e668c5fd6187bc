"""The crawler's seen-URL state on a real Redis: bounded by a TTL refreshed while listed."""

from __future__ import annotations

import time

import pytest
import redis

from crawler.state import SeenArticles


@pytest.fixture
def client(isolated_redis_url: str):
    connection = redis.Redis.from_url(isolated_redis_url)
    yield connection
    connection.close()


def test_a_remembered_url_expires_after_the_ttl(client) -> None:
    seen = SeenArticles(client, "test:crawl", ttl=1)
    seen.remember("https://example.cn/a.html", "h1")
    assert seen.known(["https://example.cn/a.html", "https://example.cn/b.html"]) == {
        "https://example.cn/a.html"
    }
    assert seen.change("https://example.cn/a.html", "h1") == "same"
    assert seen.change("https://example.cn/a.html", "h2") == "changed"
    time.sleep(2.1)
    assert seen.known(["https://example.cn/a.html"]) == set()
    assert seen.change("https://example.cn/a.html", "h1") == "new"
    assert list(client.scan_iter("test:crawl:seen:*")) == []


def test_a_url_still_listed_keeps_its_entry(client) -> None:
    seen = SeenArticles(client, "test:crawl", ttl=3600)
    seen.remember("https://example.cn/a.html", "h1")
    key = seen.key("https://example.cn/a.html")
    client.expire(key, 5)  # as if most of the TTL had passed
    assert seen.known(["https://example.cn/a.html"]) == {"https://example.cn/a.html"}
    assert client.ttl(key) > 3000  # seen on a list again: the clock restarts


def test_forget_and_bad_ttl(client) -> None:
    seen = SeenArticles(client, "test:crawl", ttl=60)
    seen.remember("https://example.cn/a.html", "h1")
    seen.forget("https://example.cn/a.html")
    assert seen.known(["https://example.cn/a.html"]) == set()
    with pytest.raises(ValueError, match="positive"):
        SeenArticles(client, "test:crawl", ttl=0)


def test_the_legacy_unbounded_hash_is_moved_to_expiring_keys(client) -> None:
    client.hset(
        "test:crawl:seen",
        mapping={"https://example.cn/a.html": "h1", "https://example.cn/b.html": "h2"},
    )
    seen = SeenArticles(client, "test:crawl", ttl=600)
    assert seen.adopt_legacy("test:crawl:seen") == 2
    assert not client.exists("test:crawl:seen")
    assert seen.change("https://example.cn/b.html", "h2") == "same"
    assert 0 < client.ttl(seen.key("https://example.cn/a.html")) <= 600
    assert seen.adopt_legacy("test:crawl:seen") == 0  # nothing left: a no-op
