"""`hitwatch reclassify` over a SQLite store, a fake Redis and a fake queue: batches go out
once, each document is counted once however often its batch arrives, the store keeps the
text and its version and takes the new classification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from classifier.classify import Classifier
from classifier.reclassify import Reclassifier, RunState, run_id_for, send_batches
from hitwatch.messages import ClassifiedDocument, ReclassifyBatch, TopicScore
from hitwatch.store.models import Article, Story
from hitwatch.tasks import INDEX_DOCUMENT, RECLASSIFY_DOCUMENTS
from indexer.store import save_document


class FakeRedis:
    """The hash, set and pipeline commands a run's state uses."""

    def __init__(self) -> None:
        self.hashes: dict[str, dict[str, str]] = {}
        self.sets: dict[str, set[str]] = {}

    def hgetall(self, key: str) -> dict[str, str]:
        return dict(self.hashes.get(key, {}))

    def hsetnx(self, key: str, name: str, value: object) -> int:
        fields = self.hashes.setdefault(key, {})
        if name in fields:
            return 0
        fields[name] = str(value)
        return 1

    def hset(self, key: str, name: str, value: object) -> None:
        self.hashes.setdefault(key, {})[name] = str(value)

    def hincrby(self, key: str, name: str, amount: int) -> None:
        fields = self.hashes.setdefault(key, {})
        fields[name] = str(int(fields.get(name, "0")) + amount)

    def sadd(self, key: str, member: str) -> int:
        members = self.sets.setdefault(key, set())
        if member in members:
            return 0
        members.add(member)
        return 1

    def expire(self, key: str, seconds: int) -> None:
        pass

    def pipeline(self) -> FakeRedis:
        return self

    def execute(self) -> None:
        pass


class FakeCelery:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send_task(self, name: str, args: list[dict[str, Any]], queue: str, **options: Any) -> None:
        self.sent.append((name, args[0]))

    def take(self, name: str) -> list[dict[str, Any]]:
        taken = [payload for task, payload in self.sent if task == name]
        self.sent = [(task, payload) for task, payload in self.sent if task != name]
        return taken


SHORT_NOTICE = (
    "国卫办医函〔2018〕1079号\\n各省、自治区、直辖市卫生健康委：\\n"
    "现将《电子病历系统应用水平分级评价管理办法（试行）》印发给你们，请认真贯彻执行。"
)
NURSING = "各地要合理配置护士人力，落实责任制整体护理，加强护理质量管理和护士培训。" * 3


def _stored(doc_id: str, title: str, body: str, *, relevant: bool, kind: str) -> ClassifiedDocument:
    return ClassifiedDocument(
        doc_id=doc_id,
        url=f"https://example.gov.cn/{doc_id}.html",
        canonical_url=f"https://example.gov.cn/{doc_id}.html",
        source_id="nhc",
        source_name="国家卫生健康委",
        source_kind=kind,
        title=title,
        published_at=datetime(2024, 7, 1, tzinfo=UTC),
        body=body,
        content_hash=f"h-{doc_id}",
        story_id=f"s-{doc_id}",
        relevant=relevant,
        relevance=0.9 if relevant else 0.1,
        topics=[TopicScore(code="N", name="政策法规与标准", score=1.0)],
        doc_type="政策文件",
        fetched_at=datetime(2024, 7, 1, tzinfo=UTC),
    )


@pytest.fixture
def clf() -> Classifier:
    return Classifier.load()


def test_a_run_reclassifies_counts_once_and_resumes(database, clf: Classifier) -> None:
    docs = [
        # Judged off-topic by an older classifier: a health-IT notice.
        _stored(
            "a1",
            "关于印发电子病历系统应用水平分级评价管理办法的通知",
            SHORT_NOTICE,
            relevant=False,
            kind="government",
        ),
        # Judged relevant by an older classifier: nursing without IT.
        _stored("a2", "护理工作再加强", NURSING, relevant=True, kind="media"),
        _stored("a3", "护理工作再加强（续）", NURSING, relevant=True, kind="media"),
    ]
    with database.session() as session:
        for doc in docs:
            save_document(session, doc)
    client, celery = FakeRedis(), FakeCelery()
    state = RunState(client, run_id_for(None, "test"))  # type: ignore[arg-type]

    sent = send_batches(database, state, celery, since=None, batch_size=2)  # type: ignore[arg-type]
    assert (sent["sent"], sent["total"], sent["cursor"]) == (3, 3, "a3")
    batches = celery.take(RECLASSIFY_DOCUMENTS)
    assert [ReclassifyBatch.model_validate(b).doc_ids for b in batches] == [["a1", "a2"], ["a3"]]

    worker = Reclassifier(clf, database, client, celery)  # type: ignore[arg-type]
    for batch in batches:
        worker.handle(batch)
    worker.handle(batches[0])  # redelivered: counted nothing twice
    final = state.read()
    assert final["done"] == 3
    assert (final["became_relevant"], final["became_offtopic"]) == (1, 2)

    updates = [ClassifiedDocument.model_validate(p) for p in celery.take(INDEX_DOCUMENT)]
    assert updates and all(u.reclassified for u in updates)
    with database.session() as session:
        for update in updates:
            outcome = save_document(session, update)
            assert not outcome.new_story and not outcome.updated and outcome.version == 1
    with database.session() as session:
        articles = {a.id: a for a in session.scalars(select(Article))}
        assert articles["a1"].relevant and not articles["a2"].relevant
        assert articles["a1"].body == SHORT_NOTICE and articles["a1"].version == 1
        assert "relevance" in articles["a1"].evidence
        assert session.get(Story, "s-a1").relevant is True
        assert session.get(Story, "s-a2").relevant is False

    # The same command again: nothing left to send; a second pass changes nothing more.
    again = send_batches(database, state, celery, since=None, batch_size=2)  # type: ignore[arg-type]
    assert again["sent"] == 3 and celery.take(RECLASSIFY_DOCUMENTS) == []
    second = RunState(client, run_id_for(None, "test2"))  # type: ignore[arg-type]
    send_batches(database, second, celery, since=None, batch_size=10)  # type: ignore[arg-type]
    for batch in celery.take(RECLASSIFY_DOCUMENTS):
        worker.handle(batch)
    assert celery.take(INDEX_DOCUMENT) == []  # stored classification is current: not re-sent
    assert second.read()["done"] == 3 and second.read()["became_relevant"] == 0


def test_since_limits_the_run_to_recent_documents(database) -> None:
    old = _stored("b1", "旧文", NURSING, relevant=True, kind="media").model_copy(
        update={"published_at": datetime(2023, 1, 1, tzinfo=UTC)}
    )
    new = _stored("b2", "新文", NURSING, relevant=True, kind="media")
    with database.session() as session:
        save_document(session, old)
        save_document(session, new)
    client, celery = FakeRedis(), FakeCelery()
    since = datetime(2024, 1, 1)
    state = RunState(client, run_id_for(since, "x"))  # type: ignore[arg-type]
    assert state.run_id == "since-2024-01-01-x"
    sent = send_batches(database, state, celery, since=since)  # type: ignore[arg-type]
    assert sent["sent"] == 1
    (batch,) = celery.take(RECLASSIFY_DOCUMENTS)
    assert batch["doc_ids"] == ["b2"]
