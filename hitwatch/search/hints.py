"""What to tell a reader whose query found nothing: each condition's own count and a
query that does find something.

A query of several conditions (`医疗AI 监管 source:nhc`) finds nothing when one of them
matches nothing or when they never meet. Each condition is counted alone, with the
request's filters, so the reader sees which one is the problem; then the conditions are
added back, the most frequent first, as long as the query still finds something. When no
part helps, the request's own filters (source, dates, off-topic excluded) are dropped.
Counts are stories, as the result count is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hitwatch.search.base import SearchIndex, SearchRequest
from hitwatch.search.prepare import prepare_query, typed_conjuncts
from hitwatch.search.query import And, Node, Not, query_text

__all__ = ["MAX_HINT_TERMS", "QueryHint", "Suggestion", "TermCount", "query_hint"]

# Conditions counted alone, and negations tried back, at most (each is one search; the
# search box allows 40 conditions).
MAX_HINT_TERMS = 10


@dataclass(frozen=True)
class TermCount:
    """One condition of the query as query text and how many stories it finds alone."""

    q: str
    count: int
    exact: bool = True


@dataclass(frozen=True)
class Suggestion:
    """A query that finds `count` stories; `without_filters` / `include_offtopic` when it
    needs the request's source and date filters dropped / off-topic pages included."""

    q: str
    count: int
    exact: bool = True
    without_filters: bool = False
    include_offtopic: bool = False


@dataclass(frozen=True)
class QueryHint:
    terms: list[TermCount]  # each condition alone (when the query has more than one)
    suggestion: Suggestion | None


def _stories(index: SearchIndex, request: SearchRequest, text: str) -> tuple[int, bool]:
    page = index.search(
        replace(request, text=text, query=prepare_query(text), collapse=True, offset=0, limit=0)
    )
    return page.total, page.total_exact


def _text(conditions: list[Node]) -> str:
    return query_text(conditions[0] if len(conditions) == 1 else And(tuple(conditions)))


def _narrowest_finding(
    index: SearchIndex,
    request: SearchRequest,
    conditions: list[Node],
    counts: dict[Node, TermCount],
) -> Suggestion | None:
    """The counted conditions kept, most frequent first, then the negations, as long as
    together they still find something (in the order typed)."""
    ranked = sorted((c for c in counts if counts[c].count), key=lambda c: -counts[c].count)
    if not ranked:
        return None
    kept = [ranked[0]]
    found = (counts[ranked[0]].count, counts[ranked[0]].exact)
    negations = [c for c in conditions if isinstance(c, Not)][:MAX_HINT_TERMS]
    for condition in ranked[1:] + negations:
        trial = [c for c in conditions if c in kept or c == condition]
        total, exact = _stories(index, request, _text(trial))
        if total:
            kept, found = trial, (total, exact)
    return Suggestion(_text(kept), *found)


def _widened(index: SearchIndex, request: SearchRequest, text: str) -> Suggestion | None:
    """The same query without the request's filters, then with off-topic pages too."""
    filtered = bool(request.source_ids or request.published_from or request.published_before)
    unfiltered = replace(request, source_ids=(), published_from=None, published_before=None)
    trials = []
    if filtered:
        trials.append((unfiltered, True, False))
    if request.relevant_only:
        trials.append((replace(request, relevant_only=False), False, True))
        if filtered:
            trials.append((replace(unfiltered, relevant_only=False), True, True))
    for trial, without_filters, include_offtopic in trials:
        total, exact = _stories(index, trial, text)
        if total:
            return Suggestion(text, total, exact, without_filters, include_offtopic)
    return None


def query_hint(index: SearchIndex, request: SearchRequest, text: str) -> QueryHint:
    """Counts and a suggestion for `text`, a query that found nothing with `request`'s
    filters (QueryError when it is malformed; SearchBackendError as a search raises)."""
    conditions = typed_conjuncts(text)
    counts: dict[Node, TermCount] = {}
    suggestion: Suggestion | None = None
    if len(conditions) > 1:
        # A negation alone finds nearly everything: no news to the reader.
        positive = [c for c in conditions if not isinstance(c, Not)][:MAX_HINT_TERMS]
        for condition in positive:
            q = query_text(condition)
            counts[condition] = TermCount(q, *_stories(index, request, q))
        suggestion = _narrowest_finding(index, request, conditions, counts)
    if suggestion is None:
        suggestion = _widened(index, request, text)
    return QueryHint(list(counts.values()), suggestion)
