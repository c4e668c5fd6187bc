"""The `classifier.classify_item` task: extract, classify and dedupe a crawled page; and
`classifier.reclassify_documents`: classify stored documents again (`hitwatch reclassify`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import redis
from celery import Celery

from classifier.classify import Classification, Classifier
from classifier.dedupe import StoryAssignment, StoryRegistry
from classifier.extraction import attach_documents, extract_page
from classifier.reclassify import Reclassifier
from classifier.terms import nfkc
from classifier.urls import canonical_url
from hitwatch.broker import create_celery, register_task, send_message
from hitwatch.deadline import deadline
from hitwatch.errors import ExtractionError
from hitwatch.messages import (
    ClassifiedDocument,
    CrawledItem,
    PolicyMeta,
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


@dataclass
class ClassifyPipeline:
    classifier: Classifier
    stories: StoryRegistry
    sources: dict[str, SourceDefinition]
    max_page_bytes: int | None = None  # larger pages are refused, whoever sent them
    time_limit: float = 0.0  # seconds an extraction may take (0: no limit)

    def process(self, item: CrawledItem) -> ClassifiedDocument:
        """Pure of queues: one crawled page in, one classified document out."""
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
        result, story = self.judge(
            doc_id,
            page.title,
            page.body,
            source_kind=kind,
            policy=page.policy,
            published_at=page.published_at,
            attachments=[attachment.text for attachment in attachments if attachment.text],
        )
        return ClassifiedDocument(
            doc_id=doc_id,
            url=url,
            canonical_url=canonical,
            source_id=item.source_id,
            source_name=page.source_name,
            source_kind=kind,
            origin_name=page.origin_name,
            title=page.title,
            published_at=page.published_at,
            author=page.author,
            body=page.body,
            attachments=attachments,
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
            fetched_at=item.fetched_at,
        )

    def judge(
        self,
        doc_id: str,
        title: str,
        body: str,
        *,
        source_kind: str = "media",
        policy: PolicyMeta | None = None,
        published_at: datetime | None = None,
        attachments: Sequence[str] = (),
    ) -> tuple[Classification, StoryAssignment]:
        """Classification and story of one article, its text normalised once for both.

        The attachments' text counts for the classification when the page body is short
        (a notice that forwards its document as a file); the story is the page's text.
        """
        title, body = nfkc(title), nfkc(body)
        result = self.classifier.classify(
            title,
            body,
            source_kind=source_kind,
            policy=policy,
            published_at=published_at,
            attachments=attachments,
        )
        story = self.stories.assign(
            doc_id=doc_id,
            title=title,
            body=body,
            source_kind=source_kind,
            published_at=published_at,
        )
        return result, story


def create_worker(settings: Settings) -> Celery:
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

    def handle(payload: dict[str, object]) -> None:
        document = pipeline.process(parse_message(CrawledItem, payload))
        send_message(app, INDEX_DOCUMENT, document)

    database = open_database(settings.resolved_database_url)
    client = redis.Redis.from_url(settings.resolved_redis_url)
    failures = open_failure_log(settings, database)
    reclassifier = Reclassifier(pipeline.classifier, database, client, app)
    register_task(app, CLASSIFY_ITEM, handle, failures, settings)
    register_task(app, RECLASSIFY_DOCUMENTS, reclassifier.handle, failures, settings)
    return app
