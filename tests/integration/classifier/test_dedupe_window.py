"""The near-duplicate window on a real Redis: old stories leave the LSH index, their
exact copies still join them, and the memory they held is given back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import redis

from classifier.bench import _preload
from classifier.dedupe import StoryRegistry

pytestmark = pytest.mark.requires_redis

DAY = 86400.0
PARAGRAPHS = [
    "7月11日，2024中国数字医疗大会在北京朝阳区召开，来自政府、医院、企业和高校的代表参会。",
    "会上发布了朝阳区数字医疗产业发展规划，提出建设数字医疗特色园区和概念验证中心。",
    "多家医院介绍了医疗大模型在预问诊、病历生成和影像辅助诊断中的应用效果。",
    "与会专家认为，数据要素的流通和数据安全治理是产业发展的关键，需要标准先行。",
    "朝阳区卫生健康委员会表示，将推动医疗机构与企业合作，打造产业资源优势聚集地。",
]
TEXT = "\n".join(PARAGRAPHS)
REPRINT = "编者按：本文转载自朝阳报。\n" + "\n".join(PARAGRAPHS[:4]) + "\n责任编辑：李四"
OTHER = (
    "国家卫生健康委办公厅印发通知，要求各地加快推进全民健康信息平台建设，"
    "推动医疗机构检查检验结果互认共享，完善电子健康档案和电子病历数据标准。"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(client: redis.Redis, unique_name: str, clock: Clock) -> Iterator[StoryRegistry]:
    reg = StoryRegistry(client, namespace=unique_name, window_days=30, clock=clock)
    yield reg
    reg.clear()
    assert not list(client.scan_iter(match=f"{unique_name}:*"))


def _keys(client: redis.Redis, namespace: str, kind: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{namespace}:dedupe:{kind}:*"))


def _bucketed(client: redis.Redis, namespace: str, story_id: str) -> int:
    """How many LSH buckets name the story."""
    return sum(
        story_id.encode() in value.split(b",")
        for key in _keys(client, namespace, "lsh")
        for value in client.hvals(key)
    )


def test_an_old_story_leaves_the_index_and_its_exact_copies_still_join(
    registry: StoryRegistry, client: redis.Redis, unique_name: str, clock: Clock
) -> None:
    first = registry.assign(doc_id="first", title="t", body=TEXT)
    reprint = registry.assign(doc_id="reprint", title="另一个标题", body=REPRINT)
    assert reprint.story_id == first.story_id and reprint.duplicate_of == "first"
    assert registry.window_stories() == 1 and _bucketed(client, unique_name, first.story_id)

    clock.now += 31 * DAY
    # The next assignment trims the window before its lookup: a reprint of the old text
    # is now a story of its own ...
    late_reprint = registry.assign(doc_id="late-reprint", title="t", body=REPRINT + "\n（完）")
    assert late_reprint.new_story and late_reprint.story_id != first.story_id
    assert _bucketed(client, unique_name, first.story_id) == 0
    assert not client.exists(f"{unique_name}:dedupe:near:{first.story_id}")
    assert registry.window_stories() == 1  # the late reprint's story alone
    # ... while the story, its hashes and its documents stay: an exact copy (other
    # punctuation and spacing, same letters) joins it, and the first document arriving
    # again is still itself.
    copy = registry.assign(
        doc_id="copy", title="t", body=TEXT.replace("，", ", "), source_kind="aggregator"
    )
    assert not copy.new_story and copy.story_id == first.story_id
    assert copy.duplicate_of == "first" and copy.similarity == 1.0
    again = registry.assign(doc_id="first", title="t", body=TEXT)
    assert again.story_id == first.story_id and again.duplicate_of is None
    # The exact copy brought the story back into the window: its reprints join again.
    assert registry.window_stories() == 2
    assert registry.assign(doc_id="third", title="t", body=REPRINT).story_id == first.story_id


def test_a_story_whose_copies_keep_arriving_stays_in_the_window(
    registry: StoryRegistry, clock: Clock
) -> None:
    first = registry.assign(doc_id="first", title="t", body=TEXT)
    clock.now += 25 * DAY
    assert registry.assign(doc_id="r1", title="t", body=REPRINT).story_id == first.story_id
    clock.now += 25 * DAY  # 50 days after the first copy, 25 after the latest
    registry.assign(doc_id="other", title="t", body=OTHER)
    assert registry.window_stories() == 2
    late = registry.assign(doc_id="r2", title="t", body="来源：某网\n" + TEXT + "\n（完）")
    assert not late.new_story and late.story_id == first.story_id


def test_a_backfill_of_old_articles_dedupes_among_itself(
    registry: StoryRegistry, clock: Clock
) -> None:
    # The window counts from arrival: articles published years ago and loaded today are
    # in it, and leave it a window after they were loaded.
    published = datetime(2019, 3, 1)
    first = registry.assign(doc_id="old", title="t", body=TEXT, published_at=published)
    reprint = registry.assign(
        doc_id="old-reprint", title="t", body=REPRINT, published_at=datetime(2019, 3, 4)
    )
    assert reprint.story_id == first.story_id
    clock.now += 29 * DAY
    late = registry.assign(doc_id="r", title="t", body=REPRINT + "\n（完）", published_at=published)
    assert late.story_id == first.story_id


def test_a_law_is_still_recognised_by_title_after_the_window(
    registry: StoryRegistry, clock: Clock
) -> None:
    # Laws are reprinted years after they were issued; their versions are found by
    # title, so their signature stays with the story.
    articles = "\n".join(
        f"第{i}条 医疗机构应当依法执业，建立健全医疗质量管理制度，保障医疗安全。"
        for i in range(1, 30)
    )
    law = "根据2022年3月29日国务院令第752号修订\n" + articles
    first = registry.assign(doc_id="law", title="医疗机构管理条例", body=law)
    clock.now += 400 * DAY
    reprint = registry.assign(
        doc_id="law-reprint", title="医疗机构管理条例", body="来源：中国政府网\n" + law[:-10]
    )
    assert not reprint.new_story and reprint.story_id == first.story_id
    assert reprint.previous_version_of is None


def test_sweep_gives_the_window_memory_back(
    registry: StoryRegistry, client: redis.Redis, unique_name: str, clock: Clock
) -> None:
    _preload(registry, 600, batch=250)
    assert registry.window_stories() == 600
    assert registry.sweep() == 0  # nothing is old yet
    used = int(client.info("memory")["used_memory"])
    clock.now += 30 * DAY + 1
    assert registry.sweep(batch=100) == 600
    assert registry.window_stories() == 0
    assert not _keys(client, unique_name, "lsh") and not _keys(client, unique_name, "near")
    assert len(_keys(client, unique_name, "story")) == 600
    for kind in ("docs", "hashes"):  # 600 entries each, in their shards
        assert sum(int(client.hlen(key)) for key in _keys(client, unique_name, kind)) == 600
    # 600 signatures and 12,600 bucket entries are gone (about 1 KB a story).
    assert int(client.info("memory")["used_memory"]) < used - 300_000
