"""Feed health of 公众号 sources: a bridge's error or lapsed login breaks the source at
once; a feed that brings nothing new for the source's days breaks it; news mends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.health import SourceRun, assess_feed, list_health, record_runs, upsert_sources
from hitwatch.sources import ListEndpoint, SourceDefinition, WechatAccount

NOW = datetime(2024, 7, 31, 12, tzinfo=UTC)
DAYS = 5


def run(**fields: object) -> SourceRun:
    return SourceRun("mp_demo", stale_after_days=DAYS, **fields)  # type: ignore[arg-type]


def test_a_bridge_error_breaks_the_source_at_once() -> None:
    verdict = assess_feed(run(feed_problems=["the bridge answered HTTP 502"]), None, NOW)
    assert (verdict.state, verdict.success) == ("broken", False)
    assert "HTTP 502" in verdict.reason


def test_fresh_entries_keep_it_ok_and_move_quiet_since() -> None:
    newest = NOW - timedelta(days=1)
    verdict = assess_feed(run(links_found=3, newest_entry=newest), NOW - timedelta(days=9), NOW)
    assert (verdict.state, verdict.quiet_since) == ("ok", newest)


def test_old_entries_only_break_it_after_its_days() -> None:
    newest = NOW - timedelta(days=DAYS - 1)
    assert assess_feed(run(links_found=3, newest_entry=newest), None, NOW).state == "ok"
    later = NOW + timedelta(days=1)
    verdict = assess_feed(run(links_found=3, newest_entry=newest), newest, later)
    assert verdict.state == "broken"
    assert "no new article since" in verdict.reason


def test_an_empty_feed_counts_from_its_first_empty_answer() -> None:
    first = assess_feed(run(), None, NOW)
    assert (first.state, first.quiet_since) == ("ok", NOW)
    assert "empty" in first.reason
    again = assess_feed(run(), first.quiet_since, NOW + timedelta(days=DAYS))
    assert again.state == "broken"
    assert "the feed is empty since" in again.reason


def test_removed_articles_are_reported_not_failed() -> None:
    verdict = assess_feed(run(links_found=2, newest_entry=NOW, removed=1), None, NOW)
    assert verdict.state == "ok"
    assert "1 article(s) removed by the publisher" in verdict.reason


def test_feed_state_is_kept_in_the_sources_table(database) -> None:
    source = SourceDefinition(
        id="mp_demo",
        name="医信观察",
        kind="media",
        homepage="https://mp.weixin.qq.com/",
        domains=[],
        lists=[ListEndpoint(url="http://bridge.example/feeds/all.atom", type="feed")],
        wechat=WechatAccount(account="医信观察", stale_after_days=DAYS),
    )
    upsert_sources(database, [source])
    record_runs(database, [run()], NOW)
    record_runs(database, [run()], NOW + timedelta(days=DAYS))
    (row,) = [row for row in list_health(database) if row.id == "mp_demo"]
    assert row.state == "broken"
    assert row.quiet_since == NOW
    record_runs(database, [run(links_found=1, newest_entry=NOW + timedelta(days=DAYS))], NOW)
    (row,) = [row for row in list_health(database) if row.id == "mp_demo"]
    assert row.state == "ok"
