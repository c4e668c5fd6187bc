"""Tables of the store of record. Change them only together with a migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AlertDelivery",
    "AlertRule",
    "AlertRuleChannel",
    "ApiToken",
    "Article",
    "AuditEvent",
    "Base",
    "Channel",
    "ChannelAttempt",
    "ChannelDelivery",
    "DigestChannelDelivery",
    "DigestDelivery",
    "DigestEntry",
    "DigestIssue",
    "DigestSubscriber",
    "DigestSubscriberChannel",
    "Failure",
    "Policy",
    "PolicyCitation",
    "PolicyName",
    "Source",
    "Story",
    "StoryEvent",
    "UTCDateTime",
    "User",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Source(Base):
    """A configured source and its health, updated after every crawl run."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="media")
    homepage: Mapped[str] = mapped_column(String(512), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_items: Mapped[int] = mapped_column(Integer, default=0)
    last_errors: Mapped[int] = mapped_column(Integer, default=0)
    empty_runs: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="new")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    # Feed sources (公众号): the newest entry seen, or the first empty answer.
    quiet_since: Mapped[datetime | None]
    # The state admins were last mailed about ("" none yet): one mail per change.
    health_mailed: Mapped[str] = mapped_column(String(16), default="", server_default="")


class Story(Base):
    """One text and all its copies; the canonical member is what digests show."""

    __tablename__ = "stories"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    canonical_doc_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(128))
    published_at: Mapped[datetime | None]
    doc_count: Mapped[int] = mapped_column(Integer, default=1)
    relevant: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_stories_published_at", "published_at"),)


class Article(Base):
    """One copy of a text at one canonical URL, as last classified."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[str] = mapped_column(String(64), index=True)
    source_name: Mapped[str] = mapped_column(String(128))
    source_kind: Mapped[str] = mapped_column(String(16), default="media")
    origin_name: Mapped[str] = mapped_column(String(128), default="")
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    author: Mapped[str] = mapped_column(String(256), default="")
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    relevant: Mapped[bool] = mapped_column(Boolean, default=True)
    relevance: Mapped[float] = mapped_column(Float, default=1.0)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    doc_type: Mapped[str] = mapped_column(String(32), default="")
    region: Mapped[str] = mapped_column(String(64), default="")
    entities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    fetched_at: Mapped[datetime]
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_articles_published_at", "published_at"),)


class Failure(Base):
    """A task that finally failed, with everything needed to replay it."""

    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_name: Mapped[str] = mapped_column(String(128), index=True)
    item_key: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    error_type: Mapped[str] = mapped_column(String(128))
    error_message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    replayed_at: Mapped[datetime | None]
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
    replayed_by: Mapped[str] = mapped_column(String(320), default="")
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class StoryEvent(Base):
    """A "story indexed" event the notifier has handled; the key makes handling idempotent."""

    __tablename__ = "story_events"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(40), index=True)
    story_id: Mapped[str] = mapped_column(String(40))
    new_story: Mapped[bool] = mapped_column(Boolean)
    updated: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestIssue(Base):
    """One revision of a digest issue: a draft being edited, or published and frozen.

    A correction is a new revision of a published issue (same kind, period and number)
    carrying a correction note; published revisions keep the rendered texts readers got.
    """

    __tablename__ = "digest_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    editor_note: Mapped[str] = mapped_column(Text, default="")
    correction_note: Mapped[str] = mapped_column(Text, default="")
    custom_order: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None]
    # Who made this revision (built the draft or opened the correction) and who published
    # it: an account's e-mail, or "cli:<login>" for the shell; empty for older rows.
    created_by: Mapped[str] = mapped_column(String(320), default="")
    published_by: Mapped[str] = mapped_column(String(320), default="")
    text_snapshot: Mapped[str | None] = mapped_column(Text, nullable=True)
    html_snapshot: Mapped[str | None] = mapped_column(Text, nullable=True)
    markdown_snapshot: Mapped[str | None] = mapped_column(Text, nullable=True)
    items_snapshot: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "period_start", "period_end", "revision", name="uq_digest_issue"),
        Index("ix_digest_issues_period", "period_start", "period_end"),
    )


class DigestEntry(Base):
    """A story in an issue, with the editor's choices (kept across rebuilds of a draft)."""

    __tablename__ = "digest_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("digest_issues.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    story_id: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[str] = mapped_column(String(40))
    title_override: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_override: Mapped[str | None] = mapped_column(String(128), nullable=True)
    body_override: Mapped[str | None] = mapped_column(Text, nullable=True)
    included: Mapped[bool] = mapped_column(Boolean, default=True)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("issue_id", "story_id", name="uq_digest_entry_story"),
        Index("ix_digest_entries_issue", "issue_id", "position"),
    )


class DigestSubscriber(Base):
    """Someone who asked for the digest by e-mail (double opt-in), with their filters."""

    __tablename__ = "digest_subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    kind: Mapped[str] = mapped_column(String(16), default="monthly")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    doc_types: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]


class DigestDelivery(Base):
    """One issue revision sent (or being sent) to one subscriber: the key makes it once."""

    __tablename__ = "digest_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("digest_issues.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("digest_subscribers.id"))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id", name="uq_digest_delivery"),
        Index("ix_digest_deliveries_status", "status"),
    )


