"""Policies on PostgreSQL: migration 0007, and records, citations and links on the real server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hitwatch.policies import links_to
from hitwatch.store import open_database
from indexer.store import save_document
from tests.factories import classified_document
from tests.migrations import check_policies_migration

pytestmark = pytest.mark.requires_postgres

NATIONAL = "国务院办公厅关于推动公立医院高质量发展的意见"


def test_policy_tables_and_links_on_postgres(fresh_postgres_url) -> None:
    database = open_database(fresh_postgres_url)
    try:
        check_policies_migration(database)
        with database.session() as session:
            # The implementation first: the link appears when the policy arrives.
            save_document(
                session,
                classified_document(
                    "zj",
                    title="浙江省人民政府办公厅关于推动公立医院高质量发展的实施意见",
                    body=f"为贯彻落实《{NATIONAL}》（国办发〔2021〕18号）精神，提出如下实施意见。",
                    doc_type="政策文件",
                    policy={"issuer": "浙江省人民政府办公厅", "written_date": "2021-12-01"},
                ),
            )
        with database.session() as session:
            save_document(
                session,
                classified_document(
                    "nat",
                    title=NATIONAL,
                    body="现就推动公立医院高质量发展提出如下意见。",
                    doc_type="政策文件",
                    published_at=datetime(2021, 5, 17, tzinfo=UTC),
                    policy={
                        "issuer": "国务院办公厅",
                        "doc_number": "国办发〔2021〕18号",
                        "written_date": "2021-05-14",
                    },
                ),
            )
        with database.session() as session:
            [link] = links_to(session, "nat")
            assert (link.source_id, link.kind, link.doc_number) == (
                "zj",
                "implements",
                "国办发〔2021〕18号",
            )
    finally:
        database.dispose()
