"""The index stage on real Redis, PostgreSQL and Elasticsearch with real worker processes:
at-least-once delivery plus idempotent handling gives exactly-once results."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import func, select

from hitwatch.broker import create_celery, send_message
from hitwatch.messages import ClassifiedDocument, stable_id
from hitwatch.search import SearchRequest
from hitwatch.search.elastic import ElasticsearchIndex
from hitwatch.settings import load_settings
from hitwatch.store import Article, Failure, StoryEvent, open_database
from hitwatch.tasks import INDEX_DOCUMENT
from tests.factories import classified_document
from tests.integration.support import wait_for

pytestmark = [
    pytest.mark.requires_redis,
    pytest.mark.requires_postgres,
    pytest.mark.requires_elasticsearch,
]


def _document(n: int) -> ClassifiedDocument:
    url = f"https://www.example.gov.cn/zhengce/content_{n}.htm"
    return classified_document(
        stable_id(url),
        url=url,
        canonical_url=url,
        source_id="gov_cn",
        source_name="中国政府网",
        source_kind="government",
        title=f"关于推进医保信息化建设的通知（第{n}号）",
        published_at=datetime(2024, 7, 1, tzinfo=UTC) + timedelta(hours=n),
        body=f"为推进电子病历系统应用水平分级评价工作，第{n}号文件要求各地卫健委落实DRG付费改革。",
        content_hash=stable_id(f"body-{n}"),
        story_id=stable_id(f"story-{n}"),
        fetched_at=datetime(2024, 7, 2, tzinfo=UTC),
    )


@pytest.fixture
def stack(
    isolated_redis_url, fresh_postgres_url, elasticsearch_url, unique_name, tmp_path, workers
):
    env = {
        "REDIS_URL": isolated_redis_url,
        "DATABASE_URL": fresh_postgres_url,
        "ELASTICSEARCH_URL": elasticsearch_url,
        "ELASTICSEARCH_INDEX": unique_name,
        "HITWATCH_DATA_DIR": str(tmp_path / "data"),
        "BROKER_VISIBILITY_TIMEOUT": "3",
        "TASK_MAX_RETRIES": "1",
        "TASK_RETRY_BACKOFF_MAX": "1",
        # Small batches: the worker is caught between two of them, however fast it is.
        "BATCH_SIZE": "5",
    }
    settings = load_settings(
        redis_url=isolated_redis_url,
        database_url=fresh_postgres_url,
        elasticsearch_url=elasticsearch_url,
        elasticsearch_index=unique_name,
        data_dir=tmp_path / "data",
    )
    database = open_database(fresh_postgres_url)
    database.migrate()
    index = ElasticsearchIndex([elasticsearch_url], unique_name)
    index.ensure()
    yield settings, env, database, index, workers(env)
    index.drop()
    index.close()
    database.dispose()


def _count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_sigkill_in_the_middle_of_a_task_still_indexes_every_item_exactly_once(stack):
    settings, _env, database, index, group = stack
    total = 150
    app = create_celery(settings, "test")
    for n in range(total):
        send_message(app, INDEX_DOCUMENT, _document(n))

    client = redis.Redis.from_url(settings.resolved_redis_url)
    worker = group.start("index")
    in_flight: list[str] = []

    def mid_task() -> bool:
        if not 5 <= _count(database, Article) <= total - 20:
            return False
        unacked = client.hvals("unacked")
        if not unacked:
            return False
        message = json.loads(unacked[0])[0]
        body = json.loads(base64.b64decode(message["body"]))
        in_flight.append(body[0][0]["doc_id"])
        return True

    wait_for(mid_task, 120, "the worker to be in the middle of a task", group.logs)
    group.kill(worker)
    killed_at = _count(database, Article)
    assert client.hlen("unacked") >= 1, "the killed worker's message must still be unacknowledged"

    group.start("index")
    group.start("notify")
    index.refresh()

    def all_done() -> bool:
        index.refresh()
        return (
            _count(database, Article) == total
            and index.count(SearchRequest()) == total
            and _count(database, StoryEvent) == total
            and client.llen("index") == 0
            and client.hlen("unacked") == 0
        )

    wait_for(all_done, 120, f"all {total} documents after the kill at {killed_at}", group.logs)
    page = index.search(SearchRequest(limit=total * 2))
    doc_ids = [hit.doc_id for hit in page.hits]
    assert len(doc_ids) == len(set(doc_ids)) == total
    assert in_flight[-1] in doc_ids
    assert _count(database, Failure) == 0
    with database.session() as session:
        versions = session.scalars(select(Article.version)).all()
    assert set(versions) == {1}, "a redelivered message must not create a new version"


def test_search_backend_down_mid_task_ends_in_a_replayable_failure(stack, unique_name):
    settings, env, database, index, group = stack
    app = create_celery(settings, "test")
    dead = {**env, "ELASTICSEARCH_URL": "http://127.0.0.1:9"}  # nothing listens there
    group.env.update(dead)
    group.start("index")
    send_message(app, INDEX_DOCUMENT, _document(1))

    wait_for(lambda: _count(database, Failure) == 1, 90, "the failure record", group.logs)
    with database.session() as session:
        failure = session.scalars(select(Failure)).one()
        assert failure.task_name == INDEX_DOCUMENT
        assert failure.attempts == 2  # first try + TASK_MAX_RETRIES=1 retry
        assert failure.payload["doc_id"] == _document(1).doc_id
        failure_id = failure.id

    group.stop_all()
    group.env.update(env)
    group.start("index")
    from click.testing import CliRunner

    from hitwatch.cli import main

    runner = CliRunner(env={k: v for k, v in env.items()})
    listed = runner.invoke(main, ["failures", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"#{failure_id}" in listed.output
    assert "SearchBackendError" in listed.output or "ConnectionError" in listed.output
    replayed = runner.invoke(main, ["failures", "replay", str(failure_id)])
    assert replayed.exit_code == 0, replayed.output
    assert "1 failure(s) sent back" in replayed.output

    def indexed() -> bool:
        index.refresh()
        return index.count(SearchRequest(text="医保信息化")) == 1

    wait_for(indexed, 60, "the replayed document in the index", group.logs)
    assert runner.invoke(main, ["failures", "list"]).output.startswith("no failures")
