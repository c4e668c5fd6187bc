"""Reads of the store of record used by the pages and the API (the web app never writes
articles; only the failure pages mark a failure replayed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hitwatch.store import Article, Failure, Source, Story

__all__ = [
    "article_by_id",
    "count_articles",
    "count_failures",
    "latest_articles",
    "list_failures",
    "list_sources",
    "source_choices",
    "story_copies",
    "story_members",
    "story_sizes",
]


def latest_articles(
    session: Session, *, offset: int, limit: int, relevant_only: bool
) -> tuple[Sequence[Article], int]:
    """Articles newest first (undated last), and how many there are in all."""
    query = select(Article)
    if relevant_only:
        query = query.where(Article.relevant.is_(True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(
            Article.published_at.desc().nulls_last(), Article.indexed_at.desc(), Article.id
        )
        .offset(offset)
        .limit(limit)
    ).all()
    return rows, total


def count_articles(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Article)) or 0


def article_by_id(session: Session, doc_id: str) -> Article | None:
    return session.get(Article, doc_id)


def story_members(session: Session, article: Article) -> Sequence[Article]:
    """The other copies of the same text (reprints, mirrors), oldest first."""
    return session.scalars(
        select(Article)
        .where(Article.story_id == article.story_id, Article.id != article.id)
        .order_by(Article.published_at.asc().nulls_last(), Article.id)
    ).all()


def first_copy(articles: Iterable[Article]) -> str:
    """The doc id of the copy published first (首发) among a story's articles; "" when
    fewer than two carry a date or two share the earliest one (nobody can say)."""
    dated = sorted((a.published_at, a.id) for a in articles if a.published_at is not None)
    if len(dated) < 2 or dated[0][0] == dated[1][0]:
        return ""
    return dated[0][1]


def story_sizes(session: Session, story_ids: Iterable[str]) -> dict[str, int]:
    """story id -> number of articles in it, for the "N 篇报道" badges."""
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    rows = session.execute(select(Story.id, Story.doc_count).where(Story.id.in_(ids))).all()
    return {story_id: count for story_id, count in rows}


def story_copies(session: Session, story_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """story id -> (doc id, source name) of its articles, oldest first, for the expandable
    "N 篇报道" of collapsed search results."""
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Article.story_id, Article.id, Article.source_name)
        .where(Article.story_id.in_(ids))
        .order_by(Article.published_at.asc().nulls_last(), Article.id)
    ).all()
    copies: dict[str, list[tuple[str, str]]] = {}
    for story_id, doc_id, source_name in rows:
        copies.setdefault(story_id, []).append((doc_id, source_name))
    return copies


def source_choices(session: Session) -> list[tuple[str, str]]:
    """(source id, display name) of every source that has articles or a definition."""
    names: dict[str, str] = {}
    for source_id, name in session.execute(select(Source.id, Source.name)).all():
        names[source_id] = name
    for source_id, name in session.execute(
        select(Article.source_id, func.max(Article.source_name)).group_by(Article.source_id)
    ).all():
        names.setdefault(source_id, name)
    return sorted(names.items(), key=lambda item: item[1])


def list_sources(session: Session) -> Sequence[Source]:
    """Broken sources first (they need attention), then new, then healthy, by name."""
    rank = {"broken": 0, "new": 1, "ok": 2}
    rows = session.scalars(select(Source)).all()
    return sorted(rows, key=lambda source: (rank.get(source.state, 0), source.name))


def _failures_query(include_resolved: bool) -> Select[Failure]:
    query = select(Failure)
    if not include_resolved:
        query = query.where(Failure.resolved.is_(False))
    return query


def count_failures(session: Session, *, include_resolved: bool) -> int:
    query = _failures_query(include_resolved)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def list_failures(
    session: Session, *, include_resolved: bool, offset: int, limit: int
) -> Sequence[Failure]:
    """Failures newest first."""
    query = _failures_query(include_resolved).order_by(Failure.id.desc())
    return session.scalars(query.offset(offset).limit(limit)).all()
