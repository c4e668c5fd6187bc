"""Latest items (the home page) and the item view."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from hitwatch.policies import links_from
from hitwatch.store.models import Policy
from hitwatch.topics import topic_names
from webapp import queries
from webapp.dependencies import dependencies
from webapp.display import SOURCE_KINDS, plain_value
from webapp.pagination import Pagination, page_number

__all__ = ["PER_PAGE", "bp"]

bp = Blueprint("browse", __name__)

PER_PAGE = 20

# PolicyMeta field -> label of the 信息公开 table it comes from, in the table's order.
POLICY_LABELS: tuple[tuple[str, str], ...] = (
    ("index_number", "索引号"),
    ("topic", "主题分类"),
    ("issuer", "发文机关"),
    ("written_date", "成文日期"),
    ("doc_number", "发文字号"),
    ("publish_date", "发布日期"),
)

# Evidence buckets that are not topics (topic codes are shown by their taxonomy names).
EVIDENCE_LABELS = {"domain": "相关性（领域词）", "offtopic": "无关领域词"}


@bp.get("/")
def index() -> str:
    show_all = request.args.get("all") == "1"
    page = page_number(request.args.get("page"))
    with dependencies().database.session() as session:
        articles, total = queries.latest_articles(
            session, offset=(page - 1) * PER_PAGE, limit=PER_PAGE, relevant_only=not show_all
        )
        sizes = queries.story_sizes(session, (a.story_id for a in articles))
    return render_template(
        "browse/index.html",
        articles=articles,
        sizes=sizes,
        pagination=Pagination(page, PER_PAGE, total),
        show_all=show_all,
    )


@bp.get("/items/<doc_id>")
def item(doc_id: str) -> str:
    with dependencies().database.session() as session:
        article = queries.article_by_id(session, doc_id)
        if article is None:
            abort(404)
        siblings = queries.story_members(session, article)
        is_policy = session.get(Policy, doc_id) is not None
        policy_links = [
            (link, session.get(Policy, link.target_id)) for link in links_from(session, [doc_id])
        ]
    first_id = queries.first_copy([article, *siblings]) if siblings else ""
    policy = article.policy or {}
    policy_rows = [(label, policy[key]) for key, label in POLICY_LABELS if policy.get(key)]
    names = topic_names()
    evidence = [
        (EVIDENCE_LABELS.get(str(key)) or names.get(str(key), str(key)), plain_value(value))
        for key, value in (article.evidence or {}).items()
    ]
    topics = sorted(article.topics or [], key=lambda t: -float(t.get("score", 0)))
    return render_template(
        "browse/item.html",
        article=article,
        siblings=siblings,
        first_id=first_id,
        policy_rows=policy_rows,
        is_policy=is_policy,
        policy_links=policy_links,
        evidence=evidence,
        source_kind=SOURCE_KINDS.get(article.source_kind, article.source_kind),
        topics=topics,
        strongest=max((float(t.get("score", 0)) for t in topics), default=0.0) or 1.0,
    )
