"""A search index held in a dict: the unit-test fake and the matcher behind alerts.

Its semantics are the reference the other backends are tested against: a term matches
when its query tokens occur in a row among a field's index tokens (the last one as a
prefix when the term ends in a lone CJK character), which for Chinese is substring
search on the normalised text.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from hitwatch.search.base import (
    FACET_FIELDS,
    FACET_SIZE,
    FacetCounts,
    FacetField,
    SearchDocument,
    SearchHit,
    SearchPage,
    SearchRequest,
    order_facet,
    region_parts,
)
from hitwatch.search.query import (
    LINK_FIELDS,
    And,
    DateRange,
    Field,
    MatchAll,
    Node,
    Not,
    Or,
    Term,
)
from hitwatch.search.terms import (
    date_bounds,
    month_key,
    normalize_docno,
    normalize_field,
    request_query,
    term_tokens,
    utc,
)
from hitwatch.text import QueryTokens, index_tokens, normalize

__all__ = [
    "InMemoryIndex",
    "TokenizedDocument",
    "evaluate",
    "facet_values",
    "matches",
    "tokenize_document",
]

# Matching the title counts this many times more than matching the body (as in FTS5/ES).
TITLE_WEIGHT = 3.0


@dataclass(frozen=True)
class TokenizedDocument:
    """A document with its title and body turned into index tokens once."""

    document: SearchDocument
    title: tuple[str, ...]
    body: tuple[str, ...]


def tokenize_document(document: SearchDocument) -> TokenizedDocument:
    document = replace(document, published_at=utc(document.published_at))
    return TokenizedDocument(
        document,
        tuple(index_tokens(document.title).split()),
        tuple(index_tokens(document.body).split()),
    )


def _occurrences(tokens: tuple[str, ...], term: QueryTokens) -> int:
    wanted = term.tokens
    size = len(wanted)
    head, last = wanted[:-1], wanted[-1]
    found = 0
    for start in range(len(tokens) - size + 1):
        end = start + size - 1
        if tokens[start:end] != head:
            continue
        token = tokens[end]
        if token == last or (term.prefix and token.startswith(last)):
            found += 1
    return found


def _term_score(doc: TokenizedDocument, term: QueryTokens | None) -> float | None:
    """How well the document holds the term, or None when it does not."""
    if term is None:
        return 0.0
    in_title, in_body = _occurrences(doc.title, term), _occurrences(doc.body, term)
    if not (in_title or in_body):
        return None
    return TITLE_WEIGHT * in_title + in_body


def _field_matches(document: SearchDocument, node: Field) -> bool:
    value = normalize_field(node)
    if node.name == "source":
        return value in (document.source_id, document.source_name)
    if node.name == "type":
        return document.doc_type == value
    if node.name == "topic":
        return value in document.topics
    if node.name == "region":
        return any(part.startswith(value) for part in region_parts(document.region))
    if node.name == "issuer":
        return value in normalize(document.issuer)
    if node.name == "docno":
        return bool(document.doc_number) and normalize_docno(document.doc_number) == value
    if node.name == "status":
        return document.status == value
    if node.name in LINK_FIELDS:
        return f"{node.name}:{value}" in document.links
    raise ValueError(f"unknown query field {node.name!r}")


def _in_range(published: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    if start is None and end is None:
        return True
    if published is None:
        return False
    return (start is None or published >= start) and (end is None or published < end)


def evaluate(node: Node, doc: TokenizedDocument) -> float | None:
    """The document's score for a query tree, or None when it does not match.

    Matched terms add up (in AND and OR alike); filters and negations score nothing.
    """
    if isinstance(node, Term):
        return _term_score(doc, term_tokens(node))
    if isinstance(node, And):
        total = 0.0
        for child in node.children:
            score = evaluate(child, doc)
            if score is None:
                return None
            total += score
        return total
    if isinstance(node, Or):
        scores = [score for child in node.children if (score := evaluate(child, doc)) is not None]
        return sum(scores) if scores else None
    if isinstance(node, Not):
        return 0.0 if evaluate(node.child, doc) is None else None
    if isinstance(node, Field):
        return 0.0 if _field_matches(doc.document, node) else None
    if isinstance(node, DateRange):
        return 0.0 if _in_range(doc.document.published_at, *date_bounds(node)) else None
    if isinstance(node, MatchAll):
        return 0.0
    raise TypeError(f"not a query node: {node!r}")


def _passes_filters(document: SearchDocument, request: SearchRequest) -> bool:
    if request.source_ids and document.source_id not in request.source_ids:
        return False
    if request.relevant_only and not document.relevant:
        return False
    start, end = utc(request.published_from), utc(request.published_before)
    return _in_range(utc(document.published_at), start, end)


def matches(request: SearchRequest, doc: TokenizedDocument) -> bool:
    """Whether the document satisfies the request's query (or terms) and filters."""
    return _passes_filters(doc.document, request) and (
        evaluate(request_query(request), doc) is not None
    )


