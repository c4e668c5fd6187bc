"""The `classifier.classify_item` task: extract, classify and dedupe a crawled page; and
`classifier.reclassify_documents`: classify stored documents again (`hitwatch reclassify`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import redis

from classifier.classify import Classification, Classifier
from classifier.dedupe import PendingDocument, StoryAssignment, StoryRegistry, fingerprint
from classifier.extraction import Extraction, attach_documents, extract_page
from classifier.reclassify import Reclassifier
from classifier.terms import nfkc
from classifier.urls import canonical_url
from hitwatch.batches import BatchWorker, each, parse_batch
from hitwatch.broker import create_celery, send_messages
from hitwatch.deadline import deadline
from hitwatch.errors import ExtractionError
from hitwatch.messages import (
    Attachment,
    ClassifiedDocument,
    CrawledItem,
    parse_message,
    stable_id,
)
from hitwatch.settings import Settings
from hitwatch.sources import SourceDefinition, configured_sources
from hitwatch.store import open_database
from hitwatch.store.failures import open_failure_log
from hitwatch.tasks import CLASSIFY_ITEM, INDEX_DOCUMENT, RECLASSIFY_DOCUMENTS

__all__ = ["ClassifyPipeline", "create_worker"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Judged:
    """A page extracted and classified, its story still to be found."""

    item: CrawledItem
    page: Extraction
    url: str
    canonical: str
    kind: str
    attachments: list[Attachment]
    result: Classification
    pending: PendingDocument


@dataclass
class ClassifyPipeline:
    classifier: Classifier
    stories: StoryRegistry
    sources: dict[str, SourceDefinition]
    max_page_bytes: int | None = None  # larger pages are refused, whoever sent them
    time_limit: float = 0.0  # seconds an extraction may take (0: no limit)

    def process(self, item: CrawledItem) -> ClassifiedDocument:
        """Pure of queues: one crawled page in, one classified document out."""
        judged = self._judge_page(item)
        [story] = self.stories.assign_many([judged.pending])
        return _document(judged, story)

    def process_batch(
        self, items: Sequence[CrawledItem]
    ) -> list[ClassifiedDocument | BaseException]:
        """`process` for many pages with one dedupe round trip for all; a page that cannot
        be extracted or classified is its error, the others go on."""
        judged: list[_Judged | BaseException] = []
        for item in items:
            try:
                judged.append(self._judge_page(item))
            except Exception as exc:
                judged.append(exc)
        ready = [j for j in judged if isinstance(j, _Judged)]
        # In order and each atomically, so copies within the batch join each other.
        stories = iter(self.stories.assign_many([j.pending for j in ready]))
        return [j if isinstance(j, BaseException) else _document(j, next(stories)) for j in judged]

    def _judge_page(self, item: CrawledItem) -> _Judged:
        source = self.sources.get(item.source_id)
        url = item.hints.get("original_url") or item.final_url or item.url
        too_slow = ExtractionError(
            f"extraction took longer than EXTRACTION_TIME_LIMIT ({self.time_limit:g} s)"
        )
        with deadline(self.time_limit, too_slow):
            page = extract_page(
                item.body_bytes(self.max_page_bytes),
                url,
                content_type=item.content_type,
                hints=item.hints,
                source=source,
            )
            attachments, problems = attach_documents(page.attachments, item.attachments)
        for problem in problems:
            _log.warning("attachment of %s not read: %s", url, problem)
        # A WeChat page names its long link, whichever form the bridge gave: one doc_id.
        canonical = canonical_url(page.canonical_url or url)
        doc_id = stable_id(canonical)
        kind = source.kind if source else "media"
        title, body = nfkc(page.title), nfkc(page.body)
        result = self.classifier.classify(
            title,
            body,
            source_kind=kind,
            policy=page.policy,
            published_at=page.published_at,
            attachments=[attachment.text for attachment in attachments if attachment.text],
        )
        pending = PendingDocument(
            doc_id=doc_id,
            title=title,
            fp=fingerprint(body),
            source_kind=kind,
            published_at=page.published_at,
        )
        return _Judged(item, page, url, canonical, kind, attachments, result, pending)


def _document(judged: _Judged, story: StoryAssignment) -> ClassifiedDocument:
    page, result = judged.page, judged.result
    return ClassifiedDocument(
        doc_id=judged.pending.doc_id,
        url=judged.url,
        canonical_url=judged.canonical,
        source_id=judged.item.source_id,
        source_name=page.source_name,
        source_kind=judged.kind,
        origin_name=page.origin_name,
        title=page.title,
        published_at=page.published_at,
        author=page.author,
        body=page.body,
        attachments=judged.attachments,
        policy=result.policy,
        content_hash=story.content_hash,
        story_id=story.story_id,
        relevant=result.relevant,
        relevance=result.relevance,
        topics=result.topics,
        doc_type=result.doc_type,
        region=result.region,
        entities=result.entities,
        evidence=result.evidence,
        fetched_at=judged.item.fetched_at,
    )


def create_worker(settings: Settings) -> BatchWorker:
    app = create_celery(settings, "classifier")
    pipeline = ClassifyPipeline(
        classifier=Classifier.load(),
        stories=StoryRegistry(
            redis.Redis.from_url(settings.resolved_redis_url),
            window_days=settings.dedupe_window_days,
        ),
        sources={source.id: source for source in configured_sources(settings)},
        max_page_bytes=settings.max_page_bytes,
        time_limit=settings.extraction_time_limit,
    )

    def handle(payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        results, items = parse_batch(partial(parse_message, CrawledItem), payloads)
        documents = pipeline.process_batch([item for _, item in items])
        ready: list[tuple[int, ClassifiedDocument]] = []
        for (position, _), document in zip(items, documents, strict=True):
            if isinstance(document, BaseException):
                results[position] = document
            else:
                ready.append((position, document))
        sent = send_messages(app, INDEX_DOCUMENT, [document for _, document in ready])
        for (position, _), outcome in zip(ready, sent, strict=True):
            results[position] = outcome  # a broker error: retried
        return results

    database = open_database(settings.resolved_database_url)
    client = redis.Redis.from_url(settings.resolved_redis_url)
    failures = open_failure_log(settings, database)
    reclassifier = Reclassifier(pipeline.classifier, database, client, app)
    worker = BatchWorker(app, "classify", failures, settings)
    worker.handle(CLASSIFY_ITEM, handle)
    worker.handle(RECLASSIFY_DOCUMENTS, each(reclassifier.handle))
    return worker
