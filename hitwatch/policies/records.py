"""Writing a document's policy facts into the store: its policy record and its citations.

Called by the indexer in the same transaction as the article, for every document: a
政策文件 becomes (or stays) a policy; every document's citations replace the ones it
had. A citation keeps its first `created_at` while it stays, so a redelivered or
reclassified document does not show its links as new in the policy's feed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hitwatch.messages import ClassifiedDocument
from hitwatch.policies.citations import Citation, citations_of, forwarded_names
from hitwatch.policies.names import (
    edition_of,
    issuer_level,
    policy_key,
    policy_name,
    vocabulary,
)
from hitwatch.policies.targets import find_targets
from hitwatch.store.models import Policy, PolicyCitation, PolicyName, utcnow

__all__ = [
    "POLICY_TYPE",
    "document_issuer",
    "province_of",
    "record_document",
    "record_documents",
]

POLICY_TYPE = "政策文件"


def document_issuer(title: str, issuer: str) -> str:
    """The issuer the metadata gives, else the title's words before 关于."""
    if issuer.strip():
        return issuer.strip()
    text = unicodedata.normalize("NFKC", title)
    about = text.find("关于")
    return text[:about].strip() if about > 1 else ""


def province_of(issuer: str) -> str:
    """The province (short name: 广东, 北京 ...) an issuer belongs to, or ""."""
    lead = re.split(r"[、,，;；/\s]+", unicodedata.normalize("NFKC", issuer).strip())[0]
    return next((p for p in vocabulary().provinces if lead.startswith(p)), "")


def _body_text(doc: ClassifiedDocument) -> list[tuple[str, str]]:
    fields = [("body", doc.body)]
    fields += [(f"attachment{i}", a.text) for i, a in enumerate(doc.attachments, 1) if a.text]
    return fields


def document_citations(doc: ClassifiedDocument, level: str) -> list[Citation]:
    """Citations of the title, the body and each attachment's text."""
    found: list[Citation] = []
    for index, (field, text) in enumerate(_body_text(doc)):
        for citation in citations_of(
            doc.title if index == 0 else "", text, doc_type=doc.doc_type, level=level
        ):
            if citation.field == "body" and field != "body":
                citation = Citation(**{**citation.__dict__, "field": field})
            found.append(citation)
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for citation in found:
        identity = (citation.field, citation.position, citation.kind)
        if identity not in seen:
            seen.add(identity)
            unique.append(citation)
    return unique


def _written_date(doc: ClassifiedDocument) -> str:
    return doc.policy.written_date if doc.policy else ""


def _policy_fields(doc: ClassifiedDocument, level: str, issuer: str) -> dict[str, object]:
    name = policy_name(doc.title)
    return {
        "story_id": doc.story_id,
        "title": doc.title,
        "name": name,
        "key": policy_key(name)[:255],
        "edition": edition_of(name)[:64],
        "doc_number": (doc.policy.doc_number if doc.policy else "")[:128],
        "issuer": issuer[:256],
        "level": level,
        "province": province_of(issuer),
        "written_date": _written_date(doc)[:10],
        "published_at": doc.published_at,
        "targets": [t.as_dict() for t in find_targets(doc.body)],
    }


def _policy_keys(doc: ClassifiedDocument) -> list[str]:
    keys = {policy_key(policy_name(doc.title))}
    keys |= {policy_key(n) for n in forwarded_names(doc.body)}
    keys.discard("")
    return sorted({key[:255] for key in keys})


def _save_policies(
    session: Session, docs: dict[str, ClassifiedDocument], issuers: dict[str, tuple[str, str]]
) -> None:
    stored = {p.id: p for p in session.scalars(select(Policy).where(Policy.id.in_(list(docs))))}
    for doc_id, doc in docs.items():
        issuer, level = issuers[doc_id]
        fields = _policy_fields(doc, level, issuer)
        policy = stored.get(doc_id)
        if policy is None:
            session.add(Policy(id=doc_id, **fields))
        else:
            for field, value in fields.items():
                setattr(policy, field, value)
    session.flush()
    session.execute(delete(PolicyName).where(PolicyName.policy_id.in_(list(docs))))
    session.add_all(
        PolicyName(policy_id=doc_id, key=key)
        for doc_id, doc in docs.items()
        for key in _policy_keys(doc)
    )


def record_document(
    session: Session, doc: ClassifiedDocument, *, now: datetime | None = None
) -> None:
    """The document's policy record (a 政策文件) and its citations, replacing earlier ones."""
    record_documents(session, [doc], now=now)


def record_documents(
    session: Session, docs: Sequence[ClassifiedDocument], *, now: datetime | None = None
) -> None:
    """`record_document` for a batch (the last of a doc id wins), in a few statements."""
    latest = {doc.doc_id: doc for doc in docs}
    if not latest:
        return
    issuers: dict[str, tuple[str, str]] = {}
    for doc_id, doc in latest.items():
        issuer = document_issuer(doc.title, doc.policy.issuer if doc.policy else "")
        issuers[doc_id] = (issuer, issuer_level(issuer) if doc.doc_type == POLICY_TYPE else "")
    policies = {doc_id: doc for doc_id, doc in latest.items() if doc.doc_type == POLICY_TYPE}
    if len(policies) < len(latest):
        others = [doc_id for doc_id in latest if doc_id not in policies]
        session.execute(delete(Policy).where(Policy.id.in_(others)))
    if policies:
        _save_policies(session, policies, issuers)
    ids = list(latest)
    old = {
        (row.doc_id, row.field, row.position, row.kind, row.key, row.doc_number): row.created_at
        for row in session.execute(
            select(
                PolicyCitation.doc_id,
                PolicyCitation.field,
                PolicyCitation.position,
                PolicyCitation.kind,
                PolicyCitation.key,
                PolicyCitation.doc_number,
                PolicyCitation.created_at,
            ).where(PolicyCitation.doc_id.in_(ids))
        )
    }
    session.execute(delete(PolicyCitation).where(PolicyCitation.doc_id.in_(ids)))
    stamp = now or utcnow()
    for doc_id, doc in latest.items():
        for citation in document_citations(doc, issuers[doc_id][1]):
            identity = (
                doc_id,
                citation.field,
                citation.position,
                citation.kind,
                citation.key[:255],
                citation.doc_number,
            )
            session.add(
                PolicyCitation(
                    doc_id=doc_id,
                    kind=citation.kind,
                    name=citation.name,
                    key=citation.key[:255],
                    doc_number=citation.doc_number[:128],
                    field=citation.field,
                    position=citation.position,
                    cue=citation.cue[:32],
                    quote=citation.quote,
                    created_at=old.get(identity, stamp),
                )
            )
    session.flush()
