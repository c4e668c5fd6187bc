"""Personal API tokens and signed set-password / reset-password links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from hitwatch.accounts.users import AccountError
from hitwatch.store.models import ApiToken, User, utcnow

__all__ = [
    "PASSWORD_LINK_MAX_AGE",
    "PASSWORD_RESET_MAX_AGE",
    "TOKEN_PREFIX",
    "create_api_token",
    "list_api_tokens",
    "make_password_link",
    "revoke_api_token",
    "user_for_api_token",
    "user_for_password_link",
]

TOKEN_PREFIX = "hw_"  # noqa: S105 - a marker that lets scanners spot leaked tokens, not a secret
PASSWORD_RESET_MAX_AGE = 3600  # a reset requested from the login page
PASSWORD_LINK_MAX_AGE = 3 * 86400  # a first-password link made by an admin for a new account
_LINK_PURPOSE = "hitwatch-password-link"


def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a plain hash suffices (no slow KDF needed).
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; the plain token is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, name=name.strip()[:100], token_hash=_digest(plain), prefix=plain[:10]
    )
    session.add(row)
    session.flush()
    return row, plain


def list_api_tokens(session: Session, user: User) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    return session.scalars(query.order_by(ApiToken.id.desc())).all()


def revoke_api_token(session: Session, user: User, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise AccountError("unknown_token")
    row.revoked_at = utcnow()
    return row


def user_for_api_token(session: Session, plain: str) -> User | None:
    """The active owner of a live token, or None; records when the token was last used."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    return user


def _fingerprint(user: User) -> str:
    # Changes with the password and the session epoch, so a link works once.
    return hashlib.sha256(f"{user.password_hash}|{user.session_epoch}".encode()).hexdigest()[:20]


def make_password_link(secret: str, user: User, *, reset: bool = True) -> str:
    """A signed token for /password/<token> that sets a new password once, then is dead.

    A reset (asked for on the login page) lives an hour; a first-password link made by
    an admin for a new account lives three days.
    """
    return URLSafeTimedSerializer(secret, salt=_LINK_PURPOSE).dumps(
        {"user": user.id, "state": _fingerprint(user), "reset": reset}
    )


def user_for_password_link(session: Session, secret: str, token: str) -> User:
    """The user a password link was made for; AccountError when forged, old or used."""
    serializer = URLSafeTimedSerializer(secret, salt=_LINK_PURPOSE)
    try:
        data, signed_at = serializer.loads(
            token, max_age=PASSWORD_LINK_MAX_AGE, return_timestamp=True
        )
    except SignatureExpired:
        raise AccountError("link_expired") from None
    except BadSignature:
        raise AccountError("link_invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise AccountError("link_invalid")
    if data.get("reset", True) and utcnow() - signed_at > timedelta(seconds=PASSWORD_RESET_MAX_AGE):
        raise AccountError("link_expired")
    user = session.get(User, data["user"])
    if user is None or not user.active:
        raise AccountError("link_invalid")
    if not secrets.compare_digest(str(data.get("state", "")), _fingerprint(user)):
        raise AccountError("link_used")
    return user
