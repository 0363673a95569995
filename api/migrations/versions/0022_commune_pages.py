"""The intercommunalité (EPCI) of each commune, when its boundaries file gives it: a
contrat de sécurité intégrée may span all the communes of an intercommunalité.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "commune",
        sa.Column("epci_code", sa.String(20), nullable=True, comment="SIREN of its EPCI"),
    )
    op.add_column("commune", sa.Column("epci_name", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("commune", "epci_name")
    op.drop_column("commune", "epci_code")
