"""Territory: communes, CSP and their link.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "commune",
        sa.Column("code", sa.String(5), primary_key=True, comment="INSEE code"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_commune_geom", "commune", ["geom"], postgresql_using="gist")
    op.create_table(
        "csp",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_csp_geom", "csp", ["geom"], postgresql_using="gist")
    op.create_table(
        "csp_commune",
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "commune_code",
            sa.String(5),
            sa.ForeignKey("commune.code", ondelete="RESTRICT"),
            primary_key=True,
        ),
    )
    op.create_index("ix_csp_commune_commune_code", "csp_commune", ["commune_code"])


def downgrade() -> None:
    op.drop_table("csp_commune")
    op.drop_table("csp")
    op.drop_table("commune")
