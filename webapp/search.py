"""The search page: a query, a source filter, a date range, results by story."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template, request

from hitwatch.errors import QueryError, SearchBackendError
from webapp import queries
from webapp.dependencies import dependencies
from webapp.pagination import Pagination, page_number
from webapp.results import ResultRow, highlight_terms, parse_form, result_rows

__all__ = ["PER_PAGE", "bp"]

log = logging.getLogger(__name__)

bp = Blueprint("search", __name__)

PER_PAGE = 20

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
    pagination = Pagination(page, PER_PAGE, 0)
    error, status = form.error, 200 if not form.error else 400
    if not form.is_empty and not error:
        try:
            found = deps.search_index.search(form.request((page - 1) * PER_PAGE, PER_PAGE))
        except QueryError as exc:
            error, status = f"查询语句有误：{exc}", 400
        except SearchBackendError as exc:
            log.error("search failed: %s", exc)
            error, status = INDEX_DOWN, 503
        else:
            pagination = Pagination(page, PER_PAGE, found.total)
            with deps.database.session() as session:
                sizes = queries.story_sizes(session, (hit.document.story_id for hit in found.hits))
            rows = result_rows(found, highlight_terms(form.q), sizes)
    html = render_template(
        "search/index.html",
        form=form,
        rows=rows,
        sources=sources,
        pagination=pagination,
        error=error,
    )
    return html, status
