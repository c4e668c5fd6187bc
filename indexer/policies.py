"""What the search index must learn about policies when a document is stored: the
document's own status and links, the status of the policies it repeals or revises (or
of which it is a new edition), and, when it is a policy, the links of the documents
that named it before it arrived, so that `status:` and `implements:` find them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hitwatch.messages import ClassifiedDocument
from hitwatch.policies import affected_policies, document_links, document_status, links_to
from hitwatch.search import SearchDocument, article_document, search_document
from hitwatch.store.models import Article

__all__ = ["policy_search_documents"]


def policy_search_documents(session: Session, doc: ClassifiedDocument) -> list[SearchDocument]:
    """The document's searchable view, then each document whose policy fields it changed."""
    documents = [
        search_document(
            doc, document_status(session, doc.doc_id), document_links(session, doc.doc_id)
        )
    ]
    others = set(affected_policies(session, doc.doc_id))
    others |= {link.source_id for link in links_to(session, doc.doc_id)}
    others.discard(doc.doc_id)
    for doc_id in sorted(others):
        article = session.get(Article, doc_id)
        if article is not None:
            documents.append(
                article_document(
                    article, document_status(session, doc_id), document_links(session, doc_id)
                )
            )
    return documents
