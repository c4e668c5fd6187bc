"""policies: a record per stored 政策文件, the names it is known by, the citations
between documents (links are resolved from them)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("story_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("edition", sa.String(length=64), nullable=False),
        sa.Column("doc_number", sa.String(length=128), nullable=False),
        sa.Column("issuer", sa.String(length=256), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("written_date", sa.String(length=10), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.create_index("ix_policies_key", ["key"], unique=False)
        batch_op.create_index("ix_policies_doc_number", ["doc_number"], unique=False)
        batch_op.create_index("ix_policies_level", ["level"], unique=False)

    op.create_table(
        "policy_names",
        sa.Column("policy_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("policy_id", "key"),
    )
    with op.batch_alter_table("policy_names", schema=None) as batch_op:
        batch_op.create_index("ix_policy_names_key", ["key"], unique=False)

    op.create_table(
        "policy_citations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("doc_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("doc_number", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cue", sa.String(length=32), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["doc_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("doc_id", "field", "position", "kind", name="uq_policy_citation"),
    )
    with op.batch_alter_table("policy_citations", schema=None) as batch_op:
        batch_op.create_index("ix_policy_citations_doc_id", ["doc_id"], unique=False)
        batch_op.create_index("ix_policy_citations_key", ["key"], unique=False)
        batch_op.create_index("ix_policy_citations_doc_number", ["doc_number"], unique=False)
        batch_op.create_index("ix_policy_citations_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("policy_citations")
    op.drop_table("policy_names")
    op.drop_table("policies")
