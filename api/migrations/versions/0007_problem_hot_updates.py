"""Problems: room on each page and no index on their sector, so that re-assigning them
after a plan change is an in-place (heap-only) update.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_problem_csp_sector", table_name="problem")
    op.execute("ALTER TABLE problem SET (fillfactor = 50)")


def downgrade() -> None:
    op.execute("ALTER TABLE problem RESET (fillfactor)")
    op.create_index("ix_problem_csp_sector", "problem", ["csp_id", "sector"])
