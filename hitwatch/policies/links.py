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

from collections.abc import Collection, Iterable, Sequence
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
    "PolicyView",
    "affected_policies",
    "choose_target",
    "links_from",
    "links_to",
    "national_implementations",
    "policy_status",
    "policy_statuses",
    "policy_views",
    "relinked_documents",
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


def _citing_date(published_at: datetime | None, policy: Policy | None) -> str:
    if policy is not None and _date(policy):
        return _date(policy)
    return published_at.date().isoformat() if published_at is not None else ""


def _lead(issuer: str) -> str:
    return issuer.split("、")[0]


def _one_per_story(pool: Sequence[Policy]) -> list[Policy]:
    """Copies of one text (a policy on the portal and on its ministry's site) are one
    document: the copy with the most metadata stands for them, the first stored among
    equals (so a later, no richer copy changes no document's links)."""
    best: dict[str, Policy] = {}
    for policy in sorted(pool, key=lambda p: (p.created_at, p.id)):
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


def _candidates(
    session: Session, citations: Iterable[PolicyCitation], without: Collection[str]
) -> list[Policy]:
    keys = {c.key for c in citations if c.key}
    numbers = {c.doc_number for c in citations if c.doc_number}
    if not keys and not numbers:
        return []
    named = select(PolicyName.policy_id).where(PolicyName.key.in_(keys))
    query = select(Policy).where(or_(Policy.id.in_(named), Policy.doc_number.in_(numbers)))
    return [p for p in session.scalars(query) if p.id not in without]


def _resolve(
    session: Session, citations: Sequence[PolicyCitation], without: Collection[str] = ()
) -> list[Link]:
    """The links these citations make; `without`: policies left out as if not stored."""
    candidates = _candidates(session, citations, without)
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
    # The citing documents' dates only: thousands of articles cite a much-cited policy.
    published = {
        row.id: row.published_at
        for row in session.execute(
            select(Article.id, Article.published_at).where(Article.id.in_(source_ids))
        )
    }
    policies = {p.id: p for p in session.scalars(select(Policy).where(Policy.id.in_(source_ids)))}
    # Thousands of citations of one policy share their matches and mostly their dates:
    # each (name, 发文字号, date, province) is chosen once.
    matches: dict[tuple[str, str], tuple[list[Policy], set[str]]] = {}
    chosen: dict[tuple[str, str, str, str], Policy | None] = {}
    best: dict[tuple[str, str], Link] = {}
    for citation in citations:
        named = (citation.key, citation.doc_number)
        if named not in matches:
            found = dict(by_key.get(citation.key, {})) if citation.key else {}
            if citation.doc_number:
                found |= by_number.get(citation.doc_number, {})
            # In the candidates' order, as before: the choice among equals stays the same.
            matches[named] = (sorted(found.values(), key=lambda p: order[p.id]), set(found))
        matching, matching_ids = matches[named]
        citing_policy = policies.get(citation.doc_id)
        citing_date = _citing_date(published.get(citation.doc_id), citing_policy)
        province = citing_policy.province if citing_policy else ""
        choice = (*named, citing_date, province)
        if citation.doc_id in matching_ids:  # a policy naming itself
            target = choose_target(citation, matching, citing_date, province)
        elif choice in chosen:
            target = chosen[choice]
        else:
            target = chosen[choice] = choose_target(citation, matching, citing_date, province)
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


@dataclass(frozen=True)
class _Named:
    """Policies with the copies of their texts, and the citations that name any of them."""

    members: dict[str, set[str]]  # policy id -> the ids of its text's copies (same story)
    citations: list[PolicyCitation]

    def incoming(self, links: Iterable[Link]) -> dict[str, list[Link]]:
        """Each policy's links from documents other than its copies."""
        owners: dict[str, list[str]] = {}
        for policy_id, members in self.members.items():
            for member in members:
                owners.setdefault(member, []).append(policy_id)
        found: dict[str, list[Link]] = {policy_id: [] for policy_id in self.members}
        for link in links:
            for policy_id in owners.get(link.target_id, ()):
                if link.source_id not in self.members[policy_id]:
                    found[policy_id].append(link)
        return found


