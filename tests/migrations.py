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


def _migrate_to_head_matching_the_models(database: Database) -> None:
    database.migrate()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _downgrade(database: Database, revision: str) -> None:
    with database.engine.begin() as connection:
        config = alembic_config(str(database.engine.url))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def check_accounts_migration(database: Database) -> None:
    """Head matches the models; 0004 goes down to 0003 and up again without loss."""
    _migrate_to_head_matching_the_models(database)
    _downgrade(database, "0003")
    assert not ACCOUNT_TABLES & set(inspect(database.engine).get_table_names())
    assert "published_by" not in _columns(database, "digest_issues")
    assert "replayed_by" not in _columns(database, "failures")
    database.migrate()
    assert set(inspect(database.engine).get_table_names()) >= ACCOUNT_TABLES
    assert {"created_by", "published_by"} <= _columns(database, "digest_issues")


def check_source_health_migration(database: Database) -> None:
    """0005 adds the feed health columns of `sources`; down to 0004 and up again keeps the
    sources (their new columns start empty)."""
    from sqlalchemy import text

    database.migrate()
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, name, kind, homepage, enabled, last_items, last_errors,"
                " empty_runs, state, state_reason, health_mailed) VALUES ('mp_x', '医信观察',"
                " 'media', '', true, 0, 0, 0, 'broken', 'x', 'broken')"
            )
        )
    _downgrade(database, "0004")
    assert not {"quiet_since", "health_mailed"} & _columns(database, "sources")
    database.migrate()
    assert {"quiet_since", "health_mailed"} <= _columns(database, "sources")
    with database.engine.connect() as connection:
        row = connection.execute(text("SELECT name, health_mailed FROM sources")).one()
    assert tuple(row) == ("医信观察", "")


CHANNEL_TABLES = {
    "channels",
    "alert_rule_channels",
    "channel_deliveries",
    "channel_attempts",
    "digest_subscriber_channels",
    "digest_channel_deliveries",
}


def check_channels_migration(database: Database) -> None:
    """0006 goes down to 0005 and up again; a rule made before it keeps mailing."""
    from hitwatch.store.models import AlertRule

    _migrate_to_head_matching_the_models(database)
    _downgrade(database, "0005")
    assert not CHANNEL_TABLES & set(inspect(database.engine).get_table_names())
    assert "mail_enabled" not in _columns(database, "alert_rules")
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO alert_rules (email, name, query, include_offtopic, confirmed, active,"
            " created_at, updated_at) VALUES ('old@example.org', '', '医保', false, true, true,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    database.migrate()
    assert set(inspect(database.engine).get_table_names()) >= CHANNEL_TABLES
    with database.session() as session:
        [rule] = session.query(AlertRule).all()
        assert rule.mail_enabled is True and rule.cadence == "immediate"
        assert rule.muted_weekdays == [] and rule.heartbeat is False


POLICY_TABLES = {"policies", "policy_names", "policy_citations"}


def check_policies_migration(database: Database) -> None:
    """Head matches the models; 0007 goes down to 0006 and up again."""
    _migrate_to_head_matching_the_models(database)
    _downgrade(database, "0006")
    assert not POLICY_TABLES & set(inspect(database.engine).get_table_names())
    database.migrate()
    assert set(inspect(database.engine).get_table_names()) >= POLICY_TABLES
    assert {"key", "level", "targets"} <= _columns(database, "policies")
