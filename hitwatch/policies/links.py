"""Links between documents and policies, resolved from stored citations when read.

A citation names a policy by key (and maybe 发文字号); it links to the stored policy
that name means, chosen by `choose_target`: the 发文字号 decides when both sides have
one (a different number is a different document), else the edition in force when the
citing document appeared. An *implements* citation becomes a link of that kind only
when the policy sits above the citing document (a province implements a national
policy, a city a national or provincial one); otherwise it *cites*. Resolving on
reading means either side may arrive first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from hitwatch.policies.citations import KINDS
from hitwatch.policies.names import level_rank
from hitwatch.store.models import Article, Policy, PolicyCitation, PolicyName

__all__ = [
    "IN_FORCE",
    "REPEALED",
    "REVISED",
    "Link",
    "PolicyStatus",
    "affected_policies",
    "choose_target",
    "document_links",
    "document_status",
    "links_from",
    "links_to",
    "national_implementations",
    "policy_status",
]


@dataclass(frozen=True)
class Link:
    """One document's link to one policy, with the citation that makes it."""

    source_id: str
    target_id: str
    kind: str
    name: str
    doc_number: str
    field: str
    position: int
    cue: str
    quote: str
    created_at: datetime

    @property
    def reason(self) -> str:
        named = f"《{self.name}》" if self.name else self.doc_number
        if self.doc_number and self.name:
            named += f"（{self.doc_number}）"
        where = {"title": "标题", "body": "正文"}.get(self.field, f"附件{self.field[10:]}")
        cue = f"“{self.cue}”" if self.cue else "提及"
        return f"{where}第{self.position + 1}字：{cue}{named}"


def _date(policy: Policy) -> str:
    if policy.written_date:
        return policy.written_date
    return policy.published_at.date().isoformat() if policy.published_at else ""


def _citing_date(article: Article | None, policy: Policy | None) -> str:
    if policy is not None and _date(policy):
        return _date(policy)
    if article is not None and article.published_at is not None:
        return article.published_at.date().isoformat()
    return ""


def _lead(issuer: str) -> str:
    return issuer.split("、")[0]


def _one_per_story(pool: Sequence[Policy]) -> list[Policy]:
    """Copies of one text (a policy on the portal and on its ministry's site) are one
    document: the copy with the most metadata stands for them."""
    best: dict[str, Policy] = {}
    for policy in sorted(pool, key=lambda p: p.id):
        held = best.get(policy.story_id)
        if held is None or _richness(policy) > _richness(held):
            best[policy.story_id] = policy
    return list(best.values())


def _richness(policy: Policy) -> tuple[bool, bool, int]:
    return (bool(policy.doc_number), bool(policy.issuer), level_rank(policy.level))


def choose_target(
    citation: PolicyCitation,
    candidates: Sequence[Policy],
    citing_date: str,
    citing_province: str = "",
) -> Policy | None:
    """The policy a citation means among those sharing its key or 发文字号, or None."""
    pool = [p for p in candidates if p.id != citation.doc_id]
    if citation.doc_number:
        exact = [p for p in pool if p.doc_number == citation.doc_number]
        # A different 发文字号 is a different document; an unknown one may be it.
        pool = exact or [p for p in pool if not p.doc_number and citation.key]
    pool = _one_per_story(pool)
    if len({_lead(p.issuer) for p in pool}) > 1:
        # Several issuers use the name (每个省的《关于促进…的实施意见》): only the citing
        # document's own province can settle it; otherwise no link rather than a guess.
        pool = [p for p in pool if citing_province and p.province == citing_province]
        if len({_lead(p.issuer) for p in pool}) > 1:
            return None
    if not pool:
        return None
    dated = [p for p in pool if _date(p)]
    if citing_date and dated:
        earlier = [p for p in dated if _date(p) <= citing_date]
        if not earlier:
            return None  # every candidate is later than the citing document
        return max(earlier, key=_date)
    return max(pool, key=lambda p: (_date(p), p.id))


