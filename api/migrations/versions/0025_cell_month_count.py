"""``cell_month_count``: the problems of each cell of each grid per month of their
``reported_on`` (``problems``, and how many of them are synthetic), kept by the same
statement triggers on ``problem`` as ``cell_count`` (migration 0024), in the writing
transaction: a new, moved, deleted problem, one whose CSP, ``synthetic`` flag or month
of ``reported_on`` changed moves the count of the one cell of each of its CSP's grids
that covers its anchor (the cell of lowest id on a shared boundary), for that month.

The cell of each grid is looked up once per problem for both tables: the trigger
function of 0024 is replaced by one that writes both. Each table's rows are upserted in
the order of their key (``ORDER BY``): two transactions writing problems of the same
cells lock their counters in the same order, so they wait for one another (a counter is
one row) but never deadlock.

The index ``ix_problem_csp_reported`` carries the anchors (``INCLUDE``): the OGC
aggregate reads a few days of a CSP's problems from it alone.

No category: the only reader (the OGC aggregate ``problem-counts``, its last 12 months
per cell) counts every category. A grid's rows are written when it is stored
(``api.repositories.grid``); the grids built before are counted here.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

#: The problems of the query ``{rows}`` (csp_id, anchor, reported_on, synthetic, sign),
#: each with the cell of each grid of its CSP that covers its anchor, added with
#: ``sign`` to the totals (``cell_count``) and to the month's (``cell_month_count``).
COUNT_DELTA = (
    "WITH hit AS MATERIALIZED (SELECT h.grid_id, h.h3, "
    "date_trunc('month', ch.reported_on)::date AS month, ch.sign, "
    "CASE WHEN ch.synthetic THEN ch.sign ELSE 0 END AS synthetic "
    "FROM ({rows}) ch JOIN grid g ON g.csp_id = ch.csp_id "
    "CROSS JOIN LATERAL (SELECT c.grid_id, c.h3 FROM cell c "
    "WHERE c.grid_id = g.id AND ST_Covers(c.geom, ch.anchor) "
    'ORDER BY c.h3 COLLATE "C" LIMIT 1) h), '
    "totals AS (INSERT INTO cell_count AS cc (grid_id, h3, problems, synthetic_problems) "
    "SELECT grid_id, h3, sum(sign), sum(synthetic) FROM hit GROUP BY grid_id, h3 "
    "HAVING sum(sign) <> 0 OR sum(synthetic) <> 0 ORDER BY grid_id, h3 "
    "ON CONFLICT (grid_id, h3) DO UPDATE SET problems = cc.problems + EXCLUDED.problems, "
    "synthetic_problems = cc.synthetic_problems + EXCLUDED.synthetic_problems) "
    "INSERT INTO cell_month_count AS cm (grid_id, h3, month, problems, synthetic_problems) "
    "SELECT grid_id, h3, month, sum(sign), sum(synthetic) FROM hit "
    "GROUP BY grid_id, h3, month HAVING sum(sign) <> 0 OR sum(synthetic) <> 0 "
    "ORDER BY grid_id, h3, month "
    "ON CONFLICT (grid_id, h3, month) DO UPDATE SET problems = cm.problems + EXCLUDED.problems, "
    "synthetic_problems = cm.synthetic_problems + EXCLUDED.synthetic_problems"
)
#: The rows of an UPDATE whose counts may change, before (``o``) and after (``n``).
MOVED = (
    "FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE (o.csp_id, o.synthetic, date_trunc('month', o.reported_on)) IS DISTINCT FROM "
    "(n.csp_id, n.synthetic, date_trunc('month', n.reported_on)) "
    "OR NOT (o.anchor IS NOT DISTINCT FROM n.anchor)"
)
COLUMNS = "csp_id, anchor, reported_on, synthetic"


def _function(delta: str, moved: str, columns: str) -> str:
    """The trigger function of ``problem``'s statements with this delta query."""
    added = delta.format(rows=f"SELECT {columns}, 1 AS sign FROM new_rows")
    removed = delta.format(rows=f"SELECT {columns}, -1 AS sign FROM old_rows")
    old = ", ".join(f"o.{c}" for c in columns.split(", "))
    new = ", ".join(f"n.{c}" for c in columns.split(", "))
    changed = delta.format(
        rows=f"SELECT {old}, -1 AS sign {moved} UNION ALL SELECT {new}, 1 {moved}"
    )
    return (
        "CREATE OR REPLACE FUNCTION cell_count_of_problem() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP = 'INSERT' THEN {added}; "
        f"ELSIF TG_OP = 'DELETE' THEN {removed}; "
        f"ELSE {changed}; END IF; RETURN NULL; END $$"
    )


