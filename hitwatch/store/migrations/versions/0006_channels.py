"""channels (企业微信, 钉钉, 飞书, webhook) for alerts and digests, their deliveries and
attempts;
alert rules may leave out their e-mail and bundle their matches

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("url_hint", sa.String(length=300), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.create_index("ix_channels_owner_email", ["owner_email"], unique=False)

    op.create_table(
        "alert_rule_channels",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("rule_id", "channel_id"),
    )
    with op.batch_alter_table("alert_rule_channels", schema=None) as batch_op:
        batch_op.create_index("ix_alert_rule_channels_channel_id", ["channel_id"], unique=False)

    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("doc_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_id", "story_id", "channel_id", name="uq_channel_delivery"),
    )
    with op.batch_alter_table("channel_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_channel_deliveries_status", ["status"], unique=False)
        batch_op.create_index("ix_channel_deliveries_channel_id", ["channel_id"], unique=False)
        batch_op.create_index("ix_channel_deliveries_batch_id", ["batch_id"], unique=False)

    op.create_table(
        "channel_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("channel_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_channel_attempts_channel_id", ["channel_id"], unique=False)
        batch_op.create_index("ix_channel_attempts_batch_id", ["batch_id"], unique=False)

    op.create_table(
        "digest_subscriber_channels",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["digest_subscribers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "channel_id"),
    )
    with op.batch_alter_table("digest_subscriber_channels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digest_subscriber_channels_channel_id", ["channel_id"], unique=False
        )

    op.create_table(
        "digest_channel_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["digest_issues.id"]),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issue_id", "channel_id", name="uq_digest_channel_delivery"),
    )

    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("cadence", sa.String(length=16), nullable=False, server_default="immediate")
        )
        batch_op.add_column(
            sa.Column("daily_at", sa.String(length=5), nullable=False, server_default="08:00")
        )
        batch_op.add_column(
            sa.Column("quiet_start", sa.String(length=5), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("quiet_end", sa.String(length=5), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("muted_weekdays", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("min_interval_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("heartbeat", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        for column in (
            "heartbeat_at",
            "last_message_at",
            "heartbeat",
            "min_interval_minutes",
            "muted_weekdays",
            "quiet_end",
            "quiet_start",
            "daily_at",
            "cadence",
            "mail_enabled",
        ):
            batch_op.drop_column(column)
    op.drop_table("digest_channel_deliveries")
    op.drop_table("digest_subscriber_channels")
    op.drop_table("channel_attempts")
    op.drop_table("channel_deliveries")
    op.drop_table("alert_rule_channels")
    op.drop_table("channels")
