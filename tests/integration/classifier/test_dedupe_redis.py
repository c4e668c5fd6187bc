"""StoryRegistry on a real Redis: copies join one story, others stay apart, races resolve."""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import redis

from classifier.dedupe import MAX_BUCKET_STORIES, StoryRegistry, fingerprint

pytestmark = pytest.mark.requires_redis

PARAGRAPHS = [
    "7月11日，2024中国数字医疗大会在北京朝阳区召开，来自政府、医院、企业和高校的代表参会。",
    "会上发布了朝阳区数字医疗产业发展规划，提出建设数字医疗特色园区和概念验证中心。",
    "多家医院介绍了医疗大模型在预问诊、病历生成和影像辅助诊断中的应用效果。",
    "与会专家认为，数据要素的流通和数据安全治理是产业发展的关键，需要标准先行。",
    "朝阳区卫生健康委员会表示，将推动医疗机构与企业合作，打造产业资源优势聚集地。",
]
TEXT = "\n".join(PARAGRAPHS)
OTHER_REPORT = (
    "数字医疗展现广阔应用前景。记者从大会获悉，朝阳区力争打造产业资源优势聚集地，"
    "区内已聚集数字医疗企业百余家，覆盖智慧医院、互联网医疗和健康管理等领域，"
    "下一步将完善政策支持体系，吸引更多创新项目落地。"
)


@pytest.fixture
def registry(redis_url: str, unique_name: str) -> Iterator[StoryRegistry]:
    client = redis.Redis.from_url(redis_url)
    reg = StoryRegistry(client, namespace=unique_name)
    yield reg
    reg.clear()
    assert not list(client.scan_iter(match=f"{unique_name}:*"))
    client.close()


def test_assignment_is_idempotent(registry: StoryRegistry) -> None:
    first = registry.assign(doc_id="a", title="t", body=TEXT)
    again = registry.assign(doc_id="a", title="t", body=TEXT)
    assert first.new_story and not again.new_story
    assert again.story_id == first.story_id
    assert not again.updated and again.duplicate_of is None


def test_reprints_join_the_story_and_government_copy_becomes_canonical(
    registry: StoryRegistry,
) -> None:
    first = registry.assign(
        doc_id="media", title="t", body=TEXT, published_at=datetime(2024, 7, 12)
    )
    reprint = "编者按：本文转载自朝阳报。\n" + "\n".join(PARAGRAPHS[:4]) + "\n责任编辑：李四"
    copy = registry.assign(doc_id="agg", title="另一个标题", body=reprint, source_kind="aggregator")
    gov = registry.assign(
        doc_id="gov",
        title="t",
        body=TEXT.replace("，", ","),
        source_kind="government",
        published_at=datetime(2024, 7, 13),
    )
    assert copy.story_id == gov.story_id == first.story_id
    assert not copy.new_story and copy.duplicate_of == "media"
    assert gov.canonical_doc_id == "gov" and gov.duplicate_of == "media"
    assert registry.assign(doc_id="agg", title="x", body=reprint).canonical_doc_id == "gov"


def test_different_report_of_the_same_event_is_a_new_story(registry: StoryRegistry) -> None:
    first = registry.assign(doc_id="a", title="t", body=TEXT)
    other = registry.assign(doc_id="b", title="t", body=OTHER_REPORT)
    assert other.new_story and other.story_id != first.story_id


def test_changed_content_under_the_same_doc_id_is_an_update(registry: StoryRegistry) -> None:
    first = registry.assign(doc_id="a", title="t", body=TEXT)
    changed = registry.assign(doc_id="a", title="t", body=TEXT + "\n（更正：会议日期为7月11日）")
    assert changed.updated and not changed.new_story
    assert changed.story_id == first.story_id
    assert changed.content_hash != first.content_hash


def test_amended_law_is_a_new_version_not_a_copy(registry: StoryRegistry) -> None:
    articles = "\n".join(
        f"第{i}条 医疗机构应当按照规定开展母婴保健服务并接受卫生行政部门监督。"
        for i in range(1, 40)
    )
    old = "2001年6月20日 国务院令第308号公布\n" + articles
    new = (
        "2001年6月20日 国务院令第308号公布\n根据2023年7月20日《国务院关于修改和废止部分行政法规的决定》第三次修订\n"
        + articles
    )
    first = registry.assign(doc_id="old", title="母婴保健法实施办法", body=old)
    second = registry.assign(doc_id="new", title="母婴保健法实施办法（2023年修订）", body=new)
    assert second.new_story and second.story_id != first.story_id
    assert second.previous_version_of == "old"


