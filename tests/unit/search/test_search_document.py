"""The one mapping to a searchable document: the indexer's view of a classified document
carries the policy filters, and a stored article maps to exactly the same document."""

from datetime import UTC, datetime

from hitwatch.messages import ClassifiedDocument, PolicyMeta, TopicScore
from hitwatch.search import article_document, search_document
from hitwatch.store import Article
from indexer.store import save_document
from tests.factories import classified_document


def _classified(policy: PolicyMeta | None) -> ClassifiedDocument:
    return classified_document(
        "d1",
        url="https://www.gov.cn/zhengce/1.htm",
        canonical_url="https://www.gov.cn/zhengce/1.htm",
        source_id="gov",
        source_name="中国政府网",
        title="国务院办公厅关于推进电子病历的通知",
        body="正文",
        policy=policy,
        story_id="s1",
    )


def test_policy_issuer_and_number_are_searchable():
    policy = PolicyMeta(issuer="国务院办公厅", doc_number="国办发〔2019〕4号")
    document = search_document(_classified(policy))
    assert (document.issuer, document.doc_number) == ("国务院办公厅", "国办发〔2019〕4号")


def test_articles_without_policy_metadata_have_empty_filters():
    document = search_document(_classified(None))
    assert (document.issuer, document.doc_number) == ("", "")


def test_a_stored_article_is_the_document_the_indexer_indexed(database):
    policy = PolicyMeta(issuer="国务院办公厅", doc_number="国办发〔2019〕4号")
    classified = _classified(policy).model_copy(
        update={
            "published_at": datetime(2024, 7, 2, 8, 0, tzinfo=UTC),
            "doc_type": "政策文件",
            "region": "广东省深圳市",
            "relevant": False,
            "topics": [TopicScore(code="D", name="电子病历与医院信息化评级", score=0.9)],
        }
    )
    with database.session() as session:
        save_document(session, classified)
    with database.session() as session:
        stored = article_document(session.get(Article, "d1"))
    assert stored == search_document(classified)
