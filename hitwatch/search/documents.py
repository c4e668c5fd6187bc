"""What a searchable document holds, from either side of the store of record.

The indexer maps each classified document (`index` queue) with `search_document`; the
notifier and the CLI map a stored article with `article_document`. Both live here so a
field the search language filters by (topics, region, issuer, docno ...) is filled the
same way for the index and for alert matching.
"""

from __future__ import annotations

from hitwatch.messages import ClassifiedDocument
from hitwatch.search.base import SearchDocument
from hitwatch.store.models import Article

__all__ = ["article_document", "search_document"]


def search_document(
    doc: ClassifiedDocument, status: str = "", links: tuple[str, ...] = ()
) -> SearchDocument:
    """The searchable view of a classified document, as the indexer indexes it; `status`
    is a policy's validity, which the store of record knows (`hitwatch.policies`)."""
    return SearchDocument(
        doc_id=doc.doc_id,
        story_id=doc.story_id,
        url=doc.url,
        title=doc.title,
        body=doc.body,
        source_id=doc.source_id,
        source_name=doc.source_name,
        published_at=doc.published_at,
        doc_type=doc.doc_type,
        topics=tuple(t.code for t in doc.topics),
        region=doc.region,
        relevant=doc.relevant,
        issuer=doc.policy.issuer if doc.policy else "",
        doc_number=doc.policy.doc_number if doc.policy else "",
        status=status,
        links=links,
    )


def article_document(
    article: Article, status: str = "", links: tuple[str, ...] = ()
) -> SearchDocument:
    """The searchable view of a stored article: what `search_document` gave the index."""
    policy = article.policy or {}
    return SearchDocument(
        doc_id=article.id,
        story_id=article.story_id,
        url=article.url,
        title=article.title,
        body=article.body,
        source_id=article.source_id,
        source_name=article.source_name,
        published_at=article.published_at,
        doc_type=article.doc_type,
        topics=tuple(
            str(topic["code"]) for topic in article.topics or () if isinstance(topic, dict)
        ),
        region=article.region,
        relevant=article.relevant,
        issuer=str(policy.get("issuer", "")),
        doc_number=str(policy.get("doc_number", "")),
        status=status,
        links=links,
    )