def _citations_naming(
    session: Session, policy_ids: Collection[str], kinds: Collection[str] = ()
) -> list[PolicyCitation]:
    """The citations that name these policies by one of their names or 发文字号: the only
    ones that can resolve to them (a citation matches the policies sharing its key or
    number), so the citing documents' other citations need no resolving."""
    keys = set(session.scalars(select(PolicyName.key).where(PolicyName.policy_id.in_(policy_ids))))
    numbers = set(
        session.scalars(
            select(Policy.doc_number).where(Policy.id.in_(policy_ids), Policy.doc_number != "")
        )
    )
    conditions: list[ColumnElement[bool]] = [PolicyCitation.key.in_(keys)] if keys else []
    if numbers:
        conditions.append(PolicyCitation.doc_number.in_(numbers))
    if not conditions:
        return []
    query = select(PolicyCitation).where(or_(*conditions))
    if kinds:
        query = query.where(PolicyCitation.kind.in_(kinds))
    return list(session.scalars(query))


def _named(session: Session, policy_ids: Iterable[str], kinds: Collection[str] = ()) -> _Named:
    policies = list(session.scalars(select(Policy).where(Policy.id.in_(list(policy_ids)))))
    # The copies of its text (same story) are the same policy: a link may name any.
    stories: dict[str, set[str]] = {}
    for copy in session.scalars(
        select(Policy).where(Policy.story_id.in_({p.story_id for p in policies}))
    ):
        stories.setdefault(copy.story_id, set()).add(copy.id)
    members = {p.id: stories.get(p.story_id, set()) | {p.id} for p in policies}
    every = set().union(*members.values()) if members else set()
    return _Named(members, _citations_naming(session, every, kinds))


def links_to(session: Session, policy_id: str) -> list[Link]:
    """The links pointing at one policy: its 解读, implementations, citations, news."""
    named = _named(session, [policy_id])
    return named.incoming(_resolve(session, named.citations)).get(policy_id, [])


def _shadowed(session: Session, doc_ids: Collection[str]) -> dict[str, set[str]]:
    """Policy id -> the other stored copies of its text, for each of these policies that
    an earlier copy stands for in every choice: same 发文字号, all its names, as rich."""
    policies = list(session.scalars(select(Policy).where(Policy.id.in_(list(doc_ids)))))
    copies: dict[str, list[Policy]] = {}
    for copy in session.scalars(
        select(Policy).where(Policy.story_id.in_({p.story_id for p in policies}))
    ):
        copies.setdefault(copy.story_id, []).append(copy)
    names: dict[str, set[str]] = {}
    every = {copy.id for story in copies.values() for copy in story}
    for row in session.execute(
        select(PolicyName.policy_id, PolicyName.key).where(PolicyName.policy_id.in_(every))
    ):
        names.setdefault(row.policy_id, set()).add(row.key)
    shadowed = {}
    for policy in policies:
        others = [c for c in copies.get(policy.story_id, []) if c.id != policy.id]
        if any(
            other.id not in doc_ids
            and (other.created_at, other.id) < (policy.created_at, policy.id)
            and other.doc_number == policy.doc_number
            and names.get(other.id, set()) >= names.get(policy.id, set())
            and _richness(other) >= _richness(policy)
            for other in others
        ):
            shadowed[policy.id] = {other.id for other in others}
    return shadowed


def relinked_documents(session: Session, doc_ids: Collection[str]) -> set[str]:
    """The stored documents whose links these just stored documents changed: the
    citations that name them, resolved with them and as before they arrived.

    A later copy of a policy that an earlier copy stands for (`_one_per_story`) is passed
    over by every choice, so it changes no link: the thousands of documents citing a
    much-cited policy are not resolved again for each reprint. Only its own copies may
    resolve a citation of their name to it; they are re-indexed."""
    shadowed = _shadowed(session, doc_ids)
    arrived = set(doc_ids) - set(shadowed)
    changed = set().union(*shadowed.values()) if shadowed else set()
    # Only a citation that may resolve to one of them can resolve differently without them.
    citations = _citations_naming(session, arrived)
    if citations:

        def links(without: Collection[str]) -> set[tuple[str, str, str]]:
            return {
                (link.source_id, link.target_id, link.kind)
                for link in _resolve(session, citations, without)
            }

        changed |= {source for source, _, _ in links(()) ^ links(arrived)}
    return changed - set(doc_ids)


