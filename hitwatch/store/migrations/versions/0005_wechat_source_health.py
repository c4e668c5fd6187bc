"""feed health of sources (公众号 through bridges): quiet since when; which state the
admins were last mailed about

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("health_mailed", sa.String(length=16), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("health_mailed")
        batch_op.drop_column("quiet_since")