def upgrade() -> None:
    op.create_table(
        "cell_month_count",
        sa.Column("grid_id", sa.Integer(), primary_key=True),
        sa.Column("h3", sa.String(16), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True, comment="its first day"),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("synthetic_problems", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], ondelete="CASCADE"),
    )
    op.execute(_function(COUNT_DELTA, MOVED, COLUMNS))
    op.execute(
        "CREATE OR REPLACE FUNCTION cell_count_emptied() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM cell_count; DELETE FROM cell_month_count; RETURN NULL; END $$"
    )
    # The problems of a few days of a CSP with their anchors, from the index alone (the
    # OGC aggregate's first month, when ``problem``'s pages are not in memory: 0.4 to 1 s
    # for 8 000 problems read from the table on a loaded machine).
    op.drop_index("ix_problem_csp_reported", table_name="problem")
    op.create_index(
        "ix_problem_csp_reported",
        "problem",
        ["csp_id", "reported_on"],
        postgresql_include=["anchor"],
    )
    # The grids built before: their months counted once here (their totals are kept).
    op.execute(
        "INSERT INTO cell_month_count (grid_id, h3, month, problems, synthetic_problems) "
        "SELECT h.grid_id, h.h3, date_trunc('month', p.reported_on)::date, count(*), "
        "count(*) FILTER (WHERE p.synthetic) FROM problem p JOIN grid g ON g.csp_id = p.csp_id "
        "CROSS JOIN LATERAL (SELECT c.grid_id, c.h3 FROM cell c "
        "WHERE c.grid_id = g.id AND ST_Covers(c.geom, p.anchor) "
        'ORDER BY c.h3 COLLATE "C" LIMIT 1) h GROUP BY 1, 2, 3'
    )


#: Migration 0024's function (totals only), put back by the downgrade.
TOTALS_DELTA = (
    "INSERT INTO cell_count AS cc (grid_id, h3, problems, synthetic_problems) "
    "SELECT hit.grid_id, hit.h3, sum(ch.sign), sum(CASE WHEN ch.synthetic THEN ch.sign ELSE 0 END) "
    "FROM ({rows}) ch JOIN grid g ON g.csp_id = ch.csp_id "
    "CROSS JOIN LATERAL (SELECT c.grid_id, c.h3 FROM cell c "
    "WHERE c.grid_id = g.id AND ST_Covers(c.geom, ch.anchor) "
    'ORDER BY c.h3 COLLATE "C" LIMIT 1) hit '
    "GROUP BY hit.grid_id, hit.h3 "
    "ON CONFLICT (grid_id, h3) DO UPDATE SET problems = cc.problems + EXCLUDED.problems, "
    "synthetic_problems = cc.synthetic_problems + EXCLUDED.synthetic_problems"
)
TOTALS_MOVED = (
    "FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE (o.csp_id, o.synthetic) IS DISTINCT FROM (n.csp_id, n.synthetic) "
    "OR NOT (o.anchor IS NOT DISTINCT FROM n.anchor)"
)


def downgrade() -> None:
    op.execute(_function(TOTALS_DELTA, TOTALS_MOVED, "csp_id, anchor, synthetic"))
    op.execute(
        "CREATE OR REPLACE FUNCTION cell_count_emptied() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM cell_count; RETURN NULL; END $$"
    )
    op.drop_table("cell_month_count")
    op.drop_index("ix_problem_csp_reported", table_name="problem")
    op.create_index("ix_problem_csp_reported", "problem", ["csp_id", "reported_on"])
