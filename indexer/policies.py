"""What the search index must learn about policies when a document is stored: the
document's own status, and the status of the policies it repeals or revises (or of
which it is a new edition), so that `status:现行有效` finds what is in force."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hitwatch.messages import ClassifiedDocument
from hitwatch.policies import affected_policies, document_status
from hitwatch.search import SearchDocument, article_document, search_document
from hitwatch.store.models import Article

__all__ = ["policy_search_documents"]


def policy_search_documents(session: Session, doc: ClassifiedDocument) -> list[SearchDocument]:
    """The document's searchable view with its status, then each policy it changed."""
    documents = [search_document(doc, document_status(session, doc.doc_id))]
    for policy_id in affected_policies(session, doc.doc_id):
        article = session.get(Article, policy_id)
        if article is not None:
            documents.append(article_document(article, document_status(session, policy_id)))
    return documents
