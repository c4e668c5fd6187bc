"""Builders shared by every test tier: messages, searchable documents and stored articles.

Defaults are a plausible news item; each builder takes any field by keyword. Nothing here
talks to a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from hitwatch.messages import ClassifiedDocument, PolicyMeta, TopicScore
from hitwatch.search import SearchDocument
from hitwatch.topics import topic_names

__all__ = [
    "FETCHED_AT",
    "FakeCelery",
    "Outbox",
    "classified_document",
    "search_document",
    "topic_scores",
]

FETCHED_AT = datetime(2024, 7, 31, tzinfo=UTC)


def topic_scores(*codes: str) -> list[TopicScore]:
    """Topics by code, with their names from the taxonomy (as the classifier gives them)."""
    names = topic_names()
    return [TopicScore(code=code, name=names.get(code, code), score=0.9) for code in codes]


def classified_document(doc_id: str = "d1", **fields: Any) -> ClassifiedDocument:
    """A `classified_document/1` message; `topics` may be codes, `policy` a dict."""
    if fields.get("topics") and isinstance(fields["topics"][0], str):
        fields["topics"] = topic_scores(*fields["topics"])
    if isinstance(fields.get("policy"), dict):
        fields["policy"] = PolicyMeta(**fields["policy"])
    values: dict[str, Any] = {
        "doc_id": doc_id,
        "url": f"https://example.org/news/{doc_id}.html",
        "canonical_url": f"https://example.org/news/{doc_id}.html",
        "source_id": "bjnews",
        "source_name": "新京报",
        "title": "某市推进区域全民健康信息平台建设",
        "body": "某市卫生健康委表示，区域全民健康信息平台建设进展顺利。",
        "content_hash": f"hash-{doc_id}",
        "story_id": f"s-{doc_id}",
        "fetched_at": FETCHED_AT,
        **fields,
    }
    return ClassifiedDocument(**values)


def search_document(doc_id: str = "d1", **fields: Any) -> SearchDocument:
    """A searchable document as the indexer would make it."""
    values: dict[str, Any] = {
        "story_id": f"s-{doc_id}",
        "url": f"https://example.org/news/{doc_id}.html",
        "title": "",
        "body": "",
        "source_id": "nhc",
        "source_name": "国家卫生健康委员会",
        **fields,
    }
    return SearchDocument(doc_id=doc_id, **values)


@dataclass
class Outbox:
    """A mail transport that keeps what it is given; `error` makes sending fail."""

    sent: list[EmailMessage] = field(default_factory=list)
    error: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(message)


@dataclass
class FakeCelery:
    """Records sent tasks; `error` makes sending fail like an unreachable broker."""

    sent: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    error: Exception | None = None

    def send_task(self, name: str, args: Any = None, **options: Any) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((name, args, options))
