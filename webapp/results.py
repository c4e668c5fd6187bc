"""The search form (query string in, `SearchRequest` out) and result rows for display.

Shared by the search page and the JSON API so both read parameters the same way: `q` is
parsed with the query language (`hitwatch.search.query`) and its terms expanded with
synonyms; a malformed query is reported in the form, not raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from markupsafe import Markup

from hitwatch.errors import QueryError
from hitwatch.search import SearchPage, SearchRequest
from hitwatch.search.query import MatchAll, Node, parse_query
from hitwatch.search.snippets import highlight, highlight_title
from hitwatch.search.synonyms import expand_synonyms
from hitwatch.search.terms import positive_terms
from webapp.display import day_range, parse_day

__all__ = ["ResultRow", "SearchForm", "highlight_terms", "parse_form", "result_rows"]

SORTS: dict[str, Literal["relevance", "date"]] = {"relevance": "relevance", "date": "date"}
SNIPPET_WIDTH = 120


@dataclass(frozen=True)
class SearchForm:
    """What the reader asked for, as typed (so the form can be shown again unchanged)."""

    q: str = ""
    source: str = ""
    date_from: str = ""
    date_to: str = ""
    sort: Literal["relevance", "date"] = "relevance"
    error: str = ""
    error_detail: str = ""  # the query with a caret under the mistake, shown preformatted
    query: Node = field(default_factory=MatchAll)
    _range: tuple[datetime | None, datetime | None] = field(default=(None, None), repr=False)

    @property
    def is_empty(self) -> bool:
        return not (self.q.strip() or self.source or self.date_from or self.date_to)

    def request(self, offset: int, limit: int) -> SearchRequest:
        start, end = self._range
        return SearchRequest(
            text=self.q.strip(),
            query=self.query,
            source_ids=(self.source,) if self.source else (),
            published_from=start,
            published_before=end,
            sort=self.sort,
            offset=offset,
            limit=limit,
        )

    def args(self, **changes: str | int) -> dict[str, str | int]:
        """Query-string arguments reproducing this search (for pagination and sort links)."""
        values: dict[str, str | int] = {
            "q": self.q,
            "source": self.source,
            "from": self.date_from,
            "to": self.date_to,
            "sort": self.sort,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}


def parse_form(args: Mapping[str, str]) -> SearchForm:
    """Read `q, source, from, to, sort`; a bad query or date is reported in `error`."""
    form = SearchForm(
        q=args.get("q", "").strip(),
        source=args.get("source", "").strip(),
        date_from=args.get("from", "").strip(),
        date_to=args.get("to", "").strip(),
        sort=SORTS.get(args.get("sort", ""), "relevance"),
    )
    try:
        first, last = parse_day(form.date_from), parse_day(form.date_to)
    except ValueError:
        return replace(form, error="日期格式应为 YYYY-MM-DD，例如 2024-07-01。")
    if first and last and first > last:
        return replace(form, error="开始日期晚于结束日期，请交换两个日期。")
    try:
        query = expand_synonyms(parse_query(form.q))
    except QueryError as exc:
        message, _, detail = str(exc).partition("\n")
        return replace(form, error=f"查询语句有误：{message}", error_detail=detail)
    return replace(form, query=query, _range=day_range(first, last))


def highlight_terms(query: Node) -> list[str]:
    """The words to mark in results: the query's terms that are not negated."""
    return [term.text for term in positive_terms(query)]


@dataclass(frozen=True)
class ResultRow:
    """One story in the results: its best-ranked copy, highlighted, and the other copies."""

    doc_id: str
    story_id: str
    url: str
    title_html: Markup
    snippet_html: Markup
    source_name: str
    published_at: datetime | None
    doc_type: str
    topics: tuple[str, ...]
    score: float
    story_size: int
    also: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, source_name)


def result_rows(
    page: SearchPage, terms: list[str], story_sizes: Mapping[str, int]
) -> list[ResultRow]:
    """Hits as rows, each story once: later copies on the same page fold into `also`."""
    rows: list[ResultRow] = []
    by_story: dict[str, ResultRow] = {}
    for hit in page.hits:
        doc = hit.document
        story_key = doc.story_id or doc.doc_id
        if story_key in by_story:
            by_story[story_key].also.append((doc.doc_id, doc.source_name))
            continue
        row = ResultRow(
            doc_id=doc.doc_id,
            story_id=doc.story_id,
            url=doc.url,
            title_html=Markup(highlight_title(doc.title, terms)),  # noqa: S704 - highlight escapes
            snippet_html=Markup(highlight(doc.body, terms, width=SNIPPET_WIDTH)),  # noqa: S704
            source_name=doc.source_name,
            published_at=doc.published_at,
            doc_type=doc.doc_type,
            topics=doc.topics,
            score=hit.score,
            story_size=story_sizes.get(doc.story_id, 1),
        )
        by_story[story_key] = row
        rows.append(row)
    return rows
