"""A crawled page travels classify -> index -> notify through real Redis queues and real
worker processes, into the store and the search index; bad input ends in a failure record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hitwatch.broker import create_celery, send_message
from hitwatch.messages import CrawledItem, stable_id
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import load_settings
from hitwatch.store import Article, Failure, Story, StoryEvent, open_database
from hitwatch.tasks import CLASSIFY_ITEM
from tests.integration.support import wait_for

NEWS_BODY = """
<p>中新网北京7月11日电（记者 李纯）国家卫生健康委11日召开新闻发布会，介绍推进电子病历系统应用水平分级评价工作的进展。</p>
<p>发布会上介绍，截至目前，全国三级公立医院电子病历系统应用水平平均达到4级，部分医院达到6级以上。下一步将加快医院信息互联互通，推动检查检验结果互认。</p>
<p>国家卫生健康委相关负责人表示，将以电子病历为核心推进智慧医院建设，提升医疗服务效率和患者就医体验，并加强医疗数据安全和患者隐私保护。</p>
<p>（完）</p>
"""


def _news_page(furniture: str) -> bytes:
    return (
        "<html><head><meta charset='utf-8'><title>国家卫健委：三级公立医院电子病历应用水平平均达4级</title></head>"
        f"<body><div class='nav'>{furniture}</div>"
        "<h1>国家卫健委：三级公立医院电子病历应用水平平均达4级</h1>"
        "<div class='info'>2024-07-11 15:20 来源：中新网</div>"
        f"<div class='content'>{NEWS_BODY}</div>"
        "<div class='footer'>责任编辑：王一</div></body></html>"
    ).encode()


POLICY_PAGE = """
<html><head><meta charset='utf-8'><title>国家医保局关于加快推进医保信息化建设的通知</title></head><body>
<h1>国家医保局关于加快推进医保信息化建设的通知</h1>
<div class='info'>发布时间：2024-07-05</div>
<div class='content'>
<p>各省、自治区、直辖市医疗保障局：</p>
<p>为深化医保支付方式改革，全面推进DRG付费和按病种分值付费，现就加快医保信息化建设有关事项通知如下。</p>
<p>一、统一医保信息业务编码标准，完善全国统一的医保信息平台，实现跨省异地就医直接结算。</p>
<p>二、加强医保基金监管，运用大数据开展智能审核和监控，保障基金安全。</p>
<p>国家医疗保障局</p><p>2024年7月5日</p>
</div></body></html>
""".encode()


def _item(url: str, raw: bytes, source_id: str) -> CrawledItem:
    return CrawledItem(
        item_id=stable_id(url),
        url=url,
        final_url=url,
        source_id=source_id,
        fetched_at=datetime(2024, 7, 12, tzinfo=UTC),
        content_type="text/html; charset=utf-8",
        body_z64=CrawledItem.pack_body(raw),
    )


@pytest.fixture(params=["embedded", "production"])
def stack(request, isolated_redis_url, tmp_path, workers, unique_name):
    env = {
        "REDIS_URL": isolated_redis_url,
        "HITWATCH_DATA_DIR": str(tmp_path / "data"),
        "BROKER_VISIBILITY_TIMEOUT": "5",
        "TASK_MAX_RETRIES": "1",
        "TASK_RETRY_BACKOFF_MAX": "1",
        "DATABASE_URL": "",
        "ELASTICSEARCH_URL": "",
    }
    if request.param == "production":
        env["DATABASE_URL"] = request.getfixturevalue("fresh_postgres_url")
        env["ELASTICSEARCH_URL"] = request.getfixturevalue("elasticsearch_url")
        env["ELASTICSEARCH_INDEX"] = unique_name
    settings = load_settings(
        redis_url=env["REDIS_URL"],
        data_dir=tmp_path / "data",
        database_url=env["DATABASE_URL"],
        elasticsearch_url=env["ELASTICSEARCH_URL"],
        elasticsearch_index=unique_name,
    )
    database = open_database(settings.resolved_database_url)
    database.migrate()
    index = open_search_index(settings)
    index.ensure()
    group = workers(env)
    for queue in ("classify", "index", "notify"):
        group.start(queue)
    yield settings, database, index, group
    if settings.elasticsearch_url:
        index.drop()
    index.close()
    database.dispose()


def _rows(database, model):
    with database.session() as session:
        return session.scalars(select(model)).all()


def test_pages_become_stored_searchable_stories(stack):
    settings, database, index, group = stack
    app = create_celery(settings, "test-crawler")
    original = "https://www.chinanews.com.cn/sh/2024/07-11/10249871.shtml"
    reprint = "https://www.163.com/dy/article/J6TQ2K9D0514R9P4.html"
    policy = "https://www.nhsa.gov.cn/art/2024/7/5/art_104_13001.html"
    send_message(app, CLASSIFY_ITEM, _item(original, _news_page("首页 | 社会 | 健康"), "chinanews"))
    send_message(
        app, CLASSIFY_ITEM, _item(reprint, _news_page("网易首页 | 网易号 | 登录 分享到"), "netease")
    )
    send_message(app, CLASSIFY_ITEM, _item(policy, POLICY_PAGE, "nhsa"))
    # A redelivered message must change nothing.
    send_message(app, CLASSIFY_ITEM, _item(policy, POLICY_PAGE, "nhsa"))

    wait_for(lambda: len(_rows(database, StoryEvent)) == 3, 120, "3 indexed documents", group.logs)
    articles = {a.url: a for a in _rows(database, Article)}
    assert set(articles) == {original, reprint, policy}
    assert articles[original].story_id == articles[reprint].story_id, "a reprint joins the story"
    assert articles[policy].story_id != articles[original].story_id
    assert "电子病历系统应用水平分级评价" in articles[original].body
    assert "责任编辑" not in articles[original].body
    assert articles[policy].relevant and articles[original].relevant
    assert {s.doc_count for s in _rows(database, Story)} == {1, 2}
    assert _rows(database, Failure) == []

    index.refresh()
    assert index.count(SearchRequest(text="电子病历")) == 2
    assert index.count(SearchRequest(text="DRG付费")) == 1
    assert index.count(SearchRequest(text="医保 信息化")) == 1
    assert index.count(SearchRequest(text="电子病历", source_ids=("nhsa",))) == 0


def test_bad_input_ends_in_a_visible_replayable_failure(stack):
    settings, database, _index, group = stack
    app = create_celery(settings, "test-crawler")
    binary = "https://www.nhc.gov.cn/wjw/c100175/202407/0123456789abcdef0123456789abcdef.shtml"
    send_message(app, CLASSIFY_ITEM, _item(binary, bytes(range(256)) * 40, "nhc"))
    app.send_task(CLASSIFY_ITEM, args=[{"schema": "crawled_item/0", "url": "x"}], queue="classify")

    wait_for(lambda: len(_rows(database, Failure)) == 2, 90, "two failure records", group.logs)
    failures = {f.error_type: f for f in _rows(database, Failure)}
    assert set(failures) == {"ExtractionError", "SchemaError"}
    assert failures["ExtractionError"].item_key == binary
    assert failures["ExtractionError"].payload["body_z64"], "the payload is kept for replay"
    assert "crawled_item/0" in failures["SchemaError"].error_message
