"""The base map and the geocoder: the addresses get a spatial index (the tiles' address
layer, reverse geocoding) and a trigram index on their normalised text (suggestions as one
types, pg_trgm), and a ``suffix`` (« bis », « ter », « B »…) beside their number.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column(
        "address",
        sa.Column("suffix", sa.String(10), comment="« bis », « ter », « B »… (migration 0017)"),
    )
    op.create_index("ix_address_geom", "address", ["geom"], postgresql_using="gist")
    op.create_index(
        "ix_address_search_trgm",
        "address",
        ["search"],
        postgresql_using="gin",
        postgresql_ops={"search": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_address_search_trgm", table_name="address")
    op.drop_index("ix_address_geom", table_name="address")
    op.drop_column("address", "suffix")
