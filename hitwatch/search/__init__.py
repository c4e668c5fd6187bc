"""The search index: one protocol, an embedded SQLite FTS5 implementation and Elasticsearch."""

from hitwatch.search.base import (
    FACET_FIELDS,
    FacetCounts,
    FacetField,
    SearchDocument,
    SearchHit,
    SearchIndex,
    SearchPage,
    SearchRequest,
)
from hitwatch.search.factory import open_search_index

__all__ = [
    "FACET_FIELDS",
    "FacetCounts",
    "FacetField",
    "SearchDocument",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "SearchRequest",
    "open_search_index",
]
