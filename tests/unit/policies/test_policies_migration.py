"""Migration 0007 on SQLite: the policy tables match the models and downgrade cleanly."""

from __future__ import annotations

from tests.migrations import check_policies_migration


def test_policy_tables_on_sqlite(database) -> None:
    check_policies_migration(database)
