"""The optional digest section of the period's local implementations of national policies."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hitwatch.digest.workflow import build_draft, issue_digest, publish_issue
from hitwatch.settings import Settings
from hitwatch.store import Database
from indexer.store import save_document
from tests.factories import classified_document

NATIONAL = "国务院办公厅关于进一步推进全民健康信息平台建设的指导意见"
SECTIONS = "各地落实=国家政策落实;政策动态=政策文件,政策解读;行业动态=*"


def _store(database: Database) -> None:
    documents = [
        classified_document(
            "nat",
            title=NATIONAL,
            body="现就进一步推进全民健康信息平台建设提出以下意见。",
            doc_type="政策文件",
            published_at=datetime(2024, 7, 2, tzinfo=UTC),
            policy={"issuer": "国务院办公厅", "doc_number": "国办发〔2024〕31号"},
        ),
        classified_document(
            "gd",
            title="广东省卫生健康委员会关于推进全民健康信息平台建设的实施方案",
            body=f"为贯彻落实《{NATIONAL}》精神，结合我省实际，制定本方案。",
            doc_type="政策文件",
            published_at=datetime(2024, 7, 18, tzinfo=UTC),
            policy={"issuer": "广东省卫生健康委员会"},
        ),
        classified_document(
            "news",
            title="全民健康信息平台建设提速",
            body="各地医院加快对接区域全民健康信息平台。",
            doc_type="新闻报道",
            published_at=datetime(2024, 7, 20, tzinfo=UTC),
        ),
    ]
    with database.session() as session:
        for document in documents:
            save_document(session, document)


def test_the_months_implementations_get_their_own_section(
    settings: Settings, database: Database
) -> None:
    _store(database)
    settings = settings.model_copy(update={"digest_sections": SECTIONS})
    with database.session() as session:
        issue = build_draft(session, settings, date(2024, 7, 1), date(2024, 7, 31))
        digest = issue_digest(session, issue, settings)
        assert [(item.section, item.doc_id) for item in digest.items] == [
            ("各地落实", "gd"),
            ("政策动态", "nat"),
            ("行业动态", "news"),
        ]
        assert digest.items[0].implements == NATIONAL
        publish_issue(session, issue, settings)
        frozen = issue_digest(session, issue, settings)
        assert [item.section for item in frozen.items] == ["各地落实", "政策动态", "行业动态"]


def test_without_the_section_an_implementation_is_a_policy_document(
    settings: Settings, database: Database
) -> None:
    _store(database)
    settings = settings.model_copy(update={"digest_sections": "政策动态=政策文件;行业动态=*"})
    with database.session() as session:
        issue = build_draft(session, settings, date(2024, 7, 1), date(2024, 7, 31))
        sections = [item.section for item in issue_digest(session, issue, settings).items]
        assert sections == ["政策动态", "政策动态", "行业动态"]
