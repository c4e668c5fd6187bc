"""One slow page cannot hold the classify queue: past EXTRACTION_TIME_LIMIT it stops as an
ExtractionError (a failure record), and the pipeline goes on with the next page."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from classifier.classify import Classifier
from classifier.dedupe import StoryAssignment
from classifier.worker import ClassifyPipeline
from hitwatch.deadline import deadline
from hitwatch.errors import ExtractionError
from hitwatch.messages import CrawledItem


class _OneStoryEach:
    """Stands in for the Redis story registry: every document is its own new story."""

    def assign(self, *, doc_id: str, **_: Any) -> StoryAssignment:
        return StoryAssignment(story_id=f"s-{doc_id}", content_hash=doc_id, new_story=True)

    def assign_many(self, documents: list[Any]) -> list[StoryAssignment]:
        return [self.assign(doc_id=document.doc_id) for document in documents]


def _item(html: str) -> CrawledItem:
    return CrawledItem(
        item_id="x",
        url="https://example.org/a.html",
        final_url="https://example.org/a.html",
        source_id="bjnews",
        fetched_at=datetime(2024, 7, 1, tzinfo=UTC),
        content_type="text/html; charset=utf-8",
        body_z64=CrawledItem.pack_body(html.encode()),
    )


def test_deadline_interrupts_only_what_overruns() -> None:
    with deadline(0.2, ExtractionError("too slow")):
        time.sleep(0.05)  # well within
    started = time.monotonic()
    with (
        pytest.raises(ExtractionError, match="too slow"),
        deadline(0.2, ExtractionError("too slow")),
    ):
        time.sleep(5)
    assert time.monotonic() - started < 2


def test_a_slow_extraction_becomes_an_error_and_the_next_page_goes_through(monkeypatch) -> None:
    import classifier.worker as worker

    real = worker.extract_page
    pipeline = ClassifyPipeline(Classifier.load(), _OneStoryEach(), {}, time_limit=0.3)  # type: ignore[arg-type]

    def stuck(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(worker, "extract_page", stuck)
    started = time.monotonic()
    with pytest.raises(ExtractionError, match="EXTRACTION_TIME_LIMIT"):
        pipeline.process(_item("<html><body><p>x</p></body></html>"))
    assert time.monotonic() - started < 3
    monkeypatch.setattr(worker, "extract_page", real)
    page = (
        "<html><head><title>电子病历评级</title></head><body><article><p>"
        + "医院电子病历系统应用水平分级评价工作推进。" * 20
        + "</p></article></body></html>"
    )
    assert pipeline.process(_item(page)).title == "电子病历评级"
