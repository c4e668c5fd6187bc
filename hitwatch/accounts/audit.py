"""The audit log of staff actions, kept in the store of record for admins to read."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hitwatch.store.models import AuditEvent

__all__ = ["AUDIT_ACTIONS", "count_events", "list_events", "record_event", "shell_actor"]

# Every action that is recorded; the admin page labels and filters by these.
AUDIT_ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "password_change",
    "password_reset",
    "token_create",
    "token_revoke",
    "user_add",
    "user_remove",
    "role_change",
    "digest_build",
    "digest_publish",
    "digest_correct",
    "failure_replay",
)


def shell_actor() -> str:
    """How the audit log and the digest name someone acting from a shell."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (e.g. a container's numeric uid)
        return "cli"


def record_event(
    session: Session,
    action: str,
    *,
    actor: str,
    target: str = "",
    address: str = "",
    **detail: Any,
) -> None:
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEvent(
            action=action, actor=actor, target=target[:320], address=address[:64], detail=detail
        )
    )


def _filtered(action: str | None, actor: str | None) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor.contains(actor.strip().lower()))
    return query


def count_events(session: Session, *, action: str | None = None, actor: str | None = None) -> int:
    query = _filtered(action, actor).with_only_columns(func.count())
    return session.scalar(query) or 0


def list_events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Sequence[AuditEvent]:
    query = _filtered(action, actor).order_by(AuditEvent.id.desc()).offset(offset).limit(limit)
    return session.scalars(query).all()
