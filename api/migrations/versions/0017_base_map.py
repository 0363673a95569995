"""The base map and the geocoder: the addresses get a spatial index (the tiles' address
layer, reverse geocoding), an index by commune and street, and a ``suffix`` (« bis »,
« ter », « B »…) beside their number; their streets get a table of their own
(``address_street``: one row per commune, postcode and street, with the normalised text
under a trigram index, pg_trgm) that suggestions search first.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column(
        "address",
        sa.Column("suffix", sa.String(10), comment="« bis », « ter », « B »… (migration 0017)"),
    )
    op.create_index("ix_address_geom", "address", ["geom"], postgresql_using="gist")
    op.create_index("ix_address_street", "address", ["citycode", "postcode", "street"])
    op.create_table(
        "address_street",
        sa.Column("citycode", sa.String(5), primary_key=True),
        sa.Column("postcode", sa.String(5), primary_key=True),
        sa.Column("street", sa.String(200), primary_key=True),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column(
            "search", sa.String(400), nullable=False, comment="normalised street and commune"
        ),
        comment="the streets of the address table, which suggestions search first",
    )
    op.create_index(
        "ix_address_street_search_trgm",
        "address_street",
        ["search"],
        postgresql_using="gin",
        postgresql_ops={"search": "gin_trgm_ops"},
    )
    op.execute(
        "INSERT INTO address_street (citycode, postcode, street, city, search) "
        "SELECT DISTINCT ON (citycode, postcode, street) citycode, postcode, street, city, "
        "search FROM address ORDER BY citycode, postcode, street"
    )


def downgrade() -> None:
    op.drop_table("address_street")
    op.drop_index("ix_address_street", table_name="address")
    op.drop_index("ix_address_geom", table_name="address")
    op.drop_column("address", "suffix")
