"""Indexes for the pages' reads under load (issue 22) and the OGC API's bbox (issue 21).

- ``ix_problem_geom``: GiST on ``problem.geom`` (the OGC API's ``bbox`` and
  ``S_INTERSECTS`` filter the problems on their geometry; only ``anchor`` had one);
- ``ix_problem_open``: the open problems of a CSP (a partial index, a third of the rows
  at most), with their category: the GPO list's counts and the open-problems list read
  them without the closed ones;
- ``ix_action_open_due``: the open actions of a problem with their due date (a partial
  index): the GPO list's due and overdue counts;
- ``ix_problem_place_csp_sector`` becomes covering (``problem_id``, ``gpo_id``): a
  GPO's problems are found in the index alone.

And a topic of the problems' revision (migration 0019), ``counts``: raised by the writes
that change which actions are open, when they are due and in what order the lists show
them (an action added, deleted, or whose status, due date, problem, lead partner or
start changed), not by a comment nor a note. The GPOs' counts and the order of the
action lists are kept until ``problems`` or ``counts`` moves: a comment leaves them.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None

OPEN = "status IN ('signale', 'analyse', 'actions_en_cours', 'evalue')"
OPEN_ACTION = "status IN ('prevue', 'en_cours')"


#: The CSPs whose actions an UPDATE changed in what the counts and the lists' order read.
CHANGED_ACTIONS = (
    "SELECT p.csp_id FROM new_rows n JOIN old_rows o ON o.id = n.id "
    "JOIN problem p ON p.id IN (n.problem_id, o.problem_id) "
    "WHERE (n.status, n.due_on, n.problem_id, n.lead_partner_id, n.start_on) "
    "IS DISTINCT FROM (o.status, o.due_on, o.problem_id, o.lead_partner_id, o.start_on)"
)
ACTION_ROWS = "SELECT p.csp_id FROM {rows} r JOIN problem p ON p.id = r.problem_id"


def _counts_trigger() -> None:
    # Each event references only the transition tables it has (see migration 0019).
    op.execute(
        "CREATE FUNCTION counts_of_action() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        "INSERT INTO problem_change (csp_id, topic) SELECT DISTINCT c.csp_id, 'counts' "
        f"FROM ({ACTION_ROWS.format(rows='new_rows')}) c; "
        "ELSIF TG_OP = 'DELETE' THEN "
        "INSERT INTO problem_change (csp_id, topic) SELECT DISTINCT c.csp_id, 'counts' "
        f"FROM ({ACTION_ROWS.format(rows='old_rows')}) c; "
        "ELSE "
        "INSERT INTO problem_change (csp_id, topic) SELECT DISTINCT c.csp_id, 'counts' "
        f"FROM ({CHANGED_ACTIONS}) c; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER action_counts_inserted AFTER INSERT ON action "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION counts_of_action()"
    )
    op.execute(
        "CREATE TRIGGER action_counts_updated AFTER UPDATE ON action "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION counts_of_action()"
    )
    op.execute(
        "CREATE TRIGGER action_counts_deleted AFTER DELETE ON action "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION counts_of_action()"
    )
    op.execute(
        "CREATE TRIGGER action_counts_truncated AFTER TRUNCATE ON action "
        "FOR EACH STATEMENT EXECUTE FUNCTION problem_truncated('counts')"
    )


def upgrade() -> None:
    _counts_trigger()
    op.create_index("ix_problem_geom", "problem", ["geom"], postgresql_using="gist")
    op.create_index(
        "ix_problem_open",
        "problem",
        ["csp_id", "id"],
        postgresql_include=["category"],
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_action_open_due",
        "action",
        ["problem_id", "due_on"],
        postgresql_where=sa.text(OPEN_ACTION),
    )
    op.drop_index("ix_problem_place_csp_sector", table_name="problem_place")
    op.create_index(
        "ix_problem_place_csp_sector",
        "problem_place",
        ["csp_id", "sector"],
        postgresql_include=["problem_id", "gpo_id"],
    )


def downgrade() -> None:
    for event in ("inserted", "updated", "deleted", "truncated"):
        op.execute(f"DROP TRIGGER action_counts_{event} ON action")
    op.execute("DROP FUNCTION counts_of_action()")
    op.drop_index("ix_problem_place_csp_sector", table_name="problem_place")
    op.create_index("ix_problem_place_csp_sector", "problem_place", ["csp_id", "sector"])
    op.drop_index("ix_action_open_due", table_name="action")
    op.drop_index("ix_problem_open", table_name="problem")
    op.drop_index("ix_problem_geom", table_name="problem")
