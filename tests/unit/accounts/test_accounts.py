"""Accounts in the store: passwords, roles, the last admin, API tokens, password links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner

from hitwatch.accounts import (
    AccountError,
    add_user,
    authenticate,
    create_api_token,
    make_password_link,
    remove_user,
    revoke_api_token,
    set_password,
    set_role,
    user_for_api_token,
    user_for_password_link,
)
from hitwatch.accounts.tokens import PASSWORD_RESET_MAX_AGE
from hitwatch.store import Database
from hitwatch.store.models import ApiToken, User, utcnow

SECRET = "s" * 40
GOOD = "a long enough passphrase"


def test_password_is_hashed_with_argon2id_and_checked(database: Database) -> None:
    with database.session() as session:
        add_user(session, " Editor@Example.org ", "editor", password=GOOD)
    with database.session() as session:
        user = session.query(User).one()
        assert user.email == "editor@example.org" and user.name == "editor"
        assert user.password_hash.startswith("$argon2id$") and GOOD not in user.password_hash
        assert authenticate(session, "EDITOR@example.org", GOOD) is not None
        assert authenticate(session, "editor@example.org", GOOD + "x") is None
        assert authenticate(session, "nobody@example.org", GOOD) is None
        assert user.last_login_at is not None


@pytest.mark.parametrize(
    ("email", "role", "password", "code"),
    [
        ("not-an-address", "reader", GOOD, "bad_email"),
        ("a@example.org", "owner", GOOD, "bad_role"),
        ("a@example.org", "reader", "short", "short_password"),
        ("a@example.org", "reader", "a@example.org", "weak_password"),
        ("a@example.org", "reader", "x" * 12, "weak_password"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(database, email, role, password, code) -> None:
    with database.session() as session, pytest.raises(AccountError) as caught:
        add_user(session, email, role, password=password)
    assert caught.value.code == code and caught.value.message


def test_the_last_admin_cannot_be_demoted_or_removed(database: Database) -> None:
    with database.session() as session:
        add_user(session, "root@example.org", "admin", password=GOOD)
        add_user(session, "ed@example.org", "editor", password=GOOD)
    for change in (
        lambda s: set_role(s, "root@example.org", "editor"),
        lambda s: remove_user(s, "root@example.org"),
    ):
        with database.session() as session, pytest.raises(AccountError, match="最后一个管理员"):
            change(session)
    with database.session() as session:
        set_role(session, "ed@example.org", "admin")
    with database.session() as session:
        set_role(session, "root@example.org", "reader")
        remove_user(session, "root@example.org")
        assert [u.email for u in session.query(User)] == ["ed@example.org"]


def test_role_and_password_changes_move_the_session_epoch(database: Database) -> None:
    with database.session() as session:
        user = add_user(session, "ed@example.org", "editor", password=GOOD)
        add_user(session, "root@example.org", "admin", password=GOOD)
        start = user.session_epoch
        set_role(session, "ed@example.org", "reader")
        set_password(session, user, "another long passphrase")
        assert user.session_epoch == start + 2


def test_api_token_is_shown_once_stored_hashed_and_revocable(database: Database) -> None:
    with database.session() as session:
        user = add_user(session, "r@example.org", "reader", password=GOOD)
        row, plain = create_api_token(session, user, "script")
        assert plain.startswith("hw_") and len(plain) > 40
        assert plain not in {row.token_hash, row.prefix} and plain.startswith(row.prefix)
    with database.session() as session:
        found = user_for_api_token(session, plain)
        assert found is not None and found.email == "r@example.org"
        assert user_for_api_token(session, plain[:-1] + "x") is None
        assert session.query(ApiToken).one().last_used_at is not None
        revoke_api_token(session, found, row.id)
    with database.session() as session:
        assert user_for_api_token(session, plain) is None
        user = session.query(User).one()
        with pytest.raises(AccountError):
            revoke_api_token(session, user, row.id)


def test_password_link_works_once(database: Database) -> None:
    with database.session() as session:
        user = add_user(session, "new@example.org", "editor")  # no password yet
        assert authenticate(session, "new@example.org", "") is None
        token = make_password_link(SECRET, user, reset=False)
    with database.session() as session:
        user = user_for_password_link(session, SECRET, token)
        set_password(session, user, GOOD)
    with database.session() as session:
        with pytest.raises(AccountError) as caught:
            user_for_password_link(session, SECRET, token)
        assert caught.value.code == "link_used"
        with pytest.raises(AccountError) as caught:
            user_for_password_link(session, "another secret" * 3, token)
        assert caught.value.code == "link_invalid"


def test_a_reset_link_expires_after_an_hour_an_invitation_after_days(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.session() as session:
        user = add_user(session, "u@example.org", "reader", password=GOOD)
        old = utcnow() - timedelta(seconds=PASSWORD_RESET_MAX_AGE + 60)
        # Sign as if two hours ago, through itsdangerous's own clock.
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: int(old.timestamp()))
        reset = make_password_link(SECRET, user)
        invitation = make_password_link(SECRET, user, reset=False)
        monkeypatch.undo()
        with pytest.raises(AccountError) as caught:
            user_for_password_link(session, SECRET, reset)
        assert caught.value.code == "link_expired"
        assert user_for_password_link(session, SECRET, invitation).id == user.id
