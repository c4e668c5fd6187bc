"""Mail the admins when a source turns broken, and again when it recovers.

One mail per change, not per failed fetch: `sources.health_mailed` keeps the state the
admins were last told about. A change is claimed with a conditional update before the
mail goes out (so two crawler processes finishing the same run send it once) and given
back when the mail cannot be sent, so the next run tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from functools import cache
from importlib import resources

import yaml
from sqlalchemy import select, update

from hitwatch.accounts.users import Role
from hitwatch.clock import ZONE_LABEL, beijing_time
from hitwatch.mail import MailTransport, new_message_id
from hitwatch.settings import Settings
from hitwatch.store.db import Database
from hitwatch.store.models import Source, User

__all__ = ["HealthChange", "health_changes", "mail_health_changes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthChange:
    source_id: str
    name: str
    kind: str  # "broken" or "recovered"
    reason: str
    previous: str  # the health_mailed value the change was claimed from


@cache
def _wording() -> dict[str, dict[str, str]]:
    text = resources.files("crawler").joinpath("health_mail.yaml").read_text("utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


def health_changes(rows: list[Source]) -> list[HealthChange]:
    """What the admins have not been told yet: a source now broken that they last heard
    of as fine (or never), or a source fine again that they last heard of as broken."""
    changes = []
    for row in rows:
        told = row.health_mailed or ""
        if row.state == "broken" and told != "broken":
            changes.append(HealthChange(row.id, row.name, "broken", row.state_reason, told))
        elif row.state == "ok" and told == "broken":
            changes.append(HealthChange(row.id, row.name, "recovered", row.state_reason, told))
    return changes


def _message(
    change: HealthChange, sender: str, recipient: str, link: str, now: datetime
) -> EmailMessage:
    wording = _wording()[change.kind]
    fields = {
        "name": change.name,
        "id": change.source_id,
        "when": f"{beijing_time(now)}（{ZONE_LABEL}）",
        "reason": change.reason or "-",
        "link": link,
    }
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = wording["subject"].format(**fields)
    message["Message-ID"] = new_message_id(sender)
    message.set_content(wording["body"].format(**fields))
    return message


def _claim(database: Database, change: HealthChange, state: str) -> bool:
    with database.session() as session:
        result = session.execute(
            update(Source)
            .where(Source.id == change.source_id, Source.health_mailed == change.previous)
            .values(health_mailed=state)
        )
        return bool(getattr(result, "rowcount", 0))


def _release(database: Database, change: HealthChange, state: str) -> None:
    with database.session() as session:
        session.execute(
            update(Source)
            .where(Source.id == change.source_id, Source.health_mailed == state)
            .values(health_mailed=change.previous)
        )


def mail_health_changes(
    database: Database, settings: Settings, transport: MailTransport, now: datetime
) -> list[HealthChange]:
    """Mail every active admin about each source whose state changed since they were last
    told; the changes mailed. Without admins nothing is sent and nothing is marked told."""
    with database.session() as session:
        rows = list(session.scalars(select(Source).order_by(Source.id)).all())
        admins = list(
            session.scalars(
                select(User.email).where(User.role == Role.ADMIN, User.active).order_by(User.email)
            ).all()
        )
        session.expunge_all()
    if not admins:
        return []
    link = f"{settings.resolved_public_base_url}/sources"
    sent = []
    for change in health_changes(rows):
        told = "broken" if change.kind == "broken" else "ok"
        if not _claim(database, change, told):
            continue  # another process mailed this change meanwhile
        try:
            with transport.batch():
                for admin in admins:
                    transport.send(_message(change, settings.mail_from, admin, link, now))
        except Exception as exc:  # any send error: give the claim back, the next run retries
            _release(database, change, told)
            log.warning("health mail about %s not sent: %s", change.source_id, exc)
            continue
        sent.append(change)
    return sent
