"""Whether the parts the web app needs answer: for monitors (JSON) and people (a page)."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, render_template

from hitwatch.search import SearchRequest
from webapp import queries
from webapp.dependencies import dependencies

__all__ = ["bp", "is_healthy", "run_checks"]

Json = dict[str, Any]

bp = Blueprint("status", __name__)


def check_database() -> Json:
    try:
        with dependencies().database.session() as session:
            articles = queries.count_articles(session)
    except Exception as exc:
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"status": "ok", "articles": articles}


def check_search() -> Json:
    deps = dependencies()
    try:
        documents = deps.search_index.count(SearchRequest())
    except Exception as exc:
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"status": "ok", "backend": type(deps.search_index).__name__, "documents": documents}


def check_redis() -> Json:
    url = dependencies().settings.resolved_redis_url
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        # Optional for the web app: pages work without it; only failure replay needs it.
        return {"status": "unavailable", "error": str(exc)[:500]}
    finally:
        client.close()
    return {"status": "ok"}


def run_checks() -> dict[str, Json]:
    return {"database": check_database(), "search": check_search(), "redis": check_redis()}


def is_healthy(checks: dict[str, Json]) -> bool:
    """The store and the search index must answer; Redis is optional for the pages."""
    return bool(checks["database"]["status"] == "ok" and checks["search"]["status"] == "ok")


@bp.get("/status")
def index() -> tuple[str, int]:
    checks = run_checks()
    healthy = is_healthy(checks)
    return render_template("status.html", checks=checks, healthy=healthy), 200 if healthy else 503
