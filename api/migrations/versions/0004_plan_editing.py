"""Plan editing: working copies (status ``editing``) derived from a plan, locked sectors,
and each sector's seed unit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "plan",
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey("plan.id", ondelete="SET NULL"),
            nullable=True,
            comment="The plan this one was derived from by hand edits",
        ),
    )
    op.add_column(
        "plan",
        sa.Column("locked_sectors", JSONB(), nullable=False, server_default="[]"),
    )
    op.create_index(
        "uq_plan_editing_per_parent",
        "plan",
        ["parent_id"],
        unique=True,
        postgresql_where=sa.text("status = 'editing'"),
    )
    op.add_column(
        "plan_sector",
        sa.Column("seed_h3", sa.String(16), nullable=True, comment="Its seed unit, if any"),
    )


def downgrade() -> None:
    op.drop_column("plan_sector", "seed_h3")
    op.drop_index("uq_plan_editing_per_parent", table_name="plan")
    op.drop_column("plan", "locked_sectors")
    op.drop_column("plan", "parent_id")
