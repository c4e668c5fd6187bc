"""Source health: after every run, is each source still delivering? Written to `sources`.

A web source is broken after repeated empty runs or when its lists lose fields. A feed
source with a `wechat` block (a 公众号 through a bridge) is judged by its feed: broken at
once when the bridge answers with an error, with something that is not a feed, or with
words saying its login lapsed, and broken when the feed has brought nothing new for
`stale_after_days` (its newest entry, or the first empty answer, is that old).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy.exc
from sqlalchemy import select

from hitwatch.sources import SourceDefinition
from hitwatch.store.db import Database
from hitwatch.store.models import Source

__all__ = [
    "BROKEN_AFTER_EMPTY_RUNS",
    "Assessment",
    "SourceRun",
    "assess",
    "assess_feed",
    "list_health",
    "record_runs",
    "upsert_sources",
]

BROKEN_AFTER_EMPTY_RUNS = 3


@dataclass
class SourceRun:
    """What one crawl run of one source did."""

    source_id: str
    list_pages: int = 0
    links_found: int = 0
    articles_fetched: int = 0
    items_sent: int = 0
    items_updated: int = 0
    errors: int = 0
    problems: list[str] = field(default_factory=list)
    removed: int = 0  # 公众号 articles whose page says they were removed or blocked
    # Feed sources (stale_after_days > 0): what breaks them at once, the newest entry.
    stale_after_days: int = 0
    feed_problems: list[str] = field(default_factory=list)
    newest_entry: datetime | None = None

    @property
    def missing_fields(self) -> list[str]:
        return [p for p in self.problems if "items without" in p or "no link matched" in p]


@dataclass(frozen=True)
class Assessment:
    state: str
    reason: str
    empty_runs: int
    success: bool
    quiet_since: datetime | None = None  # feed sources: nothing new since then


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time hitwatch writes is UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _removed_note(run: SourceRun) -> str:
    return f"{run.removed} article(s) removed by the publisher or blocked" if run.removed else ""


def assess_feed(run: SourceRun, quiet_since: datetime | None, now: datetime) -> Assessment:
    """A feed source's state: its bridge's answer, and how long it has brought nothing new."""
    quiet_since = _aware(quiet_since)
    newest = _aware(run.newest_entry)
    if newest is not None and (quiet_since is None or newest > quiet_since):
        quiet_since = newest
    elif run.links_found == 0 and not run.feed_problems and quiet_since is None:
        quiet_since = now  # an empty feed: counted from its first empty answer
    notes = [note for note in (_removed_note(run),) if note]
    if run.feed_problems:
        reason = "; ".join(run.feed_problems)[:500]
        return Assessment("broken", reason, 0, False, quiet_since)
    days = run.stale_after_days
    if quiet_since is not None and now - quiet_since >= timedelta(days=days):
        since = quiet_since.astimezone(UTC).strftime("%Y-%m-%d")
        what = "no new article" if run.links_found else "the feed is empty"
        reason = (
            f"{what} since {since} ({days} days or more): the bridge may have lost the"
            " account or its login"
        )
        return Assessment("broken", "; ".join([reason, *notes]), 0, False, quiet_since)
    if run.links_found == 0:
        return Assessment("ok", "; ".join(["the feed is empty", *notes]), 0, False, quiet_since)
    return Assessment("ok", "; ".join(notes), 0, True, quiet_since)


def assess(run: SourceRun, previous_empty_runs: int) -> Assessment:
    """The source's state after `run`: broken after repeated empty runs or missing fields."""
    empty_runs = previous_empty_runs + 1 if run.links_found == 0 else 0
    if run.missing_fields:
        return Assessment("broken", "; ".join(run.missing_fields)[:500], empty_runs, False)
    if empty_runs >= BROKEN_AFTER_EMPTY_RUNS:
        detail = "; ".join(run.problems)[:300]
        reason = f"no article links in {empty_runs} runs in a row" + (
            f": {detail}" if detail else ""
        )
        return Assessment(
            "broken", reason + " (the site may have changed its markup)", empty_runs, False
        )
    if run.links_found == 0:
        return Assessment(
            "ok", f"empty run {empty_runs} of {BROKEN_AFTER_EMPTY_RUNS}", empty_runs, False
        )
    reason = f"{run.errors} fetch error(s)" if run.errors else ""
    return Assessment("ok", reason, empty_runs, True)


def upsert_sources(database: Database, sources: Iterable[SourceDefinition]) -> None:
    """One `sources` row per definition, its name/kind/homepage kept in step with the file."""
    sources = list(sources)
    try:
        _upsert(database, sources)
    except sqlalchemy.exc.IntegrityError:
        # Another crawler process inserted the same new rows meanwhile; now they exist.
        _upsert(database, sources)


def _upsert(database: Database, sources: list[SourceDefinition]) -> None:
    with database.session() as session:
        for source in sources:
            row = session.get(Source, source.id)
            if row is None:
                row = Source(
                    id=source.id,
                    state="new",
                    state_reason="",
                    last_items=0,
                    last_errors=0,
                    empty_runs=0,
                )
                session.add(row)
            row.name = source.name
            row.kind = source.kind
            row.homepage = source.homepage
            row.enabled = source.enabled


def record_runs(
    database: Database, runs: Sequence[SourceRun], now: datetime
) -> dict[str, Assessment]:
    out: dict[str, Assessment] = {}
    with database.session() as session:
        for run in runs:
            row = session.get(Source, run.source_id)
            if row is None:
                continue  # upsert_sources runs first; a vanished definition is skipped
            if run.stale_after_days:
                verdict = assess_feed(run, row.quiet_since, now)
                row.quiet_since = verdict.quiet_since
            else:
                verdict = assess(run, row.empty_runs or 0)
            row.last_run_at = now
            if verdict.success:
                row.last_success_at = now
            row.last_items = run.links_found
            row.last_errors = run.errors
            row.empty_runs = verdict.empty_runs
            row.state = verdict.state
            row.state_reason = verdict.reason
            out[run.source_id] = verdict
    return out


def list_health(database: Database) -> list[Source]:
    with database.session() as session:
        return list(session.scalars(select(Source).order_by(Source.kind, Source.id)).all())
