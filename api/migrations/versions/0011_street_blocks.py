"""Street-block units: a grid (and a plan) says whether its units are H3 cells or blocks.

``grid.units`` is ``h3`` (H3 cells clipped to the CSP, as before) or ``blocks`` (street
blocks, :mod:`geo.blocks`); a CSP may have one grid per (units, resolution). ``plan.units``
names the grid its cells belong to. Existing rows are H3 grids and plans.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UNITS_COMMENT = "h3: H3 cells clipped to the CSP; blocks: street blocks"


def upgrade() -> None:
    for table in ("grid", "plan"):
        op.add_column(
            table,
            sa.Column(
                "units",
                sa.String(length=8),
                server_default="h3",
                nullable=False,
                comment=UNITS_COMMENT,
            ),
        )
    op.drop_constraint("uq_grid_csp_resolution", "grid", type_="unique")
    op.create_unique_constraint(
        "uq_grid_csp_units_resolution", "grid", ["csp_id", "units", "resolution"]
    )


def downgrade() -> None:
    op.execute("DELETE FROM plan WHERE units <> 'h3'")
    op.execute("DELETE FROM grid WHERE units <> 'h3'")
    op.drop_constraint("uq_grid_csp_units_resolution", "grid", type_="unique")
    op.create_unique_constraint("uq_grid_csp_resolution", "grid", ["csp_id", "resolution"])
    for table in ("plan", "grid"):
        op.drop_column(table, "units")
