"""Checks of a migration that run the same on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hitwatch.store import Database
from hitwatch.store.db import alembic_config
from hitwatch.store.models import Base

ACCOUNT_TABLES = {"users", "api_tokens", "audit_events"}


def _columns(database: Database, table: str) -> set[str]:
    return {column["name"] for column in inspect(database.engine).get_columns(table)}


def check_accounts_migration(database: Database) -> None:
    """Head matches the models; 0004 goes down to 0003 and up again without loss."""
    database.migrate()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with database.engine.begin() as connection:
        config = alembic_config(str(database.engine.url))
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert not ACCOUNT_TABLES & set(inspect(database.engine).get_table_names())
    assert "published_by" not in _columns(database, "digest_issues")
    assert "replayed_by" not in _columns(database, "failures")
    database.migrate()
    assert set(inspect(database.engine).get_table_names()) >= ACCOUNT_TABLES
    assert {"created_by", "published_by"} <= _columns(database, "digest_issues")


POLICY_TABLES = {"policies", "policy_names", "policy_citations"}


def check_policies_migration(database: Database) -> None:
    """Head matches the models; 0005 goes down to 0004 and up again."""
    database.migrate()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with database.engine.begin() as connection:
        config = alembic_config(str(database.engine.url))
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert not POLICY_TABLES & set(inspect(database.engine).get_table_names())
    database.migrate()
    assert set(inspect(database.engine).get_table_names()) >= POLICY_TABLES
    assert {"key", "level", "targets"} <= _columns(database, "policies")
