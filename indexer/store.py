"""Writing a classified document into the store of record: idempotent upserts by doc_id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hitwatch.messages import ClassifiedDocument
from hitwatch.policies import record_documents
from hitwatch.store.models import Article, Story, utcnow

__all__ = ["StoreOutcome", "save_document", "save_documents"]

_KIND_RANK = {"government": 0, "media": 1, "aggregator": 2}


@dataclass(frozen=True)
class StoreOutcome:
    """What the store now holds for a document; the same for a redelivered message."""

    new_story: bool  # the story holds this document only
    updated: bool  # a known URL came back with new content at least once
    version: int


def _article_fields(doc: ClassifiedDocument) -> dict[str, object]:
    return {
        "story_id": doc.story_id,
        "url": doc.url,
        "canonical_url": doc.canonical_url,
        "source_id": doc.source_id,
        "source_name": doc.source_name,
        "source_kind": doc.source_kind,
        "origin_name": doc.origin_name,
        "title": doc.title,
        "published_at": doc.published_at,
        "author": doc.author,
        "body": doc.body,
        "attachments": [a.model_dump() for a in doc.attachments],
        "policy": doc.policy.model_dump() if doc.policy else None,
        "content_hash": doc.content_hash,
        "relevant": doc.relevant,
        "relevance": doc.relevance,
        "topics": [t.model_dump() for t in doc.topics],
        "doc_type": doc.doc_type,
        "region": doc.region,
        "entities": doc.entities,
        "evidence": doc.evidence,
        "fetched_at": doc.fetched_at,
    }


def _prefer(candidate: Article, current: Article | None) -> bool:
    """Is `candidate` a better canonical member than `current`? Authority, then earliest."""
    if current is None:
        return True
    rank = (_KIND_RANK.get(candidate.source_kind, 9), candidate.published_at or utcnow())
    best = (_KIND_RANK.get(current.source_kind, 9), current.published_at or utcnow())
    return rank < best


def _refresh_story(session: Session, story: Story) -> None:
    members = session.query(Article).filter(Article.story_id == story.id).all()
    canonical = None
    for member in members:
        if _prefer(member, canonical):
            canonical = member
    if canonical is None:
        return
    story.canonical_doc_id = canonical.id
    story.title = canonical.title
    story.source_name = canonical.source_name
    story.published_at = canonical.published_at
    story.relevant = canonical.relevant
    story.doc_count = len(members)


# What `hitwatch reclassify` replaces in a stored article: the classification alone.
_CLASSIFICATION = (
    "relevant",
    "relevance",
    "topics",
    "doc_type",
    "region",
    "entities",
    "evidence",
    "policy",
)


def save_documents(session: Session, docs: Sequence[ClassifiedDocument]) -> list[StoreOutcome]:
    """`save_document` for a batch, in order. The batch's known articles and stories are
    loaded in two queries and its new stories inserted in one statement first: a flush
    per new story cost more than the rest of the write."""
    articles = {
        article.id: article
        for article in session.scalars(
            select(Article).where(Article.id.in_({doc.doc_id for doc in docs}))
        )
    }
    stories = {
        story.id: story
        for story in session.scalars(
            select(Story).where(Story.id.in_({doc.story_id for doc in docs}))
        )
    }
    # Story id -> the document whose story it is made for (its first in the batch).
    made_for: dict[str, str] = {}
    for doc in docs:
        if doc.story_id not in stories:
            stories[doc.story_id] = _new_story(doc)
            made_for[doc.story_id] = doc.doc_id
    if made_for:
        session.add_all(stories[story_id] for story_id in made_for)
        session.flush()
    outcomes = []
    changed = []
    for doc in docs:
        story = stories[doc.story_id]
        is_new = made_for.get(doc.story_id) == doc.doc_id
        outcome, article, recorded = _save(
            session, doc, articles.get(doc.doc_id), None if is_new else story, story
        )
        articles[doc.doc_id] = article
        made_for.pop(doc.story_id, None)  # later documents of the batch join it
        outcomes.append(outcome)
        if recorded:
            changed.append(doc)
    record_documents(session, changed)
    return outcomes


def save_document(session: Session, doc: ClassifiedDocument) -> StoreOutcome:
    """Insert or update the article and its story; a repeated delivery changes nothing.

    A reclassified document (same text, new classification) replaces the classification
    of the stored article without a new version: it is neither new nor updated news.
    """
    return save_documents(session, [doc])[0]


def _new_story(doc: ClassifiedDocument) -> Story:
    return Story(
        id=doc.story_id,
        canonical_doc_id=doc.doc_id,
        title=doc.title,
        source_name=doc.source_name,
        published_at=doc.published_at,
        relevant=doc.relevant,
        doc_count=1,
    )


def _save(
    session: Session,
    doc: ClassifiedDocument,
    article: Article | None,
    story: Story | None,
    new_story: Story,
) -> tuple[StoreOutcome, Article, bool]:
    """The article and its story written (`story`: the stored one, None when
    `new_story` was made for this document); and whether its policy facts are to be
    recorded (`record_documents`, once for a batch)."""
    if doc.reclassified and article is not None and story is not None:
        fields = _article_fields(doc)
        for name in _CLASSIFICATION:
            setattr(article, name, fields[name])
        session.flush()
        _refresh_story(session, story)
        outcome = StoreOutcome(new_story=False, updated=False, version=article.version)
        return outcome, article, True
    if (
        article is not None
        and story is not None
        and article.content_hash == doc.content_hash
        and article.story_id == doc.story_id
    ):
        return _outcome(story, article), article, False

    previous_story_id = article.story_id if article is not None else None
    if article is None:
        article = Article(id=doc.doc_id, version=1, **_article_fields(doc))
        session.add(article)
    else:
        for field, value in _article_fields(doc).items():
            setattr(article, field, value)
        article.version += 1
    if story is None:
        # A story made just now has this article as its only member: no query needed.
        story = new_story
    else:
        session.flush()
        _refresh_story(session, story)
    if previous_story_id and previous_story_id != story.id:
        old = session.get(Story, previous_story_id)
        if old is not None:
            session.flush()
            _refresh_story(session, old)
    return _outcome(story, article), article, True


def _outcome(story: Story, article: Article) -> StoreOutcome:
    return StoreOutcome(
        new_story=story.doc_count == 1, updated=article.version > 1, version=article.version
    )
