"""`hitwatch users`: accounts from a shell (the first admin, staff, role changes)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from hitwatch.accounts.audit import record_event, shell_actor
from hitwatch.accounts.tokens import PASSWORD_LINK_MAX_AGE, make_password_link
from hitwatch.accounts.users import (
    ROLES,
    AccountError,
    add_user,
    find_user,
    list_users,
    remove_user,
    set_role,
)
from hitwatch.clock import ZONE_LABEL, beijing_time
from hitwatch.settings import Settings, load_settings
from hitwatch.store import open_database
from hitwatch.store.models import User

__all__ = ["users_group"]


@contextmanager
def _session() -> Iterator[tuple[Session, Settings]]:
    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    try:
        with database.session() as session:
            yield session, settings
    except AccountError as error:
        raise click.ClickException(error.message) from None
    finally:
        database.dispose()


def password_link(settings: Settings, user: User) -> str:
    token = make_password_link(settings.secret_key.get_secret_value(), user, reset=False)
    return f"{settings.resolved_public_base_url}/password/{token}"


@click.group("users")
def users_group() -> None:
    """Accounts and roles: reader (search, digests, own alerts), editor (digests), admin (all)."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option(
    "--name", default="", help="Name shown on the pages (default: the address's user part)."
)
@click.option(
    "--link",
    is_flag=True,
    help="Print a one-time set-password link instead of asking for a password "
    "(the default when there is no terminal).",
)
def add_command(email: str, role: str, name: str, link: bool) -> None:
    """Create an account. Asks for its password, or prints a link to set it (valid 3 days)."""
    password = None
    if not link and sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with _session() as (session, settings):
        user = add_user(session, email, role, name=name, password=password)
        record_event(session, "user_add", actor=shell_actor(), target=user.email, role=role)
        click.echo(f"added {user.email} as {user.role}")
        if password is None:
            hours = PASSWORD_LINK_MAX_AGE // 3600
            click.echo(f"set the password within {hours} hours at: {password_link(settings, user)}")


@users_group.command("list")
def list_command() -> None:
    """Every account: role, address, name, last login."""
    with _session() as (session, _settings):
        users = list_users(session)
        for user in users:
            seen = beijing_time(user.last_login_at) or "never"
            pending = "" if user.password_hash else "  (password not set)"
            click.echo(
                f"{user.role:<7} {user.email:<36} {user.name:<16} last login {seen}{pending}"
            )
        click.echo(f"{len(users)} account(s); times {ZONE_LABEL}")


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(email: str, role: str) -> None:
    """Change an account's role (its open sessions end)."""
    with _session() as (session, _settings):
        user = find_user(session, email)
        old = user.role if user else ""
        user = set_role(session, email, role)
        record_event(
            session, "role_change", actor=shell_actor(), target=user.email, old=old, new=role
        )
        click.echo(f"{user.email}: {old} -> {role}")


@users_group.command("remove")
@click.argument("email")
def remove_command(email: str) -> None:
    """Delete an account and its API tokens (what it did stays in the audit log)."""
    with _session() as (session, _settings):
        remove_user(session, email)
        record_event(session, "user_remove", actor=shell_actor(), target=email.strip().lower())
        click.echo(f"removed {email}")


@users_group.command("link")
@click.argument("email")
def link_command(email: str) -> None:
    """Print a one-time link that sets a new password for the account (valid 3 days)."""
    with _session() as (session, settings):
        user = find_user(session, email)
        if user is None:
            raise AccountError("unknown_user", email=email)
        click.echo(password_link(settings, user))
