"""The indexer's searchable view of a classified document carries the policy filters."""

from datetime import UTC, datetime

from hitwatch.messages import ClassifiedDocument, PolicyMeta
from indexer.worker import search_document


def _classified(policy: PolicyMeta | None) -> ClassifiedDocument:
    return ClassifiedDocument(
        doc_id="d1",
        url="https://www.gov.cn/zhengce/1.htm",
        canonical_url="https://www.gov.cn/zhengce/1.htm",
        source_id="gov",
        source_name="中国政府网",
        title="国务院办公厅关于推进电子病历的通知",
        body="正文",
        policy=policy,
        content_hash="h",
        story_id="s1",
        fetched_at=datetime(2024, 7, 1, tzinfo=UTC),
    )


def test_policy_issuer_and_number_are_searchable():
    policy = PolicyMeta(issuer="国务院办公厅", doc_number="国办发〔2019〕4号")
    document = search_document(_classified(policy))
    assert (document.issuer, document.doc_number) == ("国务院办公厅", "国办发〔2019〕4号")


def test_articles_without_policy_metadata_have_empty_filters():
    document = search_document(_classified(None))
    assert (document.issuer, document.doc_number) == ("", "")
