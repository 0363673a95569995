"""An index for the OGC API's pages of problems sorted by date (issue 21).

``ix_problem_reported_id`` on ``problem (reported_on, id)``: a page of ``sortby=reported_on``
(or ``-reported_on``, read backwards), with or without a ``datetime`` interval, reads its
1 000 rows in order from the index instead of sorting the whole table (374 ms on 1 000 000
problems: a sequential scan and a top-N sort).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_problem_reported_id", "problem", ["reported_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_problem_reported_id", table_name="problem")
