"""Users, their roles and passwords (argon2id), kept in the store of record."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hitwatch.errors import PermanentError
from hitwatch.mail import AddressError, normalize_address
from hitwatch.store.models import User, utcnow

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "AccountError",
    "Role",
    "add_user",
    "authenticate",
    "count_admins",
    "display_names",
    "find_user",
    "list_users",
    "remove_user",
    "set_password",
    "set_role",
]

MIN_PASSWORD_LENGTH = 10


class Role(StrEnum):
    """What an account may do; each role may do everything of the roles before it."""

    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


ROLES = tuple(role.value for role in Role)


@cache
def _messages() -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(
        Path(__file__).with_name("errors.yaml").read_text("utf-8")
    )
    return data


class AccountError(PermanentError):
    """An account operation was refused; `message` says why, in Chinese, for the user."""

    def __init__(self, code: str, **fields: Any) -> None:
        self.code = code
        self.message = _messages()[code].format(**fields)
        super().__init__(self.message)


@cache
def _hasher() -> PasswordHasher:
    # argon2id with the library's current defaults (RFC 9106 low-memory profile).
    return PasswordHasher()


def _address(email: str) -> str:
    try:
        return normalize_address(email)
    except AddressError:
        raise AccountError("bad_email", email=email) from None


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError("bad_role", role=role) from None


def _check_password(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("short_password", minimum=MIN_PASSWORD_LENGTH)
    if password.strip().lower() == email or len(set(password)) == 1:
        raise AccountError("weak_password")


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def _existing(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise AccountError("unknown_user", email=email)
    return user


def display_names(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """The names that accounts go by, for pages that say who did something."""
    wanted = {email for email in emails if email}
    if not wanted:
        return {}
    rows = session.execute(select(User.email, User.name).where(User.email.in_(wanted)))
    return {email: name for email, name in rows}


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.role.desc(), User.email)).all()


def count_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        or 0
    )


def add_user(
    session: Session, email: str, role: str, *, name: str = "", password: str | None = None
) -> User:
    """A new account; without a password it can only be used through a set-password link."""
    address = _address(email)
    if find_user(session, address) is not None:
        raise AccountError("exists", email=address)
    user = User(email=address, name=name.strip() or address.split("@")[0], role=_role(role))
    if password is not None:
        _check_password(password, address)
        user.password_hash = _hasher().hash(password)
        user.password_changed_at = utcnow()
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace the password and end the user's other sessions (and used reset links)."""
    _check_password(password, user.email)
    user.password_hash = _hasher().hash(password)
    user.password_changed_at = utcnow()
    user.session_epoch += 1


def _guard_last_admin(session: Session, user: User) -> None:
    if user.role == Role.ADMIN and count_admins(session) <= 1:
        raise AccountError("last_admin", email=user.email)


def set_role(session: Session, email: str, role: str) -> User:
    user = _existing(session, email)
    new = _role(role)
    if new != Role.ADMIN:
        _guard_last_admin(session, user)
    if user.role != new:
        user.role = new
        user.session_epoch += 1  # pages rendered for the old role must not stay usable
    return user


def remove_user(session: Session, email: str) -> None:
    user = _existing(session, email)
    _guard_last_admin(session, user)
    session.delete(user)


@cache
def _dummy_hash() -> str:
    # Verified when the address has no account, so a miss costs what a wrong password
    # costs and response time does not tell which addresses have accounts.
    return _hasher().hash(secrets.token_hex(16))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = find_user(session, email)
    if user is None or not user.active or not user.password_hash:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    user.last_login_at = utcnow()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
