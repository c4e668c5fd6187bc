"""Migration 0004 on SQLite: the account tables match the models and downgrade cleanly."""

from __future__ import annotations

from tests.migrations import check_accounts_migration


def test_account_tables_on_sqlite(database) -> None:
    check_accounts_migration(database)