def _candidates(session: Session, citations: Iterable[PolicyCitation]) -> list[Policy]:
    keys = {c.key for c in citations if c.key}
    numbers = {c.doc_number for c in citations if c.doc_number}
    if not keys and not numbers:
        return []
    named = select(PolicyName.policy_id).where(PolicyName.key.in_(keys))
    query = select(Policy).where(or_(Policy.id.in_(named), Policy.doc_number.in_(numbers)))
    return list(session.scalars(query))


def _resolve(session: Session, citations: Sequence[PolicyCitation]) -> list[Link]:
    candidates = _candidates(session, citations)
    if not candidates:
        return []
    # Candidates by name key and by 发文字号: a citation finds its matches by lookup, not
    # by a scan of every candidate (thousands of citations of a much-cited policy).
    by_id = {p.id: p for p in candidates}
    order = {p.id: position for position, p in enumerate(candidates)}
    by_key: dict[str, dict[str, Policy]] = {}
    for row in session.execute(
        select(PolicyName.policy_id, PolicyName.key).where(PolicyName.policy_id.in_(list(by_id)))
    ):
        by_key.setdefault(row.key, {})[row.policy_id] = by_id[row.policy_id]
    by_number: dict[str, dict[str, Policy]] = {}
    for policy in candidates:
        if policy.doc_number:
            by_number.setdefault(policy.doc_number, {})[policy.id] = policy
    source_ids = {c.doc_id for c in citations}
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(source_ids)))}
    policies = {p.id: p for p in session.scalars(select(Policy).where(Policy.id.in_(source_ids)))}
    best: dict[tuple[str, str], Link] = {}
    for citation in citations:
        found = dict(by_key.get(citation.key, {})) if citation.key else {}
        if citation.doc_number:
            found |= by_number.get(citation.doc_number, {})
        # In the candidates' order, as before: the choice among equals stays the same.
        matching = sorted(found.values(), key=lambda p: order[p.id])
        citing_policy = policies.get(citation.doc_id)
        target = choose_target(
            citation,
            matching,
            _citing_date(articles.get(citation.doc_id), citing_policy),
            citing_policy.province if citing_policy else "",
        )
        if target is None:
            continue
        kind = citation.kind
        if kind == "implements":
            own = level_rank(citing_policy.level) if citing_policy else 0
            if not own or level_rank(target.level) <= own:
                kind = "cites"
        link = Link(
            source_id=citation.doc_id,
            target_id=target.id,
            kind=kind,
            name=citation.name,
            doc_number=citation.doc_number,
            field=citation.field,
            position=citation.position,
            cue=citation.cue,
            quote=citation.quote,
            created_at=max(citation.created_at, target.created_at),
        )
        pair = (link.source_id, link.target_id)
        held = best.get(pair)
        if held is None or (KINDS.index(link.kind), link.field != "title", link.position) < (
            KINDS.index(held.kind),
            held.field != "title",
            held.position,
        ):
            best[pair] = link
    return sorted(best.values(), key=lambda link: (link.source_id, KINDS.index(link.kind)))


def links_from(session: Session, doc_ids: Iterable[str]) -> list[Link]:
    """The links these documents make (one per document and policy, the strongest)."""
    citations = list(
        session.scalars(select(PolicyCitation).where(PolicyCitation.doc_id.in_(list(doc_ids))))
    )
    return _resolve(session, citations)


