"""Migration 0005 (feed health of sources) on PostgreSQL: down and up without loss."""

from __future__ import annotations

import pytest

from hitwatch.store import open_database
from tests.migrations import check_source_health_migration

pytestmark = pytest.mark.requires_postgres


def test_source_health_columns_on_postgres(fresh_postgres_url) -> None:
    database = open_database(fresh_postgres_url)
    try:
        check_source_health_migration(database)
    finally:
        database.dispose()
