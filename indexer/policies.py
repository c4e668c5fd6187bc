"""What the search index must learn about policies when a batch is stored: each
document's own status and links, the status of the policies they repeal or revise (or
of which they are a new edition), and, for a new policy, the links of the documents
that named it before it arrived, so that `status:` and `implements:` find them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from hitwatch.messages import ClassifiedDocument
from hitwatch.policies import affected_policies, policy_views, relinked_documents
from hitwatch.search import SearchDocument, article_document, search_document
from hitwatch.store.models import Article

__all__ = ["policy_search_documents"]


def policy_search_documents(
    session: Session, docs: Sequence[ClassifiedDocument]
) -> list[SearchDocument]:
    """Each document's searchable view (the last of a doc id wins), then each stored
    document whose policy side the batch changed; the views in a few queries per batch."""
    latest = {doc.doc_id: doc for doc in docs}
    others = affected_policies(session, latest) | relinked_documents(session, latest)
    views = policy_views(session, [*latest, *others])
    documents = [
        search_document(doc, views[doc_id].status, views[doc_id].links)
        for doc_id, doc in latest.items()
    ]
    changed = select(Article).where(Article.id.in_(others)).order_by(Article.id)
    for article in session.scalars(changed):
        view = views[article.id]
        documents.append(article_document(article, view.status, view.links))
    return documents
