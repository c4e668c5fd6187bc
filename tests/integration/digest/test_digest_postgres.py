"""The editorial workflow on PostgreSQL (migration 0002, dates, JSON snapshots)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hitwatch.digest import check_invariants
from hitwatch.digest.workflow import DigestError, build_draft, correct_issue, publish_issue
from hitwatch.store import open_database
from tests.unit.digest.samples import END, START, store_bulletin

pytestmark = pytest.mark.requires_postgres


def test_draft_publish_correct_on_postgres(fresh_postgres_url, settings):
    database = open_database(fresh_postgres_url)
    try:
        database.migrate()
        with database.session() as session:
            store_bulletin(session)
            issue = build_draft(session, settings, START, END)
            assert build_draft(session, settings, START, END).id == issue.id
            publish_issue(session, issue, settings, now=datetime(2024, 8, 1, tzinfo=UTC))
            issue_id = issue.id
        with database.session() as session:
            from hitwatch.store.models import DigestIssue

            published = session.get(DigestIssue, issue_id)
            assert published.number == 1 and check_invariants(published.text_snapshot) == []
            assert len(published.items_snapshot) == 4
            with pytest.raises(DigestError):
                build_draft(session, settings, START, END)
            assert correct_issue(session, published, "更正。").revision == 2
    finally:
        database.dispose()
