"""The JSON API (`/api/v1`): items, search, and a health check for monitors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from hitwatch.errors import SearchBackendError
from hitwatch.store import Article
from webapp import queries
from webapp.dependencies import dependencies
from webapp.health import is_healthy, run_checks
from webapp.pagination import MAX_PER_PAGE, Pagination, page_number
from webapp.results import (
    FACET_QUERY_FIELDS,
    ResultRow,
    facet_label,
    find,
    hint_message,
    parse_form,
)

__all__ = ["bp"]

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_PER_PAGE = 20
OPENAPI_FILE = "openapi.yaml"  # in webapp/static

Json = dict[str, Any]


def _per_page() -> int:
    try:
        value = int(request.args.get("per_page", DEFAULT_PER_PAGE))
    except ValueError:
        value = DEFAULT_PER_PAGE
    return min(max(1, value), MAX_PER_PAGE)


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_summary(article: Article, story_size: int) -> Json:
    return {
        "doc_id": article.id,
        "story_id": article.story_id,
        "story_size": story_size,
        "title": article.title,
        "url": article.url,
        "source_id": article.source_id,
        "source_name": article.source_name,
        "origin_name": article.origin_name,
        "published_at": _time(article.published_at),
        "doc_type": article.doc_type,
        "topics": article.topics,
        "region": article.region,
        "relevant": article.relevant,
    }


def item_detail(article: Article, siblings: list[Article], story_size: int) -> Json:
    return {
        **item_summary(article, story_size),
        "canonical_url": article.canonical_url,
        "source_kind": article.source_kind,
        "author": article.author,
        "body": article.body,
        "attachments": article.attachments,
        "policy": article.policy,
        "relevance": article.relevance,
        "entities": article.entities,
        "evidence": article.evidence,
        "fetched_at": _time(article.fetched_at),
        "indexed_at": _time(article.indexed_at),
        "also_published_by": [
            {"doc_id": s.id, "source_name": s.source_name, "url": s.url} for s in siblings
        ],
    }


def result_json(row: ResultRow) -> Json:
    return {
        "doc_id": row.doc_id,
        "story_id": row.story_id,
        "story_size": row.story_size,
        "url": row.url,
        "title_html": str(row.title_html),
        "snippet_html": str(row.snippet_html),
        "source_name": row.source_name,
        "published_at": _time(row.published_at),
        "doc_type": row.doc_type,
        "topics": list(row.topics),
        "score": row.score,
        "also": [{"doc_id": doc_id, "source_name": name} for doc_id, name in row.also],
    }


@bp.get("/items")
def items() -> Json:
    page, per_page = page_number(request.args.get("page")), _per_page()
    relevant_only = request.args.get("all") != "1"
    with dependencies().database.session() as session:
        rows, total = queries.latest_articles(
            session, offset=(page - 1) * per_page, limit=per_page, relevant_only=relevant_only
        )
        sizes = queries.story_sizes(session, (a.story_id for a in rows))
    return {
        "items": [item_summary(a, sizes.get(a.story_id, 1)) for a in rows],
        "pagination": Pagination(page, per_page, total).as_json(),
    }


@bp.get("/items/<doc_id>")
def item(doc_id: str) -> Json:
    with dependencies().database.session() as session:
        article = queries.article_by_id(session, doc_id)
        if article is None:
            abort(404)
        siblings = list(queries.story_members(session, article))
    return item_detail(article, siblings, len(siblings) + 1)


@bp.get("/search")
def search() -> tuple[Json, int]:
    form = parse_form(request.args)
    if form.error:
        error: Json = {"error": form.error, "status": 400}
        if form.error_detail:
            error["detail"] = form.error_detail
        if form.error_position is not None:
            error["position"] = form.error_position
        return error, 400
    page, per_page = page_number(request.args.get("page")), _per_page()
    want_facets = request.args.get("facets") == "1"
    deps = dependencies()
    try:
        found = find(
            deps.search_index,
            deps.database,
            form,
            (page - 1) * per_page,
            per_page,
            with_facets=want_facets,
        )
    except SearchBackendError as exc:
        log.error("search failed: %s", exc)
        return {"error": "搜索索引暂时不可用，请稍后重试。", "status": 503}, 503
    body: Json = {
        "query": {
            "q": form.q,
            "source": form.source,
            "from": form.date_from,
            "to": form.date_to,
            "sort": form.sort,
        },
        "results": [result_json(row) for row in found.rows],
        "pagination": Pagination(page, per_page, found.total, found.total_exact).as_json(),
    }
    if found.hint is not None:
        suggestion = found.hint.suggestion
        body["hint"] = {
            "message": hint_message(found.hint),
            "terms": [
                {"q": term.q, "count": term.count, "count_exact": term.exact}
                for term in found.hint.terms
            ],
            "suggestion": None
            if suggestion is None
            else {
                "q": suggestion.q,
                "count": suggestion.count,
                "count_exact": suggestion.exact,
                "without_filters": suggestion.without_filters,
                "include_offtopic": suggestion.include_offtopic,
            },
        }
    if found.facets is not None:
        body["facets_sampled"] = found.facet_sample is not None
        # field -> [{"value", "count"}]; the query field to filter by is in "filters"
        body["facets"] = {
            field: [
                {"value": value, "count": count, "label": facet_label(field, value) or value}
                for value, count in pairs
            ]
            for field, pairs in found.facets.items()
        }
        body["facet_filters"] = dict(FACET_QUERY_FIELDS)
    return body, 200


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI 3 description of this API (a static file, tested against the routes)."""
    text = Path(current_app.root_path, "static", OPENAPI_FILE).read_text("utf-8")
    return Response(text, 200, mimetype="application/yaml")


@bp.get("/health")
def health() -> tuple[Json, int]:
    checks = run_checks()
    healthy = is_healthy(checks)
    return {"status": "ok" if healthy else "error", "checks": checks}, 200 if healthy else 503