def links_to(session: Session, policy_id: str) -> list[Link]:
    """The links pointing at one policy: its 解读, implementations, citations, news."""
    policy = session.get(Policy, policy_id)
    if policy is None:
        return []
    # The copies of its text (same story) are the same policy: a link may name any.
    copies = list(session.scalars(select(Policy).where(Policy.story_id == policy.story_id)))
    members = {p.id for p in copies} | {policy_id}
    keys = list(session.scalars(select(PolicyName.key).where(PolicyName.policy_id.in_(members))))
    numbers = {p.doc_number for p in copies if p.doc_number}
    conditions: list[ColumnElement[bool]] = [PolicyCitation.key.in_(keys)] if keys else []
    if numbers:
        conditions.append(PolicyCitation.doc_number.in_(numbers))
    if not conditions:
        return []
    # Only citations by one of its names or 发文字号 can resolve to it (a citation matches
    # the policies sharing its key or number), so the citing documents' other citations
    # are not resolved: a much-cited policy has thousands.
    citations = list(session.scalars(select(PolicyCitation).where(or_(*conditions))))
    return [
        link
        for link in _resolve(session, citations)
        if link.target_id in members and link.source_id not in members
    ]


@dataclass(frozen=True)
class PolicyStatus:
    status: str  # 现行有效 | 已修订 | 已废止
    changed_by: str  # the article that changed it ("" while in force)
    reason: str


IN_FORCE = "现行有效"
REVISED = "已修订"
REPEALED = "已废止"


def policy_status(
    session: Session, policy: Policy, links: Sequence[Link] | None = None
) -> PolicyStatus:
    """In force until a later document repeals or revises it, or a later edition of the
    same name from the same issuer appears."""
    incoming = links if links is not None else links_to(session, policy.id)
    for kind, status in (("repeals", REPEALED), ("revises", REVISED)):
        for link in incoming:
            if link.kind == kind:
                return PolicyStatus(status, link.source_id, link.reason)
    lead = policy.issuer.split("、")[0]
    newer = [
        other
        for other in session.scalars(
            select(Policy).where(Policy.key == policy.key, Policy.id != policy.id)
        )
        if other.issuer.split("、")[0] == lead and _date(other) > _date(policy) and _date(policy)
    ]
    if newer:
        latest = min(newer, key=_date)
        edition = f"（{latest.edition}）" if latest.edition else ""
        return PolicyStatus(REVISED, latest.id, f"新版本{edition}{_date(latest)}发布")
    return PolicyStatus(IN_FORCE, "", "")


def document_status(session: Session, doc_id: str) -> str:
    """The status of a stored document that is a policy, "" for any other document."""
    policy = session.get(Policy, doc_id)
    return policy_status(session, policy).status if policy is not None else ""


def affected_policies(session: Session, doc_id: str) -> list[str]:
    """The other policies whose status this document may change: those it repeals or
    revises, and the other editions of its name from its issuer."""
    targets = {
        link.target_id
        for link in links_from(session, [doc_id])
        if link.kind in ("repeals", "revises")
    }
    policy = session.get(Policy, doc_id)
    if policy is not None and policy.key:
        lead = _lead(policy.issuer)
        targets |= {
            other.id
            for other in session.scalars(
                select(Policy).where(Policy.key == policy.key, Policy.id != doc_id)
            )
            if _lead(other.issuer) == lead
        }
    return sorted(targets)


SEARCH_KINDS = ("implements", "interprets")


def document_links(session: Session, doc_id: str) -> tuple[str, ...]:
    """The document's links as the search index keeps them: "implements:<id>" and
    "interprets:<id>" for those kinds, and "cites:<id>" for every policy it names."""
    found = set()
    for link in links_from(session, [doc_id]):
        found.add(f"cites:{link.target_id}")
        if link.kind in SEARCH_KINDS:
            found.add(f"{link.kind}:{link.target_id}")
    return tuple(sorted(found))


def national_implementations(session: Session, doc_ids: Iterable[str]) -> dict[str, str]:
    """doc id -> title of the national policy it implements, for those that implement one."""
    found: dict[str, str] = {}
    links = [link for link in links_from(session, doc_ids) if link.kind == "implements"]
    targets = {
        p.id: p
        for p in session.scalars(
            select(Policy).where(Policy.id.in_({link.target_id for link in links}))
        )
    }
    for link in links:
        target = targets.get(link.target_id)
        if target is not None and target.level == "national" and link.source_id not in found:
            found[link.source_id] = target.title
    return found
