"""Accounts on PostgreSQL: migration 0004, and the account operations on the real server."""

from __future__ import annotations

import pytest

from hitwatch.accounts import (
    AccountError,
    add_user,
    authenticate,
    create_api_token,
    record_event,
    user_for_api_token,
)
from hitwatch.store import open_database
from tests.migrations import check_accounts_migration

pytestmark = pytest.mark.requires_postgres


def test_account_tables_on_postgres(fresh_postgres_url) -> None:
    database = open_database(fresh_postgres_url)
    try:
        check_accounts_migration(database)
        with database.session() as session:
            user = add_user(session, "Ed@Example.org", "editor", password="a long passphrase")
            _row, token = create_api_token(session, user, "script")
            record_event(session, "login", actor=user.email, address="127.0.0.1", via="test")
        with database.session() as session, pytest.raises(AccountError):
            add_user(session, "ed@example.org", "reader")  # unique, case-insensitively
        with database.session() as session:
            assert authenticate(session, "ed@example.org", "a long passphrase") is not None
            found = user_for_api_token(session, token)
            assert found is not None and found.email == "ed@example.org"
    finally:
        database.dispose()
