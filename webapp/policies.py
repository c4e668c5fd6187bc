"""Policy pages: the list of policies with the table of upcoming deadlines, one policy
with its 解读, the provinces' implementations, related news, targets and status, and an
Atom feed of its new links."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template, request

from hitwatch.clock import SHANGHAI
from hitwatch.policies import LEVELS, list_policies, policy_page, upcoming_deadlines
from webapp.dependencies import dependencies
from webapp.pagination import Pagination, page_number

__all__ = ["LEVEL_NAMES", "bp"]

bp = Blueprint("policies", __name__)

PER_PAGE = 50
FEED_SIZE = 50
LEVEL_NAMES = {"national": "国家级", "provincial": "省级", "municipal": "市级", "": "未知"}
KIND_NAMES = {
    "interprets": "解读",
    "implements": "落实",
    "cites": "引用",
    "names": "报道",
    "repeals": "废止",
    "revises": "修订",
}


@bp.app_template_filter("policy_level")
def policy_level(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


@bp.app_template_filter("link_kind")
def link_kind(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


@bp.get("/policies")
def index() -> str:
    level = request.args.get("level", "")
    if level not in LEVELS:
        level = ""
    page = page_number(request.args.get("page"))
    this_year = datetime.now(SHANGHAI).year
    with dependencies().database.session() as session:
        policies, total = list_policies(
            session, level=level, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
        )
        deadlines = upcoming_deadlines(session, this_year)
    return render_template(
        "policies/index.html",
        policies=policies,
        deadlines=deadlines,
        level=level,
        levels=LEVELS,
        this_year=this_year,
        pagination=Pagination(page, PER_PAGE, total),
    )


@bp.get("/policies/<doc_id>")
def policy(doc_id: str) -> str:
    with dependencies().database.session() as session:
        found = policy_page(session, doc_id)
        if found is None:
            abort(404)
        return render_template("policies/policy.html", page=found)


@bp.get("/policies/<doc_id>.atom")
def feed(doc_id: str) -> Response:
    """The policy's links, newest first: a new 解读, implementation, report or repeal."""
    with dependencies().database.session() as session:
        found = policy_page(session, doc_id)
        if found is None:
            abort(404)
        linked = [
            *found.interpretations,
            *found.implementations,
            *found.citing,
            *found.news,
            *found.changes,
        ]
        linked.sort(key=lambda d: (d.link.created_at, d.doc_id), reverse=True)
        linked = linked[:FEED_SIZE]
        updated = linked[0].link.created_at if linked else datetime.now(UTC)
        body = render_template("policies/feed.xml", page=found, linked=linked, updated=updated)
    return Response(body, 200, mimetype="application/atom+xml")