class AlertRule(Base):
    """A saved query whose new matches are mailed to an address (after double opt-in)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    query: Mapped[str] = mapped_column(Text)
    include_offtopic: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    unsubscribed_at: Mapped[datetime | None]
    # The last confirmation or management mail that went out (not one that failed).
    mailed_at: Mapped[datetime | None]
    # False: matches go only to the rule's channels, not to its address.
    mail_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # When matches go out (hitwatch.alerts.timing): at once, or bundled hourly or daily at
    # `daily_at` (Asia/Shanghai); quiet hours, muted weekdays (0 = Monday) and a minimum
    # interval hold matches until the next open moment; `heartbeat` sends 今日无新匹配.
    cadence: Mapped[str] = mapped_column(String(16), default="immediate")
    daily_at: Mapped[str] = mapped_column(String(5), default="08:00")
    quiet_start: Mapped[str] = mapped_column(String(5), default="")
    quiet_end: Mapped[str] = mapped_column(String(5), default="")
    muted_weekdays: Mapped[list[Any]] = mapped_column(default=list)
    min_interval_minutes: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat: Mapped[bool] = mapped_column(Boolean, default=False)
    last_message_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]


class AlertDelivery(Base):
    """One story mailed (or being mailed) for one rule: the unique key makes it once.

    `claimed_at` dates the claim of a row in `sending`; a claim older than
    ALERT_CLAIM_TIMEOUT belongs to a dead worker and may be taken again.
    """

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    story_id: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(255), default="")
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("rule_id", "story_id", name="uq_alert_delivery"),
        Index("ix_alert_deliveries_status", "status"),
    )


class Channel(Base):
    """A group robot or webhook that an address's alerts can post to (企业微信, 钉钉, 飞书,
    generic webhook). The URL (it carries the robot's access key) and the signing secret
    are stored encrypted with a key derived from SECRET_KEY; `url_hint` is what pages show.

    `failures` counts failed sends in a row; at CHANNEL_PAUSE_AFTER the channel is
    `paused` and its owner mailed once.
    """

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_email: Mapped[str] = mapped_column(String(320), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_hint: Mapped[str] = mapped_column(String(300), default="")
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="active")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_sent_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]


class AlertRuleChannel(Base):
    """A rule posting its matches to a channel (of the same owner)."""

    __tablename__ = "alert_rule_channels"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ChannelDelivery(Base):
    """One story posted (or being posted) for one rule to one channel: once, by its key.

    Claimed like AlertDelivery; `batch_id` is the message that carried it (the
    `X-Hitwatch-Delivery` id of a webhook), shared by the rules one message names.
    """

    __tablename__ = "channel_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    story_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    doc_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("rule_id", "story_id", "channel_id", name="uq_channel_delivery"),
        Index("ix_channel_deliveries_status", "status"),
    )


class DigestSubscriberChannel(Base):
    """A digest subscription also posted to a channel of the subscriber's address."""

    __tablename__ = "digest_subscriber_channels"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DigestChannelDelivery(Base):
    """One issue revision posted (or being posted) to one channel: the key makes it once."""

    __tablename__ = "digest_channel_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("digest_issues.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[str] = mapped_column(String(40), default="")
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("issue_id", "channel_id", name="uq_digest_channel_delivery"),
    )


class ChannelAttempt(Base):
    """One HTTP request to a channel and how it ended (shown on the rule's page)."""

    __tablename__ = "channel_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[str] = mapped_column(String(40), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="alert")
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A staff or reader account. Subscribers need none: signed links serve them.

    `session_epoch` is part of every session's id: raising it (password change, role
    change, removal) ends the user's other sessions at their next request.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class ApiToken(Base):
    """A personal token for the JSON API and Atom feeds; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEvent(Base):
    """A staff action (login, publish, replay, role change ...), kept for admins to read."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320), default="", index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(320), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Policy(Base):
    """A stored 政策文件 as a policy: what it is called, who issued it, at what level.

    One row per article of type 政策文件, keyed by the article's id and written by the
    indexer with the article. Its status (现行有效 or changed by a later document) is
    read from the citations that point at it (`hitwatch.policies`).
    """

    __tablename__ = "policies"

    id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(255), index=True)
    edition: Mapped[str] = mapped_column(String(64), default="")
    doc_number: Mapped[str] = mapped_column(String(128), default="", index=True)
    issuer: Mapped[str] = mapped_column(String(256), default="")
    level: Mapped[str] = mapped_column(String(16), default="", index=True)
    province: Mapped[str] = mapped_column(String(16), default="")
    written_date: Mapped[str] = mapped_column(String(10), default="")
    published_at: Mapped[datetime | None]
    targets: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PolicyName(Base):
    """A key a policy is known by: its title's, and each document its notice carries."""

    __tablename__ = "policy_names"

    policy_id: Mapped[str] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)

    __table_args__ = (Index("ix_policy_names_key", "key"),)


class PolicyCitation(Base):
    """A document naming another (《name》 or 发文字号), with its kind and where it was found.

    Citations are kept by name, not by target: a link is a citation whose key (or
    发文字号) meets a stored policy, so the order in which the two arrive does not matter.
    """

    __tablename__ = "policy_citations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str] = mapped_column(String(255), default="", index=True)
    doc_number: Mapped[str] = mapped_column(String(128), default="", index=True)
    field: Mapped[str] = mapped_column(String(16), default="body")
    position: Mapped[int] = mapped_column(Integer, default=0)
    cue: Mapped[str] = mapped_column(String(32), default="")
    quote: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (
        UniqueConstraint("doc_id", "field", "position", "kind", name="uq_policy_citation"),
    )
