"""The search index and the one meaning of a query and of a searchable document.

One protocol with an embedded SQLite FTS5 implementation, Elasticsearch and an in-memory
reference; the query language (`prepare_query`) that the search page, the API and alert
rules share; the rule matcher alerts run; the mapping of a classified document or stored
article to the searchable document; the hint for a query that found nothing. The web
app, alerts, the indexer and the notifier use what is exported here and never reach into
the submodules (an import contract holds it).
"""

from hitwatch.search.base import (
    FACET_FIELDS,
    FacetCounts,
    FacetField,
    IndexBuild,
    SearchDocument,
    SearchHit,
    SearchIndex,
    SearchPage,
    SearchRequest,
)
from hitwatch.search.documents import article_document, search_document
from hitwatch.search.factory import open_search_index
from hitwatch.search.hints import QueryHint, Suggestion, TermCount, query_hint
from hitwatch.search.matching import CompiledRule, RuleMatcher, compile_rule
from hitwatch.search.prepare import prepare_query
from hitwatch.search.query import (
    And,
    DateRange,
    Field,
    MatchAll,
    Node,
    Not,
    Or,
    Term,
    parse_query,
)
from hitwatch.search.snippets import highlight, highlight_title
from hitwatch.search.terms import SHANGHAI, positive_terms

__all__ = [
    "FACET_FIELDS",
    "SHANGHAI",
    "And",
    "CompiledRule",
    "DateRange",
    "FacetCounts",
    "FacetField",
    "Field",
    "IndexBuild",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "QueryHint",
    "RuleMatcher",
    "SearchDocument",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "SearchRequest",
    "Suggestion",
    "Term",
    "TermCount",
    "article_document",
    "compile_rule",
    "highlight",
    "highlight_title",
    "open_search_index",
    "parse_query",
    "positive_terms",
    "prepare_query",
    "query_hint",
    "search_document",
]
