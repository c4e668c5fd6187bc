"""Two indexers creating one story at once, on a real PostgreSQL: the batch whose insert
comes second runs again and joins the story the first one committed (before, the whole
batch failed and ran item by item, 50 transactions instead of one)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from hitwatch.broker import create_celery
from hitwatch.messages import stable_id
from hitwatch.search import open_search_index
from hitwatch.settings import load_settings
from hitwatch.store import Article, Story, open_database
from indexer.worker import Indexer
from tests.factories import classified_document

pytestmark = [pytest.mark.requires_postgres, pytest.mark.requires_redis]


def test_a_story_another_indexer_commits_first_is_joined_not_failed(
    fresh_postgres_url: str, isolated_redis_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path, database_url=fresh_postgres_url, redis_url=isolated_redis_url
    )
    database = open_database(fresh_postgres_url)
    database.migrate()
    story_id = stable_id("one-story")
    docs = [
        classified_document(
            stable_id(f"https://news.example.cn/{n}.html"),
            url=f"https://news.example.cn/{n}.html",
            title="国家医保局推进医保信息平台建设",
            story_id=story_id,
            published_at=datetime(2024, 7, 1, n, tzinfo=UTC),
        ).to_payload()
        for n in range(3)
    ]
    other = open_database(fresh_postgres_url)
    raced: list[int] = []

    def the_other_indexer_commits_first(session: Session, context: Any, instances: Any) -> None:
        if raced or not any(isinstance(o, Story) for o in session.new):
            return
        raced.append(1)
        with other.session() as theirs:  # its own connection and transaction, committed
            theirs.add(
                Story(
                    id=story_id,
                    canonical_doc_id=stable_id("https://other.example.cn/0.html"),
                    title="另一份",
                    source_name="新京报",
                )
            )

    event.listen(Session, "before_flush", the_other_indexer_commits_first)
    indexer = Indexer(database, open_search_index(settings), create_celery(settings, "test"))
    try:
        results = indexer.handle_batch(docs)
    finally:
        event.remove(Session, "before_flush", the_other_indexer_commits_first)
        indexer.search.close()
        other.dispose()
    try:
        assert raced == [1]
        assert results == [None, None, None]
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Article)) == 3
            story = session.get(Story, story_id)
            assert story is not None and story.doc_count == 3
    finally:
        database.dispose()
