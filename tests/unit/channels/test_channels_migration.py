"""Migration 0006 on SQLite: the channel tables match the models and downgrade cleanly."""

from __future__ import annotations

from tests.migrations import check_channels_migration


def test_channel_tables_on_sqlite(database) -> None:
    check_channels_migration(database)
