"""Crawls of the mirror over real HTTP into a real Redis, by real `hitwatch crawl` processes.

Each crawl is a child process (Twisted's reactor runs once per process); the mirror runs
in a thread of the test and counts the pages it serves.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from crawler.mirror.app import MirrorConfig, Site, create_app
from crawler.mirror.content import load_articles
from crawler.mirror.mapping import mirror_url
from crawler.mirror.serve import serve_in_thread
from crawler.services import KEY_PREFIX
from crawler.spiders.source import page_url
from hitwatch.messages import CrawledItem, parse_message
from hitwatch.sources import load_sources
from hitwatch.store import Failure, Source
from hitwatch.tasks import CLASSIFY_ITEM

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))
ARTICLES = load_articles()
# A 公众号 article whose page says its publisher removed it is counted, not handed over.
REMOVED = [a for a in load_articles() if a.wechat == "removed"]
HANDED = [a for a in load_articles() if a.wechat != "removed"]


@pytest.fixture
def mirror_app(request: pytest.FixtureRequest) -> Flask:
    return create_app(getattr(request, "param", None))


@pytest.fixture
def mirror_base(mirror_app: Flask) -> Iterator[str]:
    with serve_in_thread(mirror_app) as base:
        yield base


@pytest.fixture
def crawl_env(settings, database, isolated_redis_url: str, mirror_base: str) -> dict[str, str]:
    return {
        "HITWATCH_DATA_DIR": str(settings.data_dir),
        "REDIS_URL": isolated_redis_url,
        "MIRROR_PORT": mirror_base.rsplit(":", 1)[1],
        "CRAWL_MODE": "demo",
        "LOG_LEVEL": "WARNING",
        "CRAWLER_SEEN_TTL_DAYS": "7",
        "PATH": str(Path(sys.executable).parent),
    }


def start_crawl(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [HITWATCH, "crawl", "--once", "--demo", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def crawl(env: dict[str, str], *args: str) -> str:
    process = start_crawl(env, *args)
    out, _ = process.communicate(timeout=120)
    text = out.decode("utf-8", "replace")
    assert process.returncode == 0, text
    return text


def classify_items(redis_url: str) -> list[CrawledItem]:
    """Every message waiting in the `classify` queue (kombu's Redis list), oldest first."""
    client = redis.Redis.from_url(redis_url)
    items = []
    for raw in reversed(client.lrange("classify", 0, -1)):
        envelope = json.loads(raw)
        assert envelope["headers"]["task"] == CLASSIFY_ITEM
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        items.append(parse_message(CrawledItem, args[0]))
    client.close()
    return items


def hits(mirror_app: Flask) -> Counter[str]:
    return Counter(mirror_app.extensions["mirror_hits"])


def article_path(url: str) -> str:
    return "/" + url.split("://", 1)[1]


def test_demo_crawl_hands_over_every_article_once_then_nothing(
    crawl_env, isolated_redis_url, mirror_app, database
) -> None:
    out = crawl(crawl_env)
    assert (
        f"{len(HANDED)} items sent to classify, 0 errors, {len(REMOVED)} removed by their"
        " publisher" in out
    )

    items = classify_items(isolated_redis_url)
    # An article whose full text came in a 公众号 feed was not fetched: it names its URL.
    real = {item.item_id: item.hints.get("original_url") or item.url for item in items}
    by_url = Counter(real.values())
    assert by_url == Counter(a.url for a in HANDED)
    sources = {a.url: a.source for a in ARTICLES}
    for item in items:
        assert item.source_id == sources[real[item.item_id]]
        assert item.hints["source_id"] == item.source_id
        if "from_feed" in item.hints:
            assert item.url == real[item.item_id]
        else:
            assert item.url.startswith("http://127.0.0.1:")
        assert item.fetched_at.tzinfo is not None
        assert len(item.body_bytes()) > 200
    from_feed = {real[i.item_id] for i in items if "from_feed" in i.hints}
    assert from_feed == {a.url for a in ARTICLES if a.wechat == "full"}
    nhc = next(i for i in items if i.source_id == "nhc")
    assert "国家卫生健康委" not in nhc.body_bytes().decode(
        "utf-8", "replace"
    )  # raw GBK bytes, untouched
    assert nhc.hints["title"] in nhc.body_bytes().decode("gbk")

    with database.session() as session:
        rows = {row.id: row for row in session.scalars(select(Source))}
    assert {row.state for row in rows.values()} == {"ok"}
    # gov.cn lists each 解读 twice: in its HTML column and in that column's JSON feed.
    gov_cn = [a for a in HANDED if a.source == "gov_cn"]
    assert rows["gov_cn"].last_items == len(gov_cn) + sum(a.list == "jiedu" for a in gov_cn)
    assert "1 article(s) removed by the publisher" in rows["mp_yixin_demo"].state_reason
    assert all(row.last_success_at is not None for row in rows.values())

    # Seen state is bounded: one key per article, each expiring after the configured TTL.
    client = redis.Redis.from_url(isolated_redis_url)
    seen_keys = list(client.scan_iter(f"{KEY_PREFIX}:seen:*"))
    assert len(seen_keys) == len(ARTICLES)
    ttl = int(crawl_env["CRAWLER_SEEN_TTL_DAYS"]) * 86_400
    assert all(0 < client.ttl(key) <= ttl for key in seen_keys)
    client.close()

    served_once = hits(mirror_app)
    crawl(crawl_env)
    assert len(classify_items(isolated_redis_url)) == len(HANDED)
    again = hits(mirror_app) - served_once
    assert not any(article_path(a.url) in again for a in ARTICLES), again
    # List pages are asked again on every run (conditionally), never skipped as seen.
    for source in load_sources():
        first = mirror_url("", page_url(source.lists[0], 1))
        assert any(key == first or key.startswith(f"{first} ") for key in again), source.id


def test_recheck_resends_only_a_changed_article(crawl_env, isolated_redis_url, mirror_app) -> None:
    crawl(crawl_env, "--source=wenming", "--source=bjnews")
    before = len(classify_items(isolated_redis_url))
    assert before == sum(a.source in ("wenming", "bjnews") for a in HANDED)

    changed = next(a for a in ARTICLES if a.source == "bjnews")
    edited = tuple(
        replace(a, paragraphs=(*a.paragraphs, "（本文已更新）")) if a is changed else a
        for a in ARTICLES
    )
    with mirror_app.app_context():
        mirror_app.extensions["mirror_site"] = Site(edited)
    out = crawl(crawl_env, "--source=wenming", "--source=bjnews", "--recheck")
    items = classify_items(isolated_redis_url)
    assert len(items) == before + 1, out
    assert items[-1].hints["original_url"] == changed.url
    assert items[-1].hints["update"] == "1"
    assert "（本文已更新）" in items[-1].body_bytes().decode("utf-8")


def test_oversized_pages_are_recorded_as_failures(crawl_env, isolated_redis_url, database) -> None:
    gov_cn = {a.url for a in ARTICLES if a.source == "gov_cn"}
    env = {**crawl_env, "MAX_PAGE_BYTES": "2500"}
    out = crawl(env, "--source=gov_cn")
    sent = {item.hints["original_url"] for item in classify_items(isolated_redis_url)}
    with database.session() as session:
        failed = {row.payload["url"]: row for row in session.scalars(select(Failure))}
    assert failed, out
    assert all(row.task_name == "crawler.fetch_page" for row in failed.values())
    assert all(row.payload["source_id"] == "gov_cn" for row in failed.values())
    # Nothing vanished: each article was either handed over or kept as a failure.
    assert sent | set(failed) == gov_cn
    assert not sent & set(failed)

    # A replay fetches just the failed page again, once the cause is gone.
    url = sorted(failed)[0]
    crawl(crawl_env, "--source=gov_cn", f"--url={url}")
    replayed = classify_items(isolated_redis_url)[-1]
    assert replayed.hints["original_url"] == url
    assert len(classify_items(isolated_redis_url)) == len(sent) + 1


def test_documents_not_fetched_are_kept_for_a_replay_of_their_page(
    crawl_env, isolated_redis_url, mirror_app, database
) -> None:
    with_files = {a.url: a for a in ARTICLES if a.source == "gov_cn" and a.files}
    assert with_files
    mirror_app.extensions["mirror_documents_down"] = True
    out = crawl(crawl_env, "--source=gov_cn")
    items = classify_items(isolated_redis_url)
    # The pages go on without their files ...
    assert set(with_files) <= {item.hints["original_url"] for item in items}, out
    assert not any(item.attachments for item in items)
    # ... and each such page is kept as one replayable failure naming the files.
    with database.session() as session:
        failed = {row.payload["url"]: row for row in session.scalars(select(Failure))}
    assert set(failed) == set(with_files)
    for url, row in failed.items():
        assert row.task_name == "crawler.fetch_page" and row.error_type == "TransientError"
        assert len(row.payload["documents"]) == len(with_files[url].files)
        assert "HTTP 503" in row.error_message

    mirror_app.extensions["mirror_documents_down"] = False
    url = sorted(failed)[0]
    crawl(crawl_env, "--source=gov_cn", f"--url={url}")
    replayed = classify_items(isolated_redis_url)
    assert len(replayed) == len(items) + 1
    update = replayed[-1]
    assert update.hints["original_url"] == url and update.hints["update"] == "1"
    kinds = sorted(file.url.rsplit(".", 1)[1] for file in update.attachments)
    assert kinds == sorted(file.kind for file in with_files[url].files)


def test_a_recheck_missing_files_does_not_replace_the_whole_page(
    crawl_env, isolated_redis_url, mirror_app, database
) -> None:
    crawl(crawl_env, "--source=gov_cn")
    whole = classify_items(isolated_redis_url)
    assert any(item.attachments for item in whole)
    mirror_app.extensions["mirror_documents_down"] = True
    crawl(crawl_env, "--source=gov_cn", "--recheck")
    # Nothing lesser is sent over the whole pages; the pages wait as failures for replay.
    assert len(classify_items(isolated_redis_url)) == len(whole)
    with database.session() as session:
        failed = {row.payload["url"] for row in session.scalars(select(Failure))}
    assert failed == {item.hints["original_url"] for item in whole if item.attachments}


@pytest.mark.parametrize("mirror_app", [MirrorConfig(latency_seconds=0.05)], indirect=True)
def test_two_processes_share_one_run_without_fetching_a_page_twice(
    crawl_env, isolated_redis_url, mirror_app
) -> None:
    processes = [start_crawl(crawl_env, "--run-id=shared-run") for _ in range(2)]
    outputs = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        outputs.append(out.decode("utf-8", "replace"))
        assert process.returncode == 0, outputs[-1]

    served = hits(mirror_app)
    twice = {path: n for path, n in served.items() if n > 1}
    assert twice == {}, twice
    # Full text from a 公众号 feed needs no fetch of its page.
    fetched = [a for a in ARTICLES if a.wechat != "full"]
    assert all(served[article_path(a.url)] == 1 for a in fetched)
    assert not any(served[article_path(a.url)] for a in ARTICLES if a.wechat == "full")
    items = classify_items(isolated_redis_url)
    real = Counter(i.hints.get("original_url") or i.url for i in items)
    assert real == Counter(a.url for a in HANDED)
    sent = [int(out.split(" items sent to classify")[0].rsplit(" ", 1)[1]) for out in outputs]
    assert sum(sent) == len(HANDED), outputs
    client = redis.Redis.from_url(isolated_redis_url)
    assert client.keys("hitwatch:crawl:run:shared-run*") == []  # the last process cleaned up
    client.close()
    print(f"articles sent per process: {sent}")  # shows the split in -s runs


def test_linked_documents_travel_with_their_page_and_are_read(
    crawl_env, isolated_redis_url
) -> None:
    """PDF, DOCX, XLSX and XLS files the mirror generates reach the classifier as text."""
    from classifier.classify import Classifier
    from classifier.dedupe import StoryRegistry
    from classifier.worker import ClassifyPipeline

    crawl(crawl_env, "--source=gov_cn", "--source=nhc", "--source=nhsa")
    items = classify_items(isolated_redis_url)
    expected = {
        a.url: {f.kind for f in a.files}
        for a in ARTICLES
        if a.files and a.source in ("gov_cn", "nhc", "nhsa")
    }
    carried = {
        i.hints["original_url"]: {f.url.rsplit(".", 1)[1] for f in i.attachments}
        for i in items
        if i.attachments
    }
    assert carried == expected
    assert {kind for kinds in expected.values() for kind in kinds} == {"pdf", "docx", "xlsx", "xls"}

    client = redis.Redis.from_url(isolated_redis_url)
    pipeline = ClassifyPipeline(
        classifier=Classifier.load(),
        stories=StoryRegistry(client),
        sources={source.id: source for source in load_sources()},
    )
    by_url = {a.url: a for a in ARTICLES}
    for item in items:
        if not item.attachments:
            continue
        document = pipeline.process(item)
        article = by_url[item.hints["original_url"]]
        texts = [a.text for a in document.attachments]
        assert len(texts) == len(article.files), document.attachments
        opening = "".join(article.paragraphs[0].split())[:20]
        for file, text in zip(article.files, texts, strict=True):
            compact = "".join(text.split())  # PDF lines wrap; spaces between CJK go
            assert file.title in compact and opening in compact, (file, text[:80])
    client.close()


def test_wechat_feed_items_are_extracted_and_a_reprint_joins_its_story(
    crawl_env, isolated_redis_url, database
) -> None:
    """The demo 公众号: full text from the bridge's feed, a fetched WeChat page that
    reprints a 新京报 article (one story with it, 新京报 first), a removed article counted."""
    from classifier.classify import Classifier
    from classifier.dedupe import StoryRegistry
    from classifier.worker import ClassifyPipeline

    out = crawl(crawl_env, "--source=bjnews", "--source=mp_yixin_demo")
    assert "1 article(s) removed by the publisher or blocked (not sent)" in out
    items = classify_items(isolated_redis_url)
    client = redis.Redis.from_url(isolated_redis_url)
    pipeline = ClassifyPipeline(
        classifier=Classifier.load(),
        stories=StoryRegistry(client),
        sources={source.id: source for source in load_sources()},
    )
    documents = {}
    for item in sorted(items, key=lambda i: i.source_id):  # 新京报 first, as it published
        document = pipeline.process(item)
        documents[document.canonical_url] = document
    client.close()

    wechat = [a for a in ARTICLES if a.source == "mp_yixin_demo" and a.wechat != "removed"]
    for article in wechat:
        document = documents[article.url]
        assert document.title == article.title
        assert document.source_name == "医信观察"
        assert document.published_at is not None
        assert document.published_at.isoformat() == article.iso_date
        assert document.body.splitlines()[0] == article.paragraphs[0]
    reprint = next(a for a in wechat if a.origin == "新京报")
    original = next(a for a in ARTICLES if a.source == "bjnews" and a.title == reprint.title)
    assert documents[reprint.url].story_id == documents[original.url].story_id
    assert documents[reprint.url].origin_name == "新京报"
    assert original.date < reprint.date  # the story page calls the 新京报 copy 首发


@pytest.mark.parametrize("mirror_app", [MirrorConfig(latency_seconds=0.1)], indirect=True)
def test_a_crawler_killed_mid_run_loses_nothing_and_fetches_nothing_handed_over_twice(
    crawl_env, isolated_redis_url, mirror_app
) -> None:
    # Fault test of #23: SIGKILL in the middle of a run, then the next run.
    import signal
    import time

    client = redis.Redis.from_url(isolated_redis_url)
    process = start_crawl(crawl_env)
    deadline = time.monotonic() + 120
    while client.llen("classify") < 5:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "no article handed over in 120 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    before = classify_items(isolated_redis_url)
    handed_over = {item.hints.get("original_url") or item.url for item in before}
    assert 5 <= len(handed_over) < len(HANDED), "killed mid-run"
    served_before = hits(mirror_app)

    out = crawl(crawl_env)
    items = classify_items(isolated_redis_url)
    by_url = Counter(item.hints.get("original_url") or item.url for item in items)
    assert set(by_url) == {a.url for a in HANDED}, "every article handed over"
    # At most the page in flight at the kill (queued, not yet remembered as seen) goes
    # twice; the classifier and the store keep it once (same id, same bytes).
    twice = {url for url, n in by_url.items() if n > 1}
    assert len(twice) <= 1, twice
    again = hits(mirror_app) - served_before
    fetched_twice = {url for url in handed_over if article_path(url) in again}
    assert fetched_twice <= twice, fetched_twice
    client.close()
    print(
        f"crawler killed after {len(handed_over)}/{len(HANDED)} handed over; the next run "
        f"handed over the other {len(HANDED) - len(handed_over)}, and {len(fetched_twice)} "
        "of the first again (in flight at the kill)"
    )
    assert f"{len(items) - len(before)} items sent to classify" in out
