"""The search page (a query in the query language, filters, results by story) and its feed."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request

from hitwatch.errors import SearchBackendError
from hitwatch.search import QueryHint
from webapp import queries
from webapp.dependencies import dependencies
from webapp.pagination import Pagination, page_number
from webapp.results import (
    FacetGroup,
    ResultRow,
    facet_groups,
    find,
    hint_args,
    parse_form,
)

__all__ = ["FEED_SIZE", "PER_PAGE", "bp"]

log = logging.getLogger(__name__)

bp = Blueprint("search", __name__)

PER_PAGE = 20
FEED_SIZE = 50
SUMMARY_LENGTH = 200

INDEX_DOWN = (
    "搜索索引暂时不可用：请稍后重试；若持续出现，请检查 Elasticsearch 或索引文件"
    "（见 /api/v1/health）。"
)


@bp.get("/search")
def index() -> tuple[str, int]:
    form = parse_form(request.args)
    page = page_number(request.args.get("page"))
    deps = dependencies()
    with deps.database.session() as session:
        sources = queries.source_choices(session)
    rows: list[ResultRow] = []
    facets: list[FacetGroup] = []
    pagination = Pagination(page, PER_PAGE, 0)
    facets_sampled: int | None = None
    hint: QueryHint | None = None
    error, status = form.error, 200 if not form.error else 400
    if not form.is_empty and not error:
        try:
            found = find(
                deps.search_index,
                deps.database,
                form,
                (page - 1) * PER_PAGE,
                PER_PAGE,
                with_facets=True,
            )
        except SearchBackendError as exc:
            log.error("search failed: %s", exc)
            error, status = INDEX_DOWN, 503
        else:
            pagination = Pagination(page, PER_PAGE, found.total, found.total_exact)
            facets_sampled = found.facet_sample
            rows = found.rows
            facets = facet_groups(form, found.facets or {})
            hint = found.hint
    html = render_template(
        "search/index.html",
        form=form,
        rows=rows,
        facets=facets,
        facets_sampled=facets_sampled,
        sources=sources,
        pagination=pagination,
        error=error,
        hint=hint,
        hint_args=hint_args(form, hint) if hint else {},
    )
    return html, status


@bp.get("/search.atom")
def feed() -> Response:
    """The latest `FEED_SIZE` matches of a search, newest first, for feed readers."""
    form = parse_form(request.args)
    if form.error:
        detail = f"\n{form.error_detail}" if form.error_detail else ""
        return Response(f"{form.error}{detail}\n", 400, mimetype="text/plain")
    try:
        found = dependencies().search_index.search(replace(form.request(0, FEED_SIZE), sort="date"))
    except SearchBackendError as exc:
        log.error("search feed failed: %s", exc)
        return Response(INDEX_DOWN + "\n", 503, mimetype="text/plain")
    # Atom needs a date per entry; undated pages (sorted last anyway) are left out.
    documents = [hit.document for hit in found.hits if hit.document.published_at is not None]
    updated = documents[0].published_at if documents else datetime.now(UTC)
    body = render_template(
        "search/feed.xml",
        form=form,
        documents=documents,
        updated=updated,
        summary_length=SUMMARY_LENGTH,
    )
    return Response(body, 200, mimetype="application/atom+xml")
