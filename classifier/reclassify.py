"""Classify stored documents again after a taxonomy or model change (`hitwatch reclassify`).

The command sends the ids of stored articles, a batch at a time, to the `classify` queue
(`classifier.reclassify_documents`); a classifier worker reads each article from the
store, classifies its stored title, body and attachments again and, when anything
changed, sends the document to the `index` queue marked `reclassified`: the indexer
replaces the classification in the store, the search index and the story, and the
notifier alerts nobody for it. The run's state lives in Redis: a cursor (the last id
sent), the number sent, and per document counted once (a redelivered batch counts
nothing twice) how its relevance, topics and document type changed. Running the same
command again resumes the run; the run id names the scope and the classifier's data
files, so a further taxonomy change starts a new run.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from classifier.classify import Classification, Classifier
from classifier.entities import DEFAULT_ENTITIES, DEFAULT_REGIONS
from classifier.linear import DEFAULT_MODEL
from classifier.taxonomy import DEFAULT_TAXONOMY
from hitwatch.broker import send_message
from hitwatch.messages import (
    Attachment,
    ClassifiedDocument,
    PolicyMeta,
    ReclassifyBatch,
    TopicScore,
    parse_message,
)
from hitwatch.store import Database
from hitwatch.store.models import Article
from hitwatch.tasks import INDEX_DOCUMENT, RECLASSIFY_DOCUMENTS

__all__ = [
    "COUNTERS",
    "Reclassifier",
    "RunState",
    "classifier_fingerprint",
    "run_id_for",
    "send_batches",
    "wait_for",
]

_PREFIX = "hitwatch:reclassify"
# A finished or abandoned run's state is kept this long, then Redis forgets it.
_STATE_TTL = 30 * 24 * 3600
# How one document changed; "done" counts every document, changed or not.
COUNTERS = ("done", "became_relevant", "became_offtopic", "topics_changed", "doc_type_changed")


def classifier_fingerprint(paths: tuple[Path, ...] = ()) -> str:
    """A short hash of the classifier's data files: a new taxonomy or model means a new run."""
    digest = hashlib.sha256()
    for path in paths or (DEFAULT_TAXONOMY, DEFAULT_ENTITIES, DEFAULT_REGIONS, DEFAULT_MODEL):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def run_id_for(since: datetime | None, fingerprint: str) -> str:
    scope = f"since-{since:%Y-%m-%d}" if since else "all"
    return f"{scope}-{fingerprint}"


@dataclass(frozen=True)
class RunState:
    """The Redis keys of one run and what they hold."""

    client: redis.Redis
    run_id: str

    @property
    def key(self) -> str:
        return f"{_PREFIX}:{self.run_id}"

    @property
    def seen_key(self) -> str:
        return f"{_PREFIX}:{self.run_id}:seen"

    def read(self) -> dict[str, Any]:
        raw = self.client.hgetall(self.key)
        state: dict[str, Any] = {
            (k.decode() if isinstance(k, bytes) else str(k)): (
                v.decode() if isinstance(v, bytes) else str(v)
            )
            for k, v in raw.items()
        }
        for name in (*COUNTERS, "sent", "total"):
            state[name] = int(state.get(name, 0))
        state.setdefault("cursor", "")
        # Articles stored after the run began are in its scope too.
        state["total"] = max(state["total"], state["sent"])
        return state

    def count(self, doc_id: str, changes: dict[str, int]) -> None:
        """Add one document's changes, once however often its batch is delivered."""
        if not self.client.sadd(self.seen_key, doc_id):
            return
        pipe = self.client.pipeline()
        pipe.hincrby(self.key, "done", 1)
        for name, value in changes.items():
            if value:
                pipe.hincrby(self.key, name, value)
        pipe.expire(self.key, _STATE_TTL)
        pipe.expire(self.seen_key, _STATE_TTL)
        pipe.execute()


def _scope(since: datetime | None) -> ColumnElement[bool]:
    if since is None:
        return Article.id.is_not(None)
    if since.tzinfo is None:  # a day given on the command line: UTC
        since = since.replace(tzinfo=UTC)
    return or_(
        Article.published_at >= since,
        and_(Article.published_at.is_(None), Article.fetched_at >= since),
    )


