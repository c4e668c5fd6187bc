"""The search form (query string in, `SearchRequest` out), the search itself and result
rows for display.

Shared by the search page and the JSON API so both read parameters and find results the
same way (`find`): `q` is prepared with the query language (`prepare_query`: synonyms,
topic names); a malformed query is reported in the form, not raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from markupsafe import Markup

from hitwatch.errors import QueryError
from hitwatch.search import (
    FACET_FIELDS,
    And,
    FacetCounts,
    Field,
    MatchAll,
    Node,
    QueryHint,
    SearchIndex,
    SearchPage,
    SearchRequest,
    highlight,
    highlight_title,
    positive_terms,
    prepare_query,
    query_hint,
)
from hitwatch.store import Database
from hitwatch.topics import topic_names
from webapp import queries
from webapp.display import day_range, parse_day

__all__ = [
    "FACET_QUERY_FIELDS",
    "FacetGroup",
    "FacetLink",
    "Found",
    "ResultRow",
    "SearchForm",
    "facet_groups",
    "facet_label",
    "find",
    "highlight_terms",
    "hint_args",
    "hint_message",
    "parse_form",
    "query_error",
    "query_filter",
    "result_rows",
]

# facet of the index -> the query-language field that filters by it
FACET_QUERY_FIELDS = {
    "source_name": "source",
    "doc_type": "type",
    "topics": "topic",
    "region": "region",
    "month": "month",
}
# A field value must be quoted when it holds what the query language reads as syntax.
_NEEDS_QUOTES = re.compile(r'[\s()|:"]|^-')
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
    include_all: bool = False  # `all=1`: also articles the classifier judged off-topic
    error: str = ""
    error_detail: str = ""  # the query with a caret under the mistake, shown preformatted
    error_position: int | None = None  # 1-based character of `q` where the mistake is
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
            relevant_only=not self.include_all,
            sort=self.sort,
            collapse=True,
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
            "all": 1 if self.include_all else "",
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}


def parse_form(args: Mapping[str, str]) -> SearchForm:
    """Read `q, source, from, to, sort, all`; a bad query or date is reported in `error`."""
    form = SearchForm(
        q=args.get("q", "").strip(),
        source=args.get("source", "").strip(),
        date_from=args.get("from", "").strip(),
        date_to=args.get("to", "").strip(),
        sort=SORTS.get(args.get("sort", ""), "relevance"),
        include_all=args.get("all") == "1",
    )
    try:
        first, last = parse_day(form.date_from), parse_day(form.date_to)
    except ValueError:
        return replace(form, error="日期格式应为 YYYY-MM-DD，例如 2024-07-01。")
    if first and last and first > last:
        return replace(form, error="开始日期晚于结束日期，请交换两个日期。")
    try:
        query = prepare_query(form.q)
    except QueryError as exc:
        error, detail = query_error(exc)
        return replace(form, error=error, error_detail=detail, error_position=exc.position)
    return replace(form, query=query, _range=day_range(first, last))


def query_error(exc: QueryError) -> tuple[str, str]:
    """The message for a malformed query, and the query with a caret under the mistake."""
    return f"查询语句有误：{exc.message}", exc.detail


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
    page: SearchPage,
    terms: list[str],
    story_sizes: Mapping[str, int],
    copies: Mapping[str, list[tuple[str, str]]] | None = None,
) -> list[ResultRow]:
    """Hits as rows, each story once (the index collapses them; later copies on the same
    page would fold in). `also` lists the story's other copies, one per outlet, from
    `copies` (story id -> (doc id, source name)) and from the page."""
    rows: list[ResultRow] = []
    by_story: dict[str, ResultRow] = {}
    for hit in page.hits:
        doc = hit.document
        story_key = doc.story_id or doc.doc_id
        if story_key in by_story:
            first = by_story[story_key]
            # one link per outlet: the same source's second copy adds nothing to read
            if doc.source_name != first.source_name and all(
                name != doc.source_name for _, name in first.also
            ):
                first.also.append((doc.doc_id, doc.source_name))
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
        for doc_id, source_name in (copies or {}).get(doc.story_id, []):
            if (
                doc_id != doc.doc_id
                and source_name != doc.source_name
                and all(name != source_name for _, name in row.also)
            ):
                row.also.append((doc_id, source_name))
        by_story[story_key] = row
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Found:
    """One page of a search as the search page and the API show it."""

    rows: list[ResultRow]
    total: int
    total_exact: bool
    facets: FacetCounts | None = None  # when asked for
    facet_sample: int | None = None  # facets counted this many of more matches
    hint: QueryHint | None = None  # when nothing was found: counts and a query that finds


def find(
    search_index: SearchIndex,
    database: Database,
    form: SearchForm,
    offset: int,
    limit: int,
    *,
    with_facets: bool = False,
) -> Found:
    """Search, count facets when asked, and make the hits rows with their stories' sizes
    and other copies (SearchBackendError when the index is unavailable)."""
    page = search_index.search(form.request(offset, limit))
    facets: FacetCounts | None = None
    if with_facets:
        # No match, no value to count: every backend answers empty lists.
        facets = (
            search_index.facets(form.request(0, 0))
            if page.total
            else {field: [] for field in FACET_FIELDS}
        )
    sample = search_index.facet_sample
    hint = query_hint(search_index, form.request(0, 0), form.q) if not page.total else None
    stories = [hit.document.story_id for hit in page.hits]
    with database.session() as session:
        sizes = queries.story_sizes(session, stories)
        copies = queries.story_copies(session, stories)
    return Found(
        rows=result_rows(page, highlight_terms(form.query), sizes, copies),
        total=page.total,
        total_exact=page.total_exact,
        facets=facets,
        facet_sample=sample if sample is not None and page.total > sample else None,
        hint=hint,
    )


def _count(count: int, exact: bool) -> str:
    return f"{count}" if exact else f"{count}+"


def hint_message(hint: QueryHint) -> str:
    """The hint in one Chinese sentence or two (the page shows it with links, the API as is)."""
    parts: list[str] = []
    if hint.terms:
        counts = "；".join(f"“{term.q}”{_count(term.count, term.exact)} 条" for term in hint.terms)
        parts.append(f"这些条件没有同时出现在任何一条结果中。各条件单独的结果数：{counts}。")
    suggestion = hint.suggestion
    if suggestion is not None:
        widened = []
        if suggestion.without_filters:
            widened.append("去掉来源和日期筛选")
        if suggestion.include_offtopic:
            widened.append("包括判定为无关的文章")
        found = _count(suggestion.count, suggestion.exact)
        if suggestion.q:
            how = f"（{'、'.join(widened)}）" if widened else ""
            parts.append(f"试试“{suggestion.q}”{how}：有 {found} 条结果。")
        else:
            parts.append(f"{'、'.join(widened)}后有 {found} 条结果。")
    return "".join(parts)


def hint_args(form: SearchForm, hint: QueryHint) -> dict[str, str | int]:
    """Query-string arguments of the suggested search (empty when there is none)."""
    suggestion = hint.suggestion
    if suggestion is None:
        return {}
    changes: dict[str, str | int] = {"q": suggestion.q}
    if suggestion.without_filters:
        changes.update({"source": "", "from": "", "to": ""})
    if suggestion.include_offtopic:
        changes["all"] = 1
    return form.args(**changes)


def query_filter(field: str, value: str) -> str:
    """`field:value` in the query language, quoted when the value needs it."""
    if _NEEDS_QUOTES.search(value):
        return f'{field}:"{value.replace(chr(34), "")}"'
    return f"{field}:{value}"


@dataclass(frozen=True)
class FacetLink:
    """One value of a facet: how many matches have it and the query that narrows to it."""

    value: str
    count: int
    q: str
    active: bool  # the query already filters by it
    label: str = ""  # what to show, when not the value (a topic's name for its code)

    @property
    def text(self) -> str:
        return self.label or self.value


@dataclass(frozen=True)
class FacetGroup:
    field: str  # the query-language field: source, type, topic, region, month
    links: list[FacetLink]


def facet_label(facet: str, value: str) -> str:
    """What a facet value is shown as: topics by name (from the taxonomy), others as is."""
    if facet == "topics":
        return topic_names().get(value, "")
    return ""


def _required_fields(query: Node) -> set[tuple[str, str]]:
    """(field, value) of the filters every match must pass (the query's top-level AND)."""
    children = query.children if isinstance(query, And) else (query,)
    return {(child.name, child.value) for child in children if isinstance(child, Field)}


def facet_groups(form: SearchForm, facets: FacetCounts) -> list[FacetGroup]:
    """Facet counts as links that add `field:value` to the reader's query."""
    present = set(form.q.split())
    required = _required_fields(form.query)
    groups = []
    for facet, pairs in facets.items():
        field_name = FACET_QUERY_FIELDS[facet]
        links = []
        for value, count in pairs:
            label = facet_label(facet, value)
            condition = query_filter(field_name, value)
            active = condition in present or (field_name, value) in required
            q = form.q if active else f"{form.q} {condition}".strip()
            links.append(FacetLink(value, count, q, active, label))
        if links:
            groups.append(FacetGroup(field_name, links))
    return groups
