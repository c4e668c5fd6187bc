"""What every search index implementation offers (and the contract tests check)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from hitwatch.search.query import Node

__all__ = ["SearchDocument", "SearchHit", "SearchIndex", "SearchPage", "SearchRequest"]


@dataclass(frozen=True)
class SearchDocument:
    """The searchable view of one article (the store of record keeps the rest)."""

    doc_id: str
    story_id: str
    url: str
    title: str
    body: str
    source_id: str
    source_name: str
    published_at: datetime | None = None
    doc_type: str = ""
    topics: tuple[str, ...] = ()
    region: str = ""
    relevant: bool = True
    issuer: str = ""  # 发文机关 of a policy document
    doc_number: str = ""  # 发文字号, as written


@dataclass(frozen=True)
class SearchRequest:
    """What to find: `query` (a parsed tree) or else `text`, plus filters and paging.

    `text` is whitespace-separated terms, all required, each matched as a substring of
    title or body; `query`, when set, replaces it (see `hitwatch.search.query`).
    """

    text: str = ""
    query: Node | None = None
    source_ids: tuple[str, ...] = ()
    published_from: datetime | None = None
    published_before: datetime | None = None
    relevant_only: bool = False
    sort: Literal["relevance", "date"] = "relevance"
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    score: float
    document: SearchDocument


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[SearchHit] = field(default_factory=list)


class SearchIndex(Protocol):
    """A full-text index of `SearchDocument`s keyed by `doc_id` (writes are upserts)."""

    def ensure(self) -> None:
        """Create the index if it does not exist; safe to call at every start."""

    def index(self, documents: Sequence[SearchDocument]) -> None:
        """Insert or replace documents; visible to searches after `refresh()`."""

    def delete(self, doc_id: str) -> None:
        """Remove a document; deleting an unknown id is not an error."""

    def search(self, request: SearchRequest) -> SearchPage:
        """Matching documents, newest first for `sort="date"` (undated last)."""

    def count(self, request: SearchRequest) -> int:
        """How many documents match, ignoring offset and limit."""

    def refresh(self) -> None:
        """Make every write so far visible to searches."""

    def drop(self) -> None:
        """Delete the whole index (tests, reindexing)."""

    def close(self) -> None:
        """Release connections."""
