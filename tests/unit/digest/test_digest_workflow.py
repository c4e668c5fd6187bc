"""Selecting stories and the editorial workflow on a migrated SQLite store."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hitwatch.digest import check_invariants, month_period, render_text, select_items, week_period
from hitwatch.digest.workflow import (
    DigestError,
    add_story,
    build_draft,
    correct_issue,
    edit_entry,
    issue_digest,
    issue_entries,
    move_entry,
    publish_issue,
    set_editor_note,
    set_included,
)
from hitwatch.store.models import DigestIssue
from tests.unit.digest.samples import BULLETIN_ITEMS, END, START, store_bulletin

NOW = datetime(2024, 8, 1, 2, tzinfo=UTC)


@pytest.fixture
def session(database):
    with database.session() as session:
        store_bulletin(session)
        yield session


def test_periods():
    assert month_period("2024-07") == (date(2024, 7, 1), date(2024, 7, 31))
    assert month_period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert week_period("2024-W27") == (date(2024, 7, 1), date(2024, 7, 7))
    with pytest.raises(ValueError, match="例如 2024-07"):
        month_period("July")


def test_select_items_one_per_relevant_story_canonical_copy_by_date(session):
    items = select_items(session, START, END)
    assert [i.story_id for i in items] == ["s1", "s2", "s3", "s4"]
    assert [i.title for i in items] == [i.title for i in BULLETIN_ITEMS]
    assert items[2].source_name == "中新网" and items[2].doc_id == "d3"
    assert items[0].paragraphs == BULLETIN_ITEMS[0].paragraphs
    assert items[0].published_at.tzinfo is not None
    assert [i.story_id for i in select_items(session, date(2024, 8, 1), date(2024, 8, 31))] == [
        "august"
    ]


def test_draft_renders_the_bulletin_and_rebuild_is_idempotent(session, settings):
    issue = build_draft(session, settings, START, END)
    again = build_draft(session, settings, START, END)
    assert again.id == issue.id
    assert len(issue_entries(session, issue)) == 4
    text = render_text(issue_digest(session, issue, settings))
    assert "草稿（未发布）" in text and "本期月报共收集 4篇" in text
    assert check_invariants(text) == []


def test_editor_changes_survive_a_rebuild(session, settings):
    issue = build_draft(session, settings, START, END)
    entries = [e for e, _ in issue_entries(session, issue)]
    set_included(session, issue, entries[1].id, False)
    edit_entry(
        session,
        issue,
        entries[0].id,
        title="新标题",
        source_name="新京报网",
        body="第一段\n\n第二段",
    )
    set_editor_note(session, issue, "本月两篇报道涉及同一会议。")
    build_draft(session, settings, START, END)
    digest = issue_digest(session, issue, settings)
    assert [i.story_id for i in digest.items] == ["s1", "s3", "s4"]
    assert digest.items[0].title == "新标题" and digest.items[0].source_name == "新京报网"
    assert digest.items[0].paragraphs == ("第一段", "第二段")
    assert digest.editor_note == "本月两篇报道涉及同一会议。"
    edit_entry(session, issue, entries[0].id, title="")
    assert issue_digest(session, issue, settings).items[0].title == BULLETIN_ITEMS[0].title
    # The edit form is prefilled with the original: saving it unchanged adds no override.
    edit_entry(session, issue, entries[2].id, body="\n\n".join(BULLETIN_ITEMS[2].paragraphs))
    edit_entry(session, issue, entries[2].id, source_name=" 中新网 ")
    assert (entries[2].body_override, entries[2].source_override) == (None, None)


def test_reorder_keeps_editor_order_and_publishes(session, settings):
    issue = build_draft(session, settings, START, END)
    last = issue_entries(session, issue)[-1][0]
    move_entry(session, issue, last.id, -3, settings)
    build_draft(session, settings, START, END)
    assert [i.story_id for i in issue_digest(session, issue, settings).items] == [
        "s4",
        "s1",
        "s2",
        "s3",
    ]
    publish_issue(session, issue, settings, now=NOW)
    assert issue.status == "published"


def test_add_story_found_by_search_checks_the_period(session, settings):
    issue = build_draft(session, settings, START, END)
    with pytest.raises(DigestError, match="不在本期 2024-07-01 至 2024-07-31 之内"):
        add_story(session, issue, "august", settings)
    with pytest.raises(DigestError, match="找不到文章"):
        add_story(session, issue, "nope", settings)
    entry = add_story(session, issue, "off-topic", settings)
    assert entry.manual
    build_draft(session, settings, START, END)  # a manual entry survives refreshes
    assert "off-topic" in [i.story_id for i in issue_digest(session, issue, settings).items]


def test_publish_numbers_freezes_and_corrections_are_revisions(session, settings):
    issue = build_draft(session, settings, START, END)
    publish_issue(session, issue, settings, now=NOW)
    assert (issue.status, issue.number, issue.revision) == ("published", 1, 1)
    assert issue.text_snapshot.startswith("卫生信息化监测月报\n第1期\n发布日期：2024-08-01\n")
    assert check_invariants(issue.text_snapshot) == []
    assert "<html" in issue.html_snapshot and "## 一、信息目录" in issue.markdown_snapshot
    entry_id = issue_entries(session, issue)[0][0].id
    with pytest.raises(DigestError, match="更正"):
        set_included(session, issue, entry_id, False)
    with pytest.raises(DigestError, match="已经发布"):
        build_draft(session, settings, START, END)

    draft = correct_issue(session, issue, "第1条来源更正为新京报网。")
    assert (draft.status, draft.number, draft.revision) == ("draft", 1, 2)
    edit_entry(session, draft, issue_entries(session, draft)[0][0].id, source_name="新京报网")
    publish_issue(session, draft, settings, now=NOW)
    assert "第1期 第2版" in draft.text_snapshot
    assert "更正说明：第1条来源更正为新京报网。" in draft.text_snapshot
    assert "（新京报网）" in draft.text_snapshot and "（新京报网）" not in issue.text_snapshot
    with pytest.raises(DigestError, match="已经有更正版"):
        correct_issue(session, issue, "again")

    june = build_draft(session, settings, date(2024, 8, 1), date(2024, 8, 31))
    publish_issue(session, june, settings, now=NOW)
    assert june.number == 2
    weekly = build_draft(session, settings, date(2024, 7, 1), date(2024, 7, 7), "weekly")
    publish_issue(session, weekly, settings, now=NOW)
    assert weekly.number == settings.digest_first_number
    assert session.query(DigestIssue).count() == 4


def test_an_empty_period_or_issue_is_refused_saying_what_to_do(session, settings):
    with pytest.raises(DigestError, match="之间没有找到相关文章") as empty:
        build_draft(session, settings, date(2023, 1, 1), date(2023, 1, 31))
    assert empty.value.key == "empty_period" and "hitwatch crawl" in str(empty.value)
    assert session.query(DigestIssue).count() == 0
    issue = build_draft(session, settings, START, END)
    for entry, _ in issue_entries(session, issue):
        set_included(session, issue, entry.id, False)
    with pytest.raises(DigestError, match="没有收录任何条目，不能发布：请先恢复") as nothing:
        publish_issue(session, issue, settings)
    assert nothing.value.key == "no_items"


def test_publish_refused_by_an_invariant_says_which_and_what_to_do(session, settings):
    issue = build_draft(session, settings, START, END)
    entry, _ = issue_entries(session, issue)[1]
    edit_entry(session, issue, entry.id, body="<div class=ad>广告</div>")
    with pytest.raises(DigestError) as refused:
        publish_issue(session, issue, settings)
    message = str(refused.value)
    assert refused.value.key == "invariants"
    assert "还不能发布" in message and "残留网页代码" in message and "用“修改”更正" in message
    assert issue.status == "draft"


def test_published_issue_does_not_follow_later_article_changes(session, settings):
    from hitwatch.store.models import Article

    issue = build_draft(session, settings, START, END)
    publish_issue(session, issue, settings, now=NOW)
    session.get(Article, "d1").title = "后来改过的标题"
    session.flush()
    digest = issue_digest(session, issue, settings)
    assert digest.items[0].title == BULLETIN_ITEMS[0].title
    assert render_text(digest) == issue.text_snapshot


def test_migration_matches_models_and_downgrades(database):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from hitwatch.store.db import alembic_config
    from hitwatch.store.models import Base

    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with database.engine.begin() as connection:
        config = alembic_config(str(database.engine.url))
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert not {"digest_issues", "digest_deliveries"} & set(
        inspect(database.engine).get_table_names()
    )
    database.migrate()
    assert "digest_subscribers" in inspect(database.engine).get_table_names()
