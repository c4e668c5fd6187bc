"""Source health: after every run, is each source still delivering? Written to `sources`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

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

    @property
    def missing_fields(self) -> list[str]:
        return [p for p in self.problems if "items without" in p or "no link matched" in p]


@dataclass(frozen=True)
class Assessment:
    state: str
    reason: str
    empty_runs: int
    success: bool


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