@dataclass(frozen=True)
class PolicyStatus:
    status: str  # 现行有效 | 已修订 | 已废止
    changed_by: str  # the article that changed it ("" while in force)
    reason: str


IN_FORCE = "现行有效"
REVISED = "已修订"
REPEALED = "已废止"
_CHANGES = ("repeals", "revises")


def _status(policy: Policy, incoming: Sequence[Link], same_key: Iterable[Policy]) -> PolicyStatus:
    for kind, status in zip(_CHANGES, (REPEALED, REVISED), strict=True):
        for link in incoming:
            if link.kind == kind:
                return PolicyStatus(status, link.source_id, link.reason)
    lead = _lead(policy.issuer)
    newer = [
        other
        for other in same_key
        if other.id != policy.id
        and _lead(other.issuer) == lead
        and _date(other) > _date(policy)
        and _date(policy)
    ]
    if newer:
        latest = min(newer, key=_date)
        edition = f"（{latest.edition}）" if latest.edition else ""
        return PolicyStatus(REVISED, latest.id, f"新版本{edition}{_date(latest)}发布")
    return PolicyStatus(IN_FORCE, "", "")


def policy_status(session: Session, policy: Policy, links: Sequence[Link]) -> PolicyStatus:
    """In force until a later document repeals or revises it (`links`: those pointing at
    it), or a later edition of the same name from the same issuer appears."""
    same_key = session.scalars(select(Policy).where(Policy.key == policy.key))
    return _status(policy, links, same_key)


def policy_statuses(session: Session, policies: Sequence[Policy]) -> dict[str, PolicyStatus]:
    """`policy_status` of many policies, in a few queries whatever their number."""
    if not policies:
        return {}
    # A link's strongest kind is kept per pair and repeals / revises come first, so
    # resolving only those citations finds the same changes.
    named = _named(session, [p.id for p in policies], _CHANGES)
    incoming = named.incoming(_resolve(session, named.citations))
    same_key: dict[str, list[Policy]] = {}
    for other in session.scalars(select(Policy).where(Policy.key.in_({p.key for p in policies}))):
        same_key.setdefault(other.key, []).append(other)
    return {p.id: _status(p, incoming.get(p.id, []), same_key.get(p.key, [])) for p in policies}


def affected_policies(session: Session, doc_ids: Collection[str]) -> set[str]:
    """The other policies whose status these documents may change: those they repeal or
    revise, and the other editions of their names from their issuers."""
    targets = {link.target_id for link in links_from(session, doc_ids) if link.kind in _CHANGES}
    policies = list(session.scalars(select(Policy).where(Policy.id.in_(list(doc_ids)))))
    leads = {(p.key, _lead(p.issuer)) for p in policies if p.key}
    if leads:
        targets |= {
            other.id
            for other in session.scalars(
                select(Policy).where(Policy.key.in_({key for key, _ in leads}))
            )
            if (other.key, _lead(other.issuer)) in leads
        }
    return targets - set(doc_ids)


SEARCH_KINDS = ("implements", "interprets")


@dataclass(frozen=True)
class PolicyView:
    """What the search index keeps of a document's policy side: its status when it is a
    policy ("" otherwise), and "implements:<id>" / "interprets:<id>" for those kinds of
    link and "cites:<id>" for every policy it names."""

    status: str = ""
    links: tuple[str, ...] = ()


def policy_views(session: Session, doc_ids: Iterable[str]) -> dict[str, PolicyView]:
    """The policy view of each stored document, in a few queries whatever their number."""
    ids = set(doc_ids)
    found: dict[str, set[str]] = {doc_id: set() for doc_id in ids}
    for link in links_from(session, ids):
        found[link.source_id].add(f"cites:{link.target_id}")
        if link.kind in SEARCH_KINDS:
            found[link.source_id].add(f"{link.kind}:{link.target_id}")
    policies = list(session.scalars(select(Policy).where(Policy.id.in_(ids))))
    statuses = policy_statuses(session, policies)
    return {
        doc_id: PolicyView(
            statuses[doc_id].status if doc_id in statuses else "", tuple(sorted(links))
        )
        for doc_id, links in found.items()
    }


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
