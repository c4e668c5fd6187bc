"""Migration 0003 on PostgreSQL: the alert tables match the models and downgrade cleanly."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hitwatch.store import open_database
from hitwatch.store.db import alembic_config
from hitwatch.store.models import Base

pytestmark = pytest.mark.requires_postgres


def test_alert_tables_on_postgres(fresh_postgres_url):
    database = open_database(fresh_postgres_url)
    try:
        database.migrate()
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        with database.engine.begin() as connection:
            config = alembic_config(str(database.engine.url))
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        tables = set(inspect(database.engine).get_table_names())
        assert not {"alert_rules", "alert_deliveries"} & tables
        assert "digest_deliveries" in tables
        database.migrate()
        assert {"alert_rules", "alert_deliveries"} <= set(
            inspect(database.engine).get_table_names()
        )
    finally:
        database.dispose()
