"""What every backend does alike with a `SearchRequest`: its query tree, terms, dates.

A request is turned into one syntax tree (`request_query`) that each backend translates;
the helpers here give every backend the same meaning for its leaves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

from hitwatch.search.base import SearchRequest
from hitwatch.search.query import And, DateRange, Field, MatchAll, Node, Or, Term
from hitwatch.text import QueryTokens, normalize, query_tokens

__all__ = [
    "SHANGHAI",
    "date_bounds",
    "has_scoring_terms",
    "month_key",
    "normalize_docno",
    "normalize_field",
    "positive_terms",
    "request_query",
    "request_terms",
    "requires_term",
    "term_tokens",
    "utc",
]

# Query dates are calendar days in China; mainland time has been UTC+8 all year since 1991.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

# Every bracket style a 发文字号 is written with, mapped to the official 〔〕.
_DOCNO_BRACKETS = str.maketrans({"[": "〔", "［": "〔", "(": "〔", "（": "〔",
                                 "]": "〕", "］": "〕", ")": "〕", "）": "〕"})  # fmt: skip


def request_terms(text: str) -> list[QueryTokens]:
    """Each whitespace-separated term as index tokens; terms with no tokens are dropped.

    Pure punctuation (a stray `+` or `——`) tokenises to nothing and would otherwise
    match either everything or nothing depending on the backend.
    """
    terms = [query_tokens(term) for term in text.split()]
    return list(dict.fromkeys(term for term in terms if not term.empty))


def request_query(request: SearchRequest) -> Node:
    """The request's query tree: `query` when set, else `text` as an AND of its terms."""
    if request.query is not None:
        return request.query
    words = list(dict.fromkeys(request.text.split()))
    if not words:
        return MatchAll()
    if len(words) == 1:
        return Term(words[0])
    return And(tuple(Term(word) for word in words))


def term_tokens(term: Term) -> QueryTokens | None:
    """The tokens a term must match in a row; None when it has none (it then matches all).

    A quoted phrase is one term: its words must follow each other, like a single word.
    """
    tokens = query_tokens(term.text)
    return None if tokens.empty else tokens


def positive_terms(node: Node) -> list[Term]:
    """The terms a match can contain (not under a NOT): what to score and highlight."""
    if isinstance(node, Term):
        return [node] if term_tokens(node) is not None else []
    if isinstance(node, (And, Or)):
        found = [term for child in node.children for term in positive_terms(child)]
        return list(dict.fromkeys(found))
    return []


def requires_term(node: Node) -> bool:
    """Whether every match must hold one of `positive_terms(node)` (so can be found by them)."""
    if isinstance(node, Term):
        return term_tokens(node) is not None
    if isinstance(node, And):
        return any(requires_term(child) for child in node.children)
    if isinstance(node, Or):
        return all(requires_term(child) for child in node.children)
    return False


def normalize_docno(value: str) -> str:
    """A document number in one spelling: half-width digits, brackets 〔〕, no spaces."""
    return "".join(normalize(value).translate(_DOCNO_BRACKETS).split())


def normalize_field(node: Field) -> str:
    """The value a field filter compares, in the form the backends compare it."""
    if node.name == "docno":
        return normalize_docno(node.value)
    if node.name == "issuer":
        return normalize(node.value)
    return node.value


def date_bounds(node: DateRange) -> tuple[datetime | None, datetime | None]:
    """The range as UTC instants: from the start of `start` to the start of `end`, in China."""

    def midnight(day: date | None) -> datetime | None:
        return datetime.combine(day, time(), SHANGHAI).astimezone(UTC) if day else None

    return midnight(node.start), midnight(node.end)


def month_key(moment: datetime | None) -> str:
    """The `month` facet value of a publication time: YYYY-MM in China ('' when undated)."""
    if moment is None:
        return ""
    return (utc(moment) or moment).astimezone(SHANGHAI).strftime("%Y-%m")


def utc(moment: datetime | None) -> datetime | None:
    """The moment in UTC; naive datetimes are taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def has_scoring_terms(node: Node) -> bool:
    """Whether matches can be ranked by relevance (some term is not negated)."""
    return bool(positive_terms(node))
