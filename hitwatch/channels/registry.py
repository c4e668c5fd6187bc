"""Channels in the store: add (URL checked by the guard, URL and secret sealed), list,
delete, resume, and what each post did to a channel's health.

A channel belongs to an address (its `owner_email`), as alert rules do: the address's
signed management page is where its channels are added and picked per rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from hitwatch.channels.formats import KINDS, ChannelMessage, prepare_post
from hitwatch.channels.post import HttpPoster, Poster, PostResult
from hitwatch.channels.vault import Vault, VaultError
from hitwatch.errors import PermanentError, TransientError
from hitwatch.store import Database
from hitwatch.store.models import Channel, ChannelAttempt

__all__ = [
    "MAX_CHANNELS_PER_ADDRESS",
    "ChannelError",
    "ChannelTarget",
    "add_channel",
    "channels_of",
    "check_channel_url",
    "delete_channel",
    "post_to_channel",
    "record_attempt",
    "record_outcome",
    "resume_channel",
    "url_hint",
]

MAX_CHANNELS_PER_ADDRESS = 20
MAX_URL = 2000
MAX_SECRET = 200


class ChannelError(PermanentError):
    """A channel cannot be added or used as asked; `key` names the reason for the UI."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class ChannelTarget:
    """A channel with its URL and secret opened, for one send."""

    id: int
    kind: str
    name: str
    owner_email: str
    url: str
    secret: str


def url_hint(url: str) -> str:
    """What pages show of a URL whose query holds an access key: host, path, last 4."""
    parts = urlsplit(url)
    tail = url[-4:] if parts.query or len(parts.path) > 24 else ""
    path = parts.path if len(parts.path) <= 24 else parts.path[:12] + "…"
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?…{tail}" if tail else "")


def check_channel_url(poster: HttpPoster, url: str) -> None:
    """ChannelError when `url` may not be posted to (scheme, loopback, private ...)."""
    try:
        problem = poster.url_problem(url)
    except TransientError as error:
        raise ChannelError("unresolved", str(error)) from None
    if problem is not None:
        raise ChannelError("refused", problem)


def add_channel(
    database: Database,
    vault: Vault,
    poster: HttpPoster,
    owner_email: str,
    kind: str,
    url: str,
    *,
    name: str = "",
    secret: str = "",
) -> Channel:
    """Record a channel of `owner_email` after checking its URL now (it is checked again
    before every post)."""
    url, secret = url.strip(), secret.strip()
    if kind not in KINDS:
        raise ChannelError("kind", f"unknown channel kind {kind!r}")
    if not url or len(url) > MAX_URL:
        raise ChannelError("url", "a channel needs its URL (at most 2000 characters)")
    if len(secret) > MAX_SECRET:
        raise ChannelError("secret", "the secret is longer than 200 characters")
    check_channel_url(poster, url)
    with database.session() as session:
        count = session.scalar(select(func.count()).where(Channel.owner_email == owner_email))
        if (count or 0) >= MAX_CHANNELS_PER_ADDRESS:
            raise ChannelError("too_many", f"{owner_email} already has {count} channels")
        channel = Channel(
            owner_email=owner_email,
            kind=kind,
            name=name.strip()[:100],
            url_encrypted=vault.seal(url),
            url_hint=url_hint(url)[:300],
            secret_encrypted=vault.seal(secret),
        )
        session.add(channel)
        session.flush()
        return channel


def channels_of(database: Database, owner_email: str) -> Sequence[Channel]:
    with database.session() as session:
        return session.scalars(
            select(Channel).where(Channel.owner_email == owner_email).order_by(Channel.id)
        ).all()


def _owned(database: Database, owner_email: str | None, channel_id: int) -> Channel:
    with database.session() as session:
        channel = session.get(Channel, channel_id)
    if channel is None or (owner_email is not None and channel.owner_email != owner_email):
        raise ChannelError("missing", f"channel {channel_id} does not exist")
    return channel


def delete_channel(database: Database, owner_email: str | None, channel_id: int) -> None:
    """Delete a channel (any owner's when None), its rule links and its records."""
    _owned(database, owner_email, channel_id)
    with database.session() as session:
        channel = session.get(Channel, channel_id)
        if channel is not None:
            session.delete(channel)


def resume_channel(database: Database, owner_email: str | None, channel_id: int) -> None:
    """Active again, its count of failures in a row back to zero."""
    _owned(database, owner_email, channel_id)
    with database.session() as session:
        session.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(state="active", failures=0, paused_at=None, updated_at=datetime.now(UTC))
        )


def record_attempt(
    database: Database, channel_id: int, batch_id: str, purpose: str, result: PostResult
) -> None:
    with database.session() as session:
        session.add(
            ChannelAttempt(
                channel_id=channel_id,
                batch_id=batch_id,
                purpose=purpose,
                ok=result.ok,
                http_status=result.http_status,
                error=result.error,
                duration_ms=result.duration_ms,
            )
        )


def record_outcome(
    database: Database, channel_id: int, result: PostResult, *, pause_after: int
) -> bool:
    """Count a post in the channel's health; True when this failure paused it (only the
    one post that makes the change gets True, so its owner is mailed once)."""
    now = datetime.now(UTC)
    with database.session() as session:
        if result.ok:
            session.execute(
                update(Channel)
                .where(Channel.id == channel_id)
                .values(failures=0, last_error="", last_sent_at=now)
            )
            return False
        session.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(failures=Channel.failures + 1, last_error=result.error, updated_at=now)
        )
        paused = session.execute(
            update(Channel)
            .where(
                Channel.id == channel_id,
                Channel.state == "active",
                Channel.failures >= pause_after,
            )
            .values(state="paused", paused_at=now)
        )
        return bool(paused.rowcount == 1)  # type: ignore[attr-defined]


def post_to_channel(
    database: Database,
    vault: Vault,
    poster: Poster,
    channel: Channel,
    message: ChannelMessage,
    batch_id: str,
    purpose: str,
) -> PostResult:
    """Post `message` to a channel now and keep the attempt; a success clears the
    channel's count of failures (a failure is counted by the caller: a test is not)."""
    try:
        target = ChannelTarget(
            channel.id,
            channel.kind,
            channel.name,
            channel.owner_email,
            vault.open(channel.url_encrypted),
            vault.open(channel.secret_encrypted),
        )
    except VaultError as error:
        result = PostResult(ok=False, error=str(error))
    else:
        post = prepare_post(
            target.kind, target.url, target.secret, message,
            now=datetime.now(UTC), delivery_id=batch_id,
        )  # fmt: skip
        result = poster(target.kind, post)
    record_attempt(database, channel.id, batch_id, purpose, result)
    if result.ok:
        record_outcome(database, channel.id, result, pause_after=1)
    return result
