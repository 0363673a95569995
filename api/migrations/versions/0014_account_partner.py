"""The partner organisation a ``partenaire`` account speaks for: the actions that
organisation leads are the ones the account may update.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "account",
        sa.Column(
            "partner_id",
            sa.Integer(),
            sa.ForeignKey("partner.id", ondelete="SET NULL"),
            nullable=True,
            comment="partenaire: the organisation whose actions it updates",
        ),
    )


def downgrade() -> None:
    op.drop_column("account", "partner_id")
