"""Migration 0005 (feed health of sources) on SQLite: down and up without losing sources."""

from __future__ import annotations

from tests.migrations import check_source_health_migration


def test_source_health_columns_on_sqlite(database) -> None:
    check_source_health_migration(database)
