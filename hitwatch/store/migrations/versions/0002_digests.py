"""digest issues, entries, subscribers and deliveries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("editor_note", sa.Text(), nullable=False),
        sa.Column("correction_note", sa.Text(), nullable=False),
        sa.Column("custom_order", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text_snapshot", sa.Text(), nullable=True),
        sa.Column("html_snapshot", sa.Text(), nullable=True),
        sa.Column("markdown_snapshot", sa.Text(), nullable=True),
        sa.Column("items_snapshot", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "kind", "period_start", "period_end", "revision", name="uq_digest_issue"
        ),
    )
    with op.batch_alter_table("digest_issues", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digest_issues_period", ["period_start", "period_end"], unique=False
        )

    op.create_table(
        "digest_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.String(length=40), nullable=False),
        sa.Column("doc_id", sa.String(length=40), nullable=False),
        sa.Column("title_override", sa.Text(), nullable=True),
        sa.Column("source_override", sa.String(length=128), nullable=True),
        sa.Column("body_override", sa.Text(), nullable=True),
        sa.Column("included", sa.Boolean(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["digest_issues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issue_id", "story_id", name="uq_digest_entry_story"),
    )
    with op.batch_alter_table("digest_entries", schema=None) as batch_op:
        batch_op.create_index("ix_digest_entries_issue", ["issue_id", "position"], unique=False)

    op.create_table(
        "digest_subscribers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("doc_types", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["digest_issues.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["digest_subscribers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issue_id", "subscriber_id", name="uq_digest_delivery"),
    )
    with op.batch_alter_table("digest_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_digest_deliveries_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_deliveries_status")
    op.drop_table("digest_deliveries")
    op.drop_table("digest_subscribers")
    with op.batch_alter_table("digest_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_entries_issue")
    op.drop_table("digest_entries")
    with op.batch_alter_table("digest_issues", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_issues_period")
    op.drop_table("digest_issues")
