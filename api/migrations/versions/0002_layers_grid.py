"""Layers, commune-level QPV list, H3 grids with their cells and edges.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _geom(kind: str) -> Geometry:
    return Geometry(kind, srid=4326, spatial_index=False)


def upgrade() -> None:
    op.create_table(
        "layer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "source", sa.String(500), nullable=False, comment="file name it was imported from"
        ),
        sa.Column("source_crs", sa.String(100), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("warnings", JSONB(), server_default="[]", nullable=False),
        sa.Column(
            "extent", _geom("POLYGON"), nullable=True, comment="where a grid is authoritative"
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_table(
        "layer_feature",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "layer_id", sa.Integer(), sa.ForeignKey("layer.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("code", sa.String(100), nullable=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column(
            "category",
            sa.String(100),
            nullable=True,
            comment="barrier class, point type or zone type",
        ),
        sa.Column("bridge", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("tunnel", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "values",
            JSONB(),
            server_default="{}",
            nullable=False,
            comment="extensive variables of a population grid",
        ),
        sa.Column("attributes", JSONB(), server_default="{}", nullable=False),
        sa.Column("geom", _geom("GEOMETRY"), nullable=False),
    )
    op.create_index("ix_layer_feature_layer_id", "layer_feature", ["layer_id"])
    op.create_index("ix_layer_feature_geom", "layer_feature", ["geom"], postgresql_using="gist")
    op.create_table(
        "commune_qpv",
        sa.Column(
            "commune_code",
            sa.String(5),
            sa.ForeignKey("commune.code", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("qpv_code", sa.String(20), primary_key=True),
        sa.Column("qpv_name", sa.String(300), nullable=False),
    )
    op.create_table(
        "grid",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("parameters", JSONB(), server_default="{}", nullable=False),
        sa.Column("cell_count", sa.Integer(), nullable=False),
        sa.Column("component_count", sa.Integer(), nullable=False),
        sa.Column(
            "built_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("csp_id", "resolution", name="uq_grid_csp_resolution"),
    )
    op.create_table(
        "cell",
        sa.Column(
            "grid_id", sa.Integer(), sa.ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("h3", sa.String(16), primary_key=True),
        sa.Column("commune_code", sa.String(5), nullable=True),
        sa.Column("clipped", sa.Boolean(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("population", sa.Float(), nullable=False),
        sa.Column("households", sa.Float(), nullable=False),
        sa.Column("poor_households", sa.Float(), nullable=False),
        sa.Column("social_housing", sa.Float(), nullable=False),
        sa.Column("workload", sa.Float(), nullable=False),
        sa.Column(
            "source", sa.String(20), nullable=False, comment="grid, commune, grid+commune, none"
        ),
        sa.Column("component", sa.Integer(), nullable=False),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
    )
    op.create_index("ix_cell_geom", "cell", ["geom"], postgresql_using="gist")
    op.create_table(
        "cell_edge",
        sa.Column(
            "grid_id", sa.Integer(), sa.ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("a", sa.String(16), primary_key=True),
        sa.Column("b", sa.String(16), primary_key=True),
        sa.Column("shared_m", sa.Float(), nullable=False),
        sa.Column("barrier", sa.String(100), nullable=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    for table in ("cell_edge", "cell", "grid", "commune_qpv", "layer_feature", "layer"):
        op.drop_table(table)