def test_older_version_arriving_later_is_superseded(registry: StoryRegistry) -> None:
    articles = "\n".join(
        f"第{i}条 医疗机构应当依法执业，建立健全医疗质量管理制度，保障医疗安全。"
        for i in range(1, 30)
    )
    newer = registry.assign(
        doc_id="v2",
        title="医疗机构管理条例",
        body="根据2022年3月29日国务院令第752号修订\n" + articles,
    )
    older = registry.assign(
        doc_id="v1",
        title="医疗机构管理条例",
        body="根据2016年2月6日国务院令第666号修订\n" + articles,
    )
    assert newer.new_story and older.new_story
    assert older.superseded_by == "v2" and older.previous_version_of is None


def test_story_keeps_only_the_latest_stories_per_bucket(
    registry: StoryRegistry, redis_url: str, unique_name: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    # Short texts are matched by exact fingerprint only: force many stories into one
    # bucket by registering the same long text under amendment dates that keep them apart.
    body = TEXT * 3
    for year in range(2000, 2000 + MAX_BUCKET_STORIES + 5):
        registry.assign(doc_id=f"law-{year}", title="x", body=f"{year}年1月1日修订\n{body}")
    for key in client.scan_iter(match=f"{unique_name}:dedupe:lsh:*"):
        for value in client.hvals(key):
            assert len(value.split(b",")) <= MAX_BUCKET_STORIES
    client.close()


def _round_copy(round_: int, worker: int) -> str:
    # Each round a text of its own (sentences drawn at random from the paragraphs' own
    # characters); in two rounds of three the second worker's copy is a reprint (other
    # furniture, punctuation), so it differs in exact hash and must be found by LSH.
    rng = random.Random(round_)
    characters = sorted(set(TEXT) - set("，。、\n"))
    text = "。".join("".join(rng.choices(characters, k=30)) for _ in range(8)) + "。"
    if worker == 0 or round_ % 3 == 0:
        return text
    return "来源：某网\n" + text.replace("。", ". ") + "\n责任编辑：王五"


def _race(url: str, namespace: str, worker: int, rounds: int, barrier: Any, out: Any) -> None:
    client = redis.Redis.from_url(url)
    registry = StoryRegistry(client, namespace=namespace)
    # Connection and script loaded before the race, so both calls leave together.
    registry.assign(doc_id=f"warm-up-{worker}", title="", body=f"预热{worker}")
    for round_ in range(rounds):
        fp = fingerprint(_round_copy(round_, worker))
        barrier.wait(timeout=30)
        result = registry.assign_fingerprint(
            doc_id=f"round-{round_}-worker-{worker}", title="", fp=fp
        )
        out.put((round_, worker, result.story_id, result.new_story))
    client.close()


def test_two_workers_racing_on_copies_make_one_story_each_round(
    registry: StoryRegistry, redis_url: str, unique_name: str
) -> None:
    # The barrier releases both calls together: under it, a registry that reads and then
    # writes in two steps creates two stories in most rounds (measured: 37 of 40).
    rounds = 40
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_race, args=(redis_url, unique_name, w, rounds, barrier, out))
        for w in range(2)
    ]
    for process in workers:
        process.start()
    results = [out.get(timeout=120) for _ in range(2 * rounds)]
    for process in workers:
        process.join(30)
        assert process.exitcode == 0
    by_round: dict[int, list[tuple[str, bool]]] = {}
    for round_, _worker, story_id, new_story in results:
        by_round.setdefault(round_, []).append((story_id, new_story))
    for round_, pair in sorted(by_round.items()):
        assert pair[0][0] == pair[1][0], f"round {round_}: two stories"
        assert sorted(new for _, new in pair) == [False, True], f"round {round_}"
    client = redis.Redis.from_url(redis_url)
    stories = list(client.scan_iter(match=f"{unique_name}:dedupe:story:*"))
    assert len(stories) == rounds + 2  # one per round and the two warm-up texts
    client.close()
