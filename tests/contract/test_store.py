"""The contract of the store of record: every operation the workers and the web app use,
on SQLite and on PostgreSQL (behind `requires_postgres`).

The indexer's upserts (reclassification too) and story upkeep, the crawler's source
health, the failure log, the notifier's event record and alert deliveries, alert rules,
accounts, API tokens and the audit log, and the web app's reads.
The digest's reads and writes have their own PostgreSQL suite
(`tests/integration/digest/test_digest_postgres.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crawler.alarms import mail_health_changes
from crawler.health import SourceRun, list_health, record_runs, upsert_sources
from hitwatch.accounts import (
    add_user,
    authenticate,
    count_admins,
    count_events,
    create_api_token,
    display_names,
    find_user,
    list_api_tokens,
    list_events,
    list_users,
    record_event,
    remove_user,
    revoke_api_token,
    set_role,
    user_for_api_token,
)
from hitwatch.alerts.delivery import claim, load_document
from hitwatch.alerts.rules import (
    RuleChange,
    add_rule,
    change_rule,
    delete_rule,
    load_matcher,
    rule_stats,
    rules_of,
    rules_version,
)
from hitwatch.errors import SchemaError
from hitwatch.mail import open_transport
from hitwatch.messages import StoryIndexed
from hitwatch.settings import load_settings
from hitwatch.sources import ListEndpoint, SourceDefinition, WechatAccount, load_sources
from hitwatch.store import Database, Story, StoryEvent
from hitwatch.store.failures import FailureLog
from hitwatch.store.models import AlertDelivery
from indexer.policies import policy_search_documents
from indexer.store import StoreOutcome, save_document
from notifier.worker import Notifier
from tests.factories import classified_document
from webapp import queries

JULY = datetime(2024, 7, 1, tzinfo=UTC)


def save(store: Database, doc_id: str, **fields: object) -> StoreOutcome:
    with store.session() as session:
        return save_document(session, classified_document(doc_id, **fields))


def story(store: Database, story_id: str) -> tuple[str, int, str]:
    with store.session() as session:
        row = session.get(Story, story_id)
        assert row is not None
        return row.canonical_doc_id, row.doc_count, row.source_name


def test_migrating_twice_changes_nothing(store: Database) -> None:
    store.migrate()
    with store.session() as session:
        assert queries.count_articles(session) == 0


def test_a_new_document_makes_a_story_and_a_repeat_changes_nothing(store: Database) -> None:
    first = save(store, "d1", published_at=JULY)
    assert first == StoreOutcome(new_story=True, updated=False, version=1)
    assert save(store, "d1", published_at=JULY) == first
    assert story(store, "s-d1") == ("d1", 1, "新京报")


def test_copies_join_the_story_and_the_most_authoritative_leads_it(store: Database) -> None:
    save(store, "media", story_id="s", published_at=JULY)
    copy = save(
        store,
        "gov",
        story_id="s",
        source_name="国家卫生健康委员会",
        source_kind="government",
        published_at=JULY + timedelta(days=1),
    )
    assert copy == StoreOutcome(new_story=False, updated=False, version=1)
    assert story(store, "s") == ("gov", 2, "国家卫生健康委员会")


def test_new_content_is_a_new_version_and_a_moved_copy_mends_both_stories(
    store: Database,
) -> None:
    save(store, "a", story_id="s1", published_at=JULY)
    save(store, "b", story_id="s1", published_at=JULY + timedelta(hours=1))
    changed = save(store, "b", story_id="s2", body="改写后的正文", content_hash="hash-b2")
    assert changed == StoreOutcome(new_story=True, updated=True, version=2)
    assert story(store, "s1") == ("a", 1, "新京报")
    assert story(store, "s2") == ("b", 1, "新京报")


def test_a_stored_article_maps_to_the_document_the_indexer_indexed(store: Database) -> None:
    classified = classified_document(
        "p1",
        published_at=datetime(2024, 7, 2, 8, 30, tzinfo=UTC),
        topics=["D", "N"],
        region="广东省深圳市",
        doc_type="政策文件",
        policy={"issuer": "国务院办公厅", "doc_number": "国办发〔2019〕4号"},
        relevant=False,
    )
    with store.session() as session:
        save_document(session, classified)
        indexed = policy_search_documents(session, [classified])[0]  # what the indexer sends
    assert indexed.status == "现行有效"
    assert load_document(store, "p1") == indexed
    assert load_document(store, "missing") is None


def test_web_reads_latest_first_with_totals_and_stories(store: Database) -> None:
    save(store, "old", story_id="s", published_at=JULY)
    save(store, "new", story_id="s", source_name="中新网", source_id="chinanews",
         published_at=JULY + timedelta(days=2))  # fmt: skip
    save(store, "undated", published_at=None)
    save(store, "offtopic", published_at=JULY + timedelta(days=3), relevant=False)
    with store.session() as session:
        rows, total = queries.latest_articles(session, offset=0, limit=10, relevant_only=True)
        assert [a.id for a in rows] == ["new", "old", "undated"] and total == 3
        rows, total = queries.latest_articles(session, offset=1, limit=2, relevant_only=False)
        assert [a.id for a in rows] == ["new", "old"] and total == 4
        assert queries.count_articles(session) == 4
        article = queries.article_by_id(session, "old")
        assert article is not None and article.title
        assert [a.id for a in queries.story_members(session, article)] == ["new"]
        assert queries.story_sizes(session, ["s", "s-undated", "s-unknown"]) == {
            "s": 2,
            "s-undated": 1,
        }
        assert queries.story_copies(session, ["s"]) == {"s": [("old", "新京报"), ("new", "中新网")]}
        assert queries.story_sizes(session, []) == {} == queries.story_copies(session, [])


def test_source_health_and_choices(store: Database) -> None:
    definitions = load_sources()[:2]
    upsert_sources(store, definitions)
    upsert_sources(store, definitions)  # every crawler start: no duplicate
    verdicts = record_runs(
        store,
        [SourceRun(definitions[0].id, list_pages=1, links_found=5, articles_fetched=5)],
        JULY,
    )
    assert set(verdicts) == {definitions[0].id}
    health = {source.id: source for source in list_health(store)}
    assert set(health) == {d.id for d in definitions}
    assert health[definitions[0].id].last_items == 5
    assert health[definitions[0].id].last_run_at is not None
    save(store, "d1", source_id="elsewhere", source_name="别处")
    with store.session() as session:
        assert {source.id for source in queries.list_sources(session)} == set(health)
        choices = dict(queries.source_choices(session))
    assert choices == {**{d.id: d.name for d in definitions}, "elsewhere": "别处"}


def test_feed_health_and_its_mail_once_per_change(store: Database, inbox, tmp_path) -> None:
    handler, port = inbox
    settings = load_settings(
        data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    feed = SourceDefinition(
        id="mp_demo",
        name="医信观察",
        kind="media",
        homepage="https://mp.weixin.qq.com/",
        domains=[],
        lists=[ListEndpoint(url="http://bridge.example/feeds/all.atom", type="feed")],
        wechat=WechatAccount(account="医信观察", stale_after_days=2),
    )
    upsert_sources(store, [feed])
    with store.session() as session:
        add_user(session, "admin@example.org", "admin", password="correct horse battery staple")

    def run(when: datetime, **fields: object) -> list[str]:
        record_runs(store, [SourceRun("mp_demo", stale_after_days=2, **fields)], when)  # type: ignore[arg-type]
        sent = mail_health_changes(store, settings, open_transport(settings), when)
        return [change.kind for change in sent]

    assert run(JULY, links_found=1, newest_entry=JULY) == []
    assert run(JULY + timedelta(days=1), links_found=1, newest_entry=JULY) == []
    assert run(JULY + timedelta(days=2), links_found=1, newest_entry=JULY) == ["broken"]
    assert run(JULY + timedelta(days=3), links_found=1, newest_entry=JULY) == []
    (row,) = [source for source in list_health(store) if source.id == "mp_demo"]
    assert (row.state, row.quiet_since, row.health_mailed) == ("broken", JULY, "broken")
    later = JULY + timedelta(days=4)
    assert run(later, links_found=2, newest_entry=later) == ["recovered"]
    assert [str(m["Subject"]) for m in handler.messages] == [
        "信息源异常：医信观察",
        "信息源已恢复：医信观察",
    ]


def test_failures_are_kept_listed_and_replayed(store: Database) -> None:
    failures = FailureLog(store)
    failures.record("indexer.index_document", {"doc_id": "d1"}, SchemaError("bad"), attempts=3)
    failures.record("classifier.classify_item", {"url": "https://x.cn/1"}, ValueError("no"))
    listed = failures.list()
    assert [f.item_key for f in listed] == ["https://x.cn/1", "d1"]
    first = failures.get(listed[1].id)
    assert first is not None and first.attempts == 3 and first.payload == {"doc_id": "d1"}
    failures.mark_replayed(first.id)
    assert [f.item_key for f in failures.list()] == ["https://x.cn/1"]
    with store.session() as session:
        assert queries.count_failures(session, include_resolved=False) == 1
        assert queries.count_failures(session, include_resolved=True) == 2
        rows = queries.list_failures(session, include_resolved=True, offset=1, limit=5)
        assert [f.item_key for f in rows] == ["d1"] and rows[0].replay_count == 1


def test_a_story_event_is_recorded_once(store: Database) -> None:
    event = StoryIndexed(
        doc_id="d1", story_id="s-d1", version=1, new_story=True, updated=False,
        title="标题", source_name="新京报",
    )  # fmt: skip
    notifier = Notifier(store)
    notifier.handle(event.to_payload())
    notifier.handle(event.to_payload())
    with store.session() as session:
        assert [e.key for e in session.scalars(select(StoryEvent))] == ["d1:1"]


def test_alert_rules_change_the_version_the_matcher_reloads_on(store: Database) -> None:
    with store.session() as session:
        empty = rules_version(session)
    first = add_rule(store, "a@example.org", "电子病历", name="病历")
    second = add_rule(store, "a@example.org", "topic:医保信息化", include_offtopic=True)
    with store.session() as session:
        added = rules_version(session)
        assert len(load_matcher(session)) == 2
    assert added != empty
    change_rule(store, "a@example.org", first.id, RuleChange(active=False))
    with store.session() as session:
        assert rules_version(session) != added
        assert list(load_matcher(session).rules) == [second.id]
    assert [(r.id, r.active) for r in rules_of(store, "a@example.org")] == [
        (first.id, False),
        (second.id, True),
    ]
    delete_rule(store, None, second.id)
    assert [r.id for r in rules_of(store, "a@example.org")] == [first.id]


def test_a_delivery_is_claimed_once_and_taken_over_when_stale(store: Database) -> None:
    rule = add_rule(store, "a@example.org", "电子病历")
    now = datetime.now(UTC)
    assert claim(store, rule.id, "s1", "d1", timeout=60, now=now) == "claimed"
    assert claim(store, rule.id, "s1", "d1", timeout=60, now=now) == "busy"
    later = now + timedelta(seconds=61)
    assert claim(store, rule.id, "s1", "d2", timeout=60, now=later) == "claimed"
    with store.session() as session:
        row = session.scalars(select(AlertDelivery)).one()
        assert (row.doc_id, row.attempts) == ("d2", 2)
        row.status, row.sent_at = "sent", later
    assert claim(store, rule.id, "s1", "d1", timeout=60, now=later) == "sent"
    stats = rule_stats(store, [rule.id])
    assert stats[rule.id].sent == 1 and stats[rule.id].failed == 0
    delete_rule(store, None, rule.id)  # its deliveries go with it
    assert claim(store, rule.id, "s1", "d1", timeout=60, now=later) == "gone"
    with store.session() as session:
        assert session.scalars(select(AlertDelivery)).all() == []


def test_a_reclassified_document_replaces_the_classification_only(store: Database) -> None:
    first = save(store, "d1", published_at=JULY, topics=["A"], relevant=True)
    again = save(
        store, "d1", published_at=JULY, topics=["G"], relevant=False, doc_type="政策文件",
        reclassified=True,
    )  # fmt: skip
    assert again == StoreOutcome(new_story=False, updated=False, version=first.version)
    document = load_document(store, "d1")
    assert document is not None
    assert (document.topics, document.relevant, document.doc_type) == (("G",), False, "政策文件")
    with store.session() as session:
        assert session.get(Story, "s-d1").relevant is False  # type: ignore[union-attr]


def test_accounts_roles_tokens_and_the_audit_log(store: Database) -> None:
    with store.session() as session:
        admin = add_user(session, "Admin@Example.org", "admin", password="a long passphrase 1")
        add_user(session, "editor@example.org", "editor", name="编辑")
        record_event(session, "user_add", actor="cli", target="editor@example.org")
        _, plain = create_api_token(session, admin, "监控")
    with store.session() as session:
        assert authenticate(session, "admin@example.org", "a long passphrase 1") is not None
        assert authenticate(session, "admin@example.org", "wrong") is None
        assert count_admins(session) == 1
        assert display_names(session, ["editor@example.org"]) == {"editor@example.org": "编辑"}
        user = user_for_api_token(session, plain)
        assert user is not None and user.email == "admin@example.org"
        set_role(session, "editor@example.org", "reader")
        assert [u.email for u in list_users(session)] == ["editor@example.org", "admin@example.org"]
        (token,) = list_api_tokens(session, user)
        revoke_api_token(session, user, token.id)
    with store.session() as session:
        assert user_for_api_token(session, plain) is None
        assert count_events(session, action="user_add") == 1
        assert [e.target for e in list_events(session, actor="cli")] == ["editor@example.org"]
        remove_user(session, "editor@example.org")
    with store.session() as session:
        assert find_user(session, "editor@example.org") is None