def send_batches(
    database: Database,
    state: RunState,
    celery: Celery,
    *,
    since: datetime | None,
    batch_size: int = 100,
) -> dict[str, Any]:
    """Send every article of the scope not yet sent in this run; the run's state after."""
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Article).where(_scope(since)))
    state.client.hsetnx(state.key, "total", int(total or 0))
    state.client.expire(state.key, _STATE_TTL)
    cursor = state.read()["cursor"]
    while True:
        with database.session() as session:
            ids = list(
                session.scalars(
                    select(Article.id)
                    .where(_scope(since), Article.id > cursor)
                    .order_by(Article.id)
                    .limit(batch_size)
                )
            )
        if not ids:
            break
        send_message(
            celery, RECLASSIFY_DOCUMENTS, ReclassifyBatch(run_id=state.run_id, doc_ids=ids)
        )
        cursor = ids[-1]
        pipe = state.client.pipeline()
        pipe.hset(state.key, "cursor", cursor)
        pipe.hincrby(state.key, "sent", len(ids))
        pipe.execute()
    return state.read()


def wait_for(
    state: RunState, on_progress: Callable[[int], None], *, poll_seconds: float = 0.5
) -> dict[str, Any]:
    """Until every sent document is counted; `on_progress(done)` after each poll."""
    while True:
        current = state.read()
        on_progress(current["done"])
        if current["done"] >= current["sent"]:
            return current
        time.sleep(poll_seconds)


def _changes(article: Article, result: Classification) -> dict[str, int]:
    before_topics = {str(t.get("code")) for t in article.topics or []}
    after_topics = {t.code for t in result.topics}
    return {
        "became_relevant": int(result.relevant and not article.relevant),
        "became_offtopic": int(article.relevant and not result.relevant),
        "topics_changed": int(before_topics != after_topics),
        "doc_type_changed": int(article.doc_type != result.doc_type),
    }


def _document(article: Article, result: Classification) -> ClassifiedDocument:
    return ClassifiedDocument(
        doc_id=article.id,
        url=article.url,
        canonical_url=article.canonical_url,
        source_id=article.source_id,
        source_name=article.source_name,
        source_kind=article.source_kind,
        origin_name=article.origin_name,
        title=article.title,
        published_at=article.published_at,
        author=article.author,
        body=article.body,
        attachments=[Attachment(**a) for a in article.attachments or []],
        policy=result.policy,
        content_hash=article.content_hash,
        story_id=article.story_id,
        relevant=result.relevant,
        relevance=result.relevance,
        topics=[TopicScore(code=t.code, name=t.name, score=t.score) for t in result.topics],
        doc_type=result.doc_type,
        region=result.region,
        entities=result.entities,
        evidence=result.evidence,
        fetched_at=article.fetched_at,
        reclassified=True,
    )


def _stored(article: Article) -> tuple[Any, ...]:
    return (
        article.relevant,
        article.relevance,
        article.topics,
        article.doc_type,
        article.region,
        article.entities,
        article.evidence,
        article.policy,
    )


def _stored_form(document: ClassifiedDocument) -> tuple[Any, ...]:
    """The classification as the store would hold it (JSON types: lists, not tuples)."""
    data = document.model_dump(mode="json")
    return (
        data["relevant"],
        data["relevance"],
        data["topics"],
        data["doc_type"],
        data["region"],
        data["entities"],
        data["evidence"],
        data["policy"],
    )


@dataclass
class Reclassifier:
    """The `classifier.reclassify_documents` task: one batch of stored documents."""

    classifier: Classifier
    database: Database
    client: redis.Redis
    celery: Celery

    def handle(self, payload: dict[str, object]) -> None:
        batch = parse_message(ReclassifyBatch, payload)
        state = RunState(self.client, batch.run_id)
        judged: list[tuple[ClassifiedDocument, dict[str, int]]] = []
        differs: dict[str, bool] = {}
        with self.database.session() as session:
            articles = session.scalars(select(Article).where(Article.id.in_(batch.doc_ids)))
            for article in articles:
                policy = PolicyMeta(**article.policy) if article.policy else None
                result = self.classifier.classify(
                    article.title,
                    article.body,
                    source_kind=article.source_kind,
                    policy=policy,
                    published_at=article.published_at,
                    attachments=[str(a.get("text", "")) for a in article.attachments or []],
                )
                document = _document(article, result)
                judged.append((document, _changes(article, result)))
                differs[article.id] = _stored(article) != _stored_form(document)
        found = set()
        for document, changes in judged:
            found.add(document.doc_id)
            # Sent before counted: a worker dying in between leaves the batch to its
            # redelivery, which sends again (the indexer's update is idempotent).
            if differs[document.doc_id]:
                send_message(self.celery, INDEX_DOCUMENT, document)
            state.count(document.doc_id, changes)
        for missing in set(batch.doc_ids) - found:  # deleted since the batch was sent
            state.count(missing, {})
