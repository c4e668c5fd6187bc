"""What every search index implementation offers (and the contract tests check)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, get_args

from hitwatch.search.query import Node

__all__ = [
    "FACET_FIELDS",
    "FACET_SAMPLE",
    "FACET_SIZE",
    "TOTAL_CAP",
    "FacetCounts",
    "FacetField",
    "IndexBuild",
    "SearchDocument",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "SearchRequest",
    "order_facet",
    "region_parts",
]

# A region is a province's official name, then a city's (广东省深圳市, as the classifier
# records it); municipalities are one name (北京市).
_PROVINCE = re.compile(r".+?(?:省|自治区|特别行政区)")


def region_parts(region: str) -> tuple[str, ...]:
    """What `region:` matches the start of: the whole region and its city part.

    So both 广东 and 深圳 find 广东省深圳市, while 东省 finds nothing.
    """
    province = _PROVINCE.match(region)
    if province and province.end() < len(region):
        return (region, region[province.end() :])
    return (region,) if region else ()


# What matches can be counted by: document fields, plus `month` (YYYY-MM, China time).
FacetField = Literal["source_name", "doc_type", "topics", "region", "month"]
FACET_FIELDS: tuple[FacetField, ...] = get_args(FacetField)
# Values kept per field: enough for a sidebar, cheap for every backend.
FACET_SIZE = 12
# Facets may count only this many of the matches (FTS5: the most recently indexed), so
# that a query matching most of a large index stays fast; the counts are then a sample.
# FTS5 counts the stories of a collapsed result over the same sample.
FACET_SAMPLE = 2_000
# A backend may stop counting matches here (Elasticsearch's default track_total_hits).
TOTAL_CAP = 10_000
# field -> [(value, matching documents)], in display order (see `order_facet`)
FacetCounts = dict[str, list[tuple[str, int]]]


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
    status: str = ""  # a policy's validity: 现行有效, 已修订, 已废止 ("" for other documents)
    # The policies it links to, as "kind:policy id" (implements, interprets, cites; every
    # link is also a "cites"), for the query fields of those names.
    links: tuple[str, ...] = ()


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
    # One hit per story (its best-placed matching copy); `total` then counts stories.
    collapse: bool = False
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    score: float
    document: SearchDocument


@dataclass(frozen=True)
class SearchPage:
    """One page of hits and how many match in all.

    `total` is exact when `total_exact`; otherwise at least that many match (a backend
    may stop counting at 10,000, as Elasticsearch does by default).
    """

    total: int
    hits: list[SearchHit] = field(default_factory=list)
    total_exact: bool = True


def order_facet(field: str, counts: Iterable[tuple[str, int]], size: int) -> list[tuple[str, int]]:
    """Display order: months newest first, other values most frequent first (ties by name)."""
    if field == "month":
        ordered = sorted(counts, key=lambda pair: pair[0], reverse=True)
    else:
        ordered = sorted(counts, key=lambda pair: (-pair[1], pair[0]))
    return [(value, count) for value, count in ordered if value and count][:size]


class IndexBuild(Protocol):
    """A new index filled beside the live one while searches keep using the live one,
    then put in its place in one step (`hitwatch reindex`)."""

    def write(self, documents: Sequence[SearchDocument]) -> None:
        """Insert or replace documents in the new index (not searchable yet)."""

    def swap(self) -> None:
        """Make the new index the live one at once and delete the old one."""

    def abandon(self) -> None:
        """Delete the new index; the live one stays as it was."""


class SearchIndex(Protocol):
    """A full-text index of `SearchDocument`s keyed by `doc_id` (writes are upserts)."""

    # `facets()` counts at most this many matches (a sample of larger results); None: all.
    facet_sample: int | None

    def ensure(self) -> None:
        """Create the index if it does not exist; safe to call at every start."""

    def index(self, documents: Sequence[SearchDocument]) -> None:
        """Insert or replace documents; visible to searches after `refresh()`."""

    def delete(self, doc_id: str) -> None:
        """Remove a document; deleting an unknown id is not an error."""

    def search(self, request: SearchRequest) -> SearchPage:
        """Matching documents, newest first for `sort="date"` (undated last).

        Scores are higher-is-better and comparable within one relevance-sorted result;
        with `sort="date"` a backend may leave them at 0.
        """

    def count(self, request: SearchRequest) -> int:
        """How many documents match, ignoring offset and limit."""

    def facets(
        self,
        request: SearchRequest,
        fields: Sequence[FacetField] = FACET_FIELDS,
        size: int = FACET_SIZE,
    ) -> FacetCounts:
        """Per field, the values the matches have and how many matches have each.

        Empty values (no region, undated) are not counted; a document with two topics
        counts once for each. Ordered by `order_facet`, at most `size` values per field.
        With more than FACET_SAMPLE matches a backend may count a sample of that size.
        """

    def refresh(self) -> None:
        """Make every write so far visible to searches."""

    def rebuild(self) -> IndexBuild:
        """Start an empty index beside the live one (a build an interrupted rebuild left
        behind is discarded), for `hitwatch reindex`."""

    def drop(self) -> None:
        """Delete the whole index (tests, reindexing)."""

    def close(self) -> None:
        """Release connections."""
