"""`hitwatch users` add, list, set-role, remove and link through the real command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hitwatch.accounts import authenticate, set_password, user_for_password_link
from hitwatch.cli import main
from hitwatch.store.models import AuditEvent


@pytest.fixture
def run(settings, database, monkeypatch):
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()

    def invoke(*args: str, given: str | None = None):
        return runner.invoke(main, ["users", *args], input=given, catch_exceptions=False)

    return invoke


def test_first_admin_from_a_shell_gets_a_one_time_link(run, database, settings) -> None:
    added = run("add", "Root@Example.org", "--role", "admin")  # no terminal: a link
    assert added.exit_code == 0, added.output
    assert "added root@example.org as admin" in added.output
    token = added.output.rsplit("/password/", 1)[1].strip()
    with database.session() as session:
        user = user_for_password_link(session, settings.secret_key.get_secret_value(), token)
        assert user.email == "root@example.org" and not user.password_hash
    listed = run("list").output
    assert "admin" in listed and "(password not set)" in listed and "1 account(s)" in listed
    again = run("add", "root@example.org", "--role", "reader")
    assert again.exit_code == 1 and "已有账号" in again.output


def test_roles_change_and_the_last_admin_stays(run, database) -> None:
    run("add", "root@example.org", "--role", "admin")
    run("add", "ed@example.org", "--role", "editor", "--name", "小王")
    assert "小王" in run("list").output
    refused = run("set-role", "root@example.org", "reader")
    assert refused.exit_code == 1 and "最后一个管理员" in refused.output
    assert "editor -> admin" in run("set-role", "ed@example.org", "admin").output
    assert "removed" in run("remove", "root@example.org").output
    assert run("remove", "nobody@example.org").exit_code == 1
    assert run("set-role", "ed@example.org", "owner").exit_code == 2  # not a role
    with database.session() as session:
        actions = [event.action for event in session.query(AuditEvent).order_by(AuditEvent.id)]
        actors = {event.actor for event in session.query(AuditEvent)}
    assert actions == ["user_add", "user_add", "role_change", "user_remove"]
    assert all(actor.startswith("cli") for actor in actors)


def test_link_sets_a_password_for_an_existing_account(run, database, settings) -> None:
    run("add", "ed@example.org", "--role", "editor")
    token = run("link", "ed@example.org").output.strip().rsplit("/password/", 1)[1]
    with database.session() as session:
        user = user_for_password_link(session, settings.secret_key.get_secret_value(), token)
        set_password(session, user, "a long enough passphrase")
    with database.session() as session:
        assert authenticate(session, "ed@example.org", "a long enough passphrase") is not None
    assert run("link", "nobody@example.org").exit_code == 1
