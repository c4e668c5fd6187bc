"""The `indexer.index_document` task: store, index, announce. Safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery

from hitwatch.broker import create_celery, register_task, send_message
from hitwatch.messages import ClassifiedDocument, StoryIndexed, parse_message
from hitwatch.search import SearchIndex, open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database, open_database
from hitwatch.store.failures import open_failure_log
from hitwatch.tasks import HANDLE_STORY_INDEXED, INDEX_DOCUMENT
from indexer.policies import policy_search_documents
from indexer.store import save_document

__all__ = ["Indexer", "create_worker"]


@dataclass
class Indexer:
    database: Database
    search: SearchIndex
    celery: Celery
    index_ready: bool = False

    def handle(self, payload: dict[str, object]) -> None:
        doc = parse_message(ClassifiedDocument, payload)
        if not self.index_ready:
            # Here rather than at start: a worker must come up, and retry, while the
            # search cluster is still starting or briefly away.
            self.search.ensure()
            self.index_ready = True
        with self.database.session() as session:
            outcome = save_document(session, doc)
            documents = policy_search_documents(session, doc)
        # Index and announce even when the store had the row already: a worker killed
        # between these steps is mended by the redelivery; the notifier ignores repeats.
        self.search.index(documents)
        send_message(
            self.celery,
            HANDLE_STORY_INDEXED,
            StoryIndexed(
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
            ),
        )


def create_worker(settings: Settings) -> Celery:
    app = create_celery(settings, "indexer")
    database = open_database(settings.resolved_database_url)
    indexer = Indexer(database, open_search_index(settings), app)
    failures = open_failure_log(settings, database)
    failures.drain_pending()
    register_task(app, INDEX_DOCUMENT, indexer.handle, failures, settings)
    return app
