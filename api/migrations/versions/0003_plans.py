"""Sector plans (with their sectors and cells) and background jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("resolution", sa.Integer(), nullable=False, comment="H3 resolution of its cells"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("comment", sa.String(2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("parameters", JSONB(), nullable=False, server_default="{}"),
        sa.Column("metrics", JSONB(), nullable=False, server_default="{}"),
        sa.Column("notes", JSONB(), nullable=False, server_default="[]"),
        sa.Column("violations", JSONB(), nullable=False, server_default="[]"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_plan_csp_id", "plan", ["csp_id"])
    op.create_index(
        "uq_plan_adopted_per_csp",
        "plan",
        ["csp_id"],
        unique=True,
        postgresql_where=sa.text("status = 'adopted'"),
    )
    op.create_table(
        "plan_sector",
        sa.Column(
            "plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("sector", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("workload", sa.Float(), nullable=False),
        sa.Column("metrics", JSONB(), nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_plan_sector_geom", "plan_sector", ["geom"], postgresql_using="gist")
    op.create_table(
        "plan_cell",
        sa.Column(
            "plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("h3", sa.String(16), primary_key=True),
        sa.Column("sector", sa.Integer(), nullable=False),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
        sa.Column("stage", sa.String(100), nullable=True),
        sa.Column("parameters", JSONB(), nullable=False, server_default="{}"),
        sa.Column(
            "plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("error", sa.String(4000), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_job_csp_id", "job", ["csp_id"])


def downgrade() -> None:
    op.drop_table("job")
    op.drop_table("plan_cell")
    op.drop_table("plan_sector")
    op.drop_table("plan")
