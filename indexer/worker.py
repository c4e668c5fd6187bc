"""The `indexer.index_document` task, in batches: store, index, announce. Safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy.exc
from celery import Celery

from hitwatch.batches import BatchWorker, parse_batch
from hitwatch.broker import create_celery, send_messages
from hitwatch.messages import ClassifiedDocument, StoryIndexed, parse_message
from hitwatch.search import SearchDocument, SearchIndex, open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database, open_database
from hitwatch.store.failures import open_failure_log
from hitwatch.tasks import HANDLE_STORY_INDEXED, INDEX_DOCUMENT
from indexer.policies import policy_search_documents
from indexer.store import StoreOutcome, save_documents

__all__ = ["Indexer", "create_worker"]

log = logging.getLogger(__name__)

# A batch whose insert met another indexer's new row runs again this many times in all.
STORE_ATTEMPTS = 3


@dataclass
class Indexer:
    database: Database
    search: SearchIndex
    celery: Celery
    index_ready: bool = False

    def handle(self, payload: dict[str, object]) -> None:
        """One document (a batch of one); its error raised."""
        [error] = self.handle_batch([payload])
        if error is not None:
            raise error

    def handle_batch(self, payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        """Store a batch in one transaction, index it in one bulk request, announce each.

        An error of the whole batch is raised (the worker runs its items one by one when
        it is not transient); a message that is no document fails alone.
        """
        results, docs = parse_batch(partial(parse_message, ClassifiedDocument), payloads)
        if not docs:
            return results
        if not self.index_ready:
            # Here rather than at start: a worker must come up, and retry, while the
            # search cluster is still starting or briefly away.
            self.search.ensure()
            self.index_ready = True
        outcomes, documents = self._store([doc for _, doc in docs])
        # Index and announce even when the store had the rows already: a worker killed
        # between these steps is mended by the redelivery; the notifier ignores repeats.
        self.search.index(documents)
        announcements = [
            _indexed(doc, outcome) for (_, doc), outcome in zip(docs, outcomes, strict=True)
        ]
        sent = send_messages(self.celery, HANDLE_STORY_INDEXED, announcements)
        for (position, _), error in zip(docs, sent, strict=True):
            results[position] = error  # a broker error: retried, the redelivery re-indexes
        return results

    def _store(
        self, docs: list[ClassifiedDocument]
    ) -> tuple[list[StoreOutcome], list[SearchDocument]]:
        """One transaction for the batch, and each document's search view with the
        documents whose policy side it changed.

        Indexers running side by side may both create a story (two copies of one text in
        two batches): the second transaction's insert then conflicts. The batch runs
        again at once, and finds the story the other one committed."""
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                with self.database.session() as session:
                    outcomes = save_documents(session, docs)
                    documents = policy_search_documents(session, docs)
                return outcomes, documents
            except sqlalchemy.exc.IntegrityError as error:
                if attempt == STORE_ATTEMPTS:
                    raise
                log.info("index: batch met another indexer's rows (%s); again", error.orig)
        raise AssertionError("unreachable")


def _indexed(doc: ClassifiedDocument, outcome: StoreOutcome) -> StoryIndexed:
    return StoryIndexed(
        doc_id=doc.doc_id,
        story_id=doc.story_id,
        version=outcome.version,
        new_story=outcome.new_story,
        updated=outcome.updated,
        title=doc.title,
        source_name=doc.source_name,
        published_at=doc.published_at,
        relevant=doc.relevant,
        topics=[t.code for t in doc.topics],
        doc_type=doc.doc_type,
        reclassified=doc.reclassified,
    )


def create_worker(settings: Settings) -> BatchWorker:
    app = create_celery(settings, "indexer")
    database = open_database(settings.resolved_database_url)
    indexer = Indexer(database, open_search_index(settings), app)
    failures = open_failure_log(settings, database)
    failures.drain_pending()
    worker = BatchWorker(app, "index", failures, settings)
    worker.handle(INDEX_DOCUMENT, indexer.handle_batch)
    return worker
