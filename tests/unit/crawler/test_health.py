"""Source health: states after runs, and the `sources` table."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.health import (
    BROKEN_AFTER_EMPTY_RUNS,
    SourceRun,
    assess,
    list_health,
    record_runs,
    upsert_sources,
)
from hitwatch.sources import load_sources

NOW = datetime(2024, 7, 31, 12, tzinfo=UTC)


def test_a_run_with_links_is_ok_and_resets_empty_runs() -> None:
    verdict = assess(SourceRun("nhc", links_found=5, errors=1), previous_empty_runs=2)
    assert (verdict.state, verdict.empty_runs, verdict.success) == ("ok", 0, True)
    assert verdict.reason == "1 fetch error(s)"


def test_broken_after_repeated_empty_runs() -> None:
    empty = SourceRun("nhc")
    states = []
    runs = 0
    for _ in range(BROKEN_AFTER_EMPTY_RUNS):
        verdict = assess(empty, runs)
        runs = verdict.empty_runs
        states.append(verdict.state)
    assert states == ["ok"] * (BROKEN_AFTER_EMPTY_RUNS - 1) + ["broken"]
    assert "3 runs in a row" in verdict.reason


def test_missing_list_fields_break_a_source_at_once() -> None:
    verdict = assess(
        SourceRun("gov_cn", links_found=4, problems=["最新政策: items without title"]), 0
    )
    assert verdict.state == "broken"
    assert "items without title" in verdict.reason


def test_runs_are_written_to_the_sources_table(database) -> None:
    sources = load_sources()
    upsert_sources(database, sources)
    upsert_sources(database, sources)  # idempotent
    record_runs(database, [SourceRun("nhc", links_found=7, errors=2), SourceRun("gov_cn")], NOW)
    rows = {row.id: row for row in list_health(database)}
    assert set(rows) == {s.id for s in sources}
    assert rows["nhc"].name == "国家卫生健康委"
    assert (rows["nhc"].state, rows["nhc"].last_items, rows["nhc"].last_errors) == ("ok", 7, 2)
    assert rows["nhc"].last_success_at == NOW
    assert rows["gov_cn"].last_success_at is None
    assert rows["gov_cn"].empty_runs == 1
    assert rows["bjnews"].state == "new"
