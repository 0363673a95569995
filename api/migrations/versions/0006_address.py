"""The local address table of the offline geocoder (BAN format).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("postcode", sa.String(5), nullable=False),
        sa.Column("citycode", sa.String(5), nullable=False),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column(
            "search", sa.String(400), nullable=False, comment="normalised street and commune"
        ),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_address_citycode", "address", ["citycode"])


def downgrade() -> None:
    op.drop_table("address")