def facet_values(document: SearchDocument, field: FacetField) -> tuple[str, ...]:
    """The values a document counts under in a facet (none when the field is empty)."""
    if field == "topics":
        values: tuple[str, ...] = document.topics
    elif field == "month":
        values = (month_key(document.published_at),)
    else:
        values = (getattr(document, field),)
    return tuple(value for value in dict.fromkeys(values) if value)


def _newest_first(hit: SearchHit) -> tuple[bool, float, str]:
    published: datetime | None = hit.document.published_at
    return (published is None, -published.timestamp() if published else 0.0, hit.doc_id)


class InMemoryIndex:
    """`SearchIndex` over a dict; writes are visible at once, `refresh()` does nothing."""

    facet_sample: int | None = None

    def __init__(self) -> None:
        self._docs: dict[str, TokenizedDocument] = {}
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Nothing to create."""

    def index(self, documents: Sequence[SearchDocument]) -> None:
        tokenized = [tokenize_document(document) for document in documents]
        with self._lock:
            for doc in tokenized:
                self._docs[doc.document.doc_id] = doc

    def delete(self, doc_id: str) -> None:
        with self._lock:
            self._docs.pop(doc_id, None)

    def _hits(self, request: SearchRequest) -> list[SearchHit]:
        query = request_query(request)
        with self._lock:
            docs = list(self._docs.values())
        hits = []
        for doc in docs:
            if not _passes_filters(doc.document, request):
                continue
            score = evaluate(query, doc)
            if score is not None:
                hits.append(SearchHit(doc.document.doc_id, score, doc.document))
        hits.sort(key=_newest_first)
        if request.sort == "relevance":
            hits.sort(key=lambda hit: -hit.score)  # stable: ties stay newest first
        if request.collapse:  # each story's first hit in that order stands for it
            first: dict[str, SearchHit] = {}
            for hit in hits:
                first.setdefault(hit.document.story_id, hit)
            hits = list(first.values())
        return hits

    def search(self, request: SearchRequest) -> SearchPage:
        hits = self._hits(request)
        return SearchPage(len(hits), hits[request.offset : request.offset + request.limit])

    def count(self, request: SearchRequest) -> int:
        return len(self._hits(replace(request, collapse=False)))

    def facets(
        self,
        request: SearchRequest,
        fields: Sequence[FacetField] = FACET_FIELDS,
        size: int = FACET_SIZE,
    ) -> FacetCounts:
        documents = [hit.document for hit in self._hits(replace(request, collapse=False))]
        result: FacetCounts = {}
        for field in fields:
            counts = Counter(value for doc in documents for value in facet_values(doc, field))
            result[field] = order_facet(field, counts.items(), size)
        return result

    def refresh(self) -> None:
        """Writes are visible at once."""

    def rebuild(self) -> _MemoryBuild:
        return _MemoryBuild(self)

    def drop(self) -> None:
        with self._lock:
            self._docs.clear()

    def close(self) -> None:
        """Nothing to release."""


class _MemoryBuild:
    """A second dict, put in place of the live one by `swap`."""

    def __init__(self, index: InMemoryIndex) -> None:
        self._index = index
        self._docs: dict[str, TokenizedDocument] = {}

    def write(self, documents: Sequence[SearchDocument]) -> None:
        for document in documents:
            self._docs[document.doc_id] = tokenize_document(document)

    def swap(self) -> None:
        with self._index._lock:
            self._index._docs = self._docs
        self._docs = {}

    def abandon(self) -> None:
        self._docs = {}
