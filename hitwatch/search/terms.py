"""What every backend does alike with a `SearchRequest`: its terms as tokens, its dates."""

from __future__ import annotations

from datetime import UTC, datetime

from hitwatch.text import QueryTokens, query_tokens

__all__ = ["request_terms", "utc"]


def request_terms(text: str) -> list[QueryTokens]:
    """Each whitespace-separated term as index tokens; terms with no tokens are dropped.

    Pure punctuation (a stray `+` or `——`) tokenises to nothing and would otherwise
    match either everything or nothing depending on the backend.
    """
    terms = [query_tokens(term) for term in text.split()]
    return list(dict.fromkeys(term for term in terms if not term.empty))


def utc(moment: datetime | None) -> datetime | None:
    """The moment in UTC; naive datetimes are taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
