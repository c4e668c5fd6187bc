"""What the policy pages show, read from the store: one policy with everything linked to
it, the list of policies, and the table of upcoming deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hitwatch.policies.links import Link, PolicyStatus, links_from, links_to, policy_status
from hitwatch.store.models import Article, Policy

__all__ = [
    "Deadline",
    "LinkedDocument",
    "PolicyPage",
    "list_policies",
    "policy_page",
    "upcoming_deadlines",
]


@dataclass(frozen=True)
class LinkedDocument:
    """A document linked to the policy, with the link's reason."""

    link: Link
    doc_id: str
    title: str
    source_name: str
    url: str
    published_at: datetime | None
    doc_type: str
    issuer: str = ""
    level: str = ""
    province: str = ""
    written_date: str = ""

    @property
    def date(self) -> str:
        if self.written_date:
            return self.written_date
        return self.published_at.date().isoformat() if self.published_at else ""


@dataclass(frozen=True)
class PolicyPage:
    policy: Policy
    article: Article
    status: PolicyStatus
    changed_by: LinkedDocument | None
    interpretations: list[LinkedDocument] = field(default_factory=list)
    implementations: list[LinkedDocument] = field(default_factory=list)
    citing: list[LinkedDocument] = field(default_factory=list)
    news: list[LinkedDocument] = field(default_factory=list)
    changes: list[LinkedDocument] = field(default_factory=list)  # repeals / revises it
    follows: list[LinkedDocument] = field(default_factory=list)  # what this policy links to

    @property
    def targets(self) -> list[dict[str, Any]]:
        return list(self.policy.targets or [])


def _linked(session: Session, links: Sequence[Link], *, outgoing: bool) -> list[LinkedDocument]:
    ids = [link.target_id if outgoing else link.source_id for link in links]
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
    policies = {p.id: p for p in session.scalars(select(Policy).where(Policy.id.in_(ids)))}
    documents = []
    for link, doc_id in zip(links, ids, strict=True):
        article = articles.get(doc_id)
        if article is None:
            continue
        policy = policies.get(doc_id)
        documents.append(
            LinkedDocument(
                link=link,
                doc_id=doc_id,
                title=article.title,
                source_name=article.source_name,
                url=article.url,
                published_at=article.published_at,
                doc_type=article.doc_type,
                issuer=policy.issuer if policy else "",
                level=policy.level if policy else "",
                province=policy.province if policy else "",
                written_date=policy.written_date if policy else "",
            )
        )
    return sorted(documents, key=lambda d: (d.date or "9999", d.doc_id))


def _editions(session: Session, policy: Policy, edition_id: str) -> list[LinkedDocument]:
    article = session.get(Article, edition_id)
    if article is None:
        return []
    link = Link(
        source_id=edition_id,
        target_id=policy.id,
        kind="revises",
        name=policy.name,
        doc_number="",
        field="title",
        position=0,
        cue="新版本",
        quote=article.title,
        created_at=article.indexed_at,
    )
    return _linked(session, [link], outgoing=False)


def policy_page(session: Session, policy_id: str) -> PolicyPage | None:
    """Everything the page of one policy shows, or None when it is not a policy."""
    policy = session.get(Policy, policy_id)
    article = session.get(Article, policy_id)
    if policy is None or article is None:
        return None
    incoming = links_to(session, policy_id)
    status = policy_status(session, policy, incoming)
    linked = _linked(session, incoming, outgoing=False)

    def kind(*kinds: str) -> list[LinkedDocument]:
        return [d for d in linked if d.link.kind in kinds]

    changed_by = next((d for d in linked if d.doc_id == status.changed_by), None)
    if status.changed_by and changed_by is None:  # a new edition: no link, same name
        changed_by = next(iter(_editions(session, policy, status.changed_by)), None)
    implementations = sorted(
        kind("implements"), key=lambda d: (d.province or "~", d.date or "9999", d.doc_id)
    )
    outgoing = links_from(session, [policy_id])
    return PolicyPage(
        policy=policy,
        article=article,
        status=status,
        changed_by=changed_by,
        interpretations=kind("interprets"),
        implementations=implementations,
        citing=kind("cites"),
        news=kind("names"),
        changes=kind("repeals", "revises"),
        follows=_linked(session, outgoing, outgoing=True),
    )


def list_policies(
    session: Session, *, level: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[Policy], int]:
    """Stored policies, newest first, optionally of one level; and how many there are."""
    query = select(Policy)
    counting = select(func.count()).select_from(Policy)
    if level:
        query = query.where(Policy.level == level)
        counting = counting.where(Policy.level == level)
    rows = session.scalars(
        query.order_by(Policy.written_date.desc(), Policy.id).offset(offset).limit(limit)
    )
    return list(rows), int(session.scalar(counting) or 0)


@dataclass(frozen=True)
class Deadline:
    policy_id: str
    title: str
    year: int
    measure: str
    level: str
    sentence: str
    kind: str


def upcoming_deadlines(session: Session, from_year: int, *, limit: int = 100) -> list[Deadline]:
    """Targets and deadlines of every policy for `from_year` or later, soonest first."""
    found = []
    for policy in session.scalars(select(Policy)):
        for target in policy.targets or []:
            if int(target.get("year", 0)) >= from_year:
                found.append(
                    Deadline(
                        policy.id,
                        policy.title,
                        int(target["year"]),
                        str(target.get("measure", "")),
                        str(target.get("level", "")),
                        str(target.get("sentence", "")),
                        str(target.get("kind", "")),
                    )
                )
    return sorted(found, key=lambda d: (d.year, d.title, d.measure))[:limit]
