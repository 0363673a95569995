"""Two more topics of the revision table (migrations 0019, 0021), for the reads of every
request and of the GPO page (issue 22):

- ``accounts`` (``csp_id = 0``: every CSP): who a credential opens and what they may see
  (``api.services.sessions.resolve_caller`` keeps the caller per credential until it
  moves). Raised by a change of an account, of its bindings (GPOs, communes, CSPs), of a
  GPO's CSP or of a CSP's communes (its area), by a token or a session revoked, deleted,
  or whose expiry changed. Not by what every request writes: a session's ``last_seen_at``
  or a token's ``last_used_at`` moving forward (moved back, as an idle session is made in
  the tests, it does).
- ``meetings``: a GPO's meetings, their partners and decisions, and the partners' names
  (the meetings list, kept until it, ``problems``, whose titles it shows, or ``accounts``
  moves: not at each action step, which moves ``follow_up``).

As for the others, the number rises when the writing transaction commits (a row of
``problem_change``, counted by its deferred trigger).

And ``cell_count``: the problems of each cell of each grid (``problems``, and how many of
them are synthetic), kept by the writes of problems in their own transaction (statement
triggers: a new, moved, deleted problem, or one whose CSP or ``synthetic`` flag changed,
moves the count of the one cell of each of its CSP's grids that covers its anchor, the
cell of lowest id on a shared boundary, as :func:`geo.point_counts.points_per_unit`
says). A grid's counts are written when it is stored (``api.repositories.grid``). The
cells map reads them instead of counting every problem again after each write.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

#: Tables whose every row change moves ``accounts`` (statement triggers).
ACCOUNT_TABLES = ("account_gpo", "account_commune", "account_csp", "csp_commune")
#: Table → the condition on an UPDATE of a row that moves ``accounts``.
ACCOUNT_ROW_UPDATES = {
    "account": "OLD IS DISTINCT FROM NEW",
    "api_token": (
        "OLD.revoked_at IS DISTINCT FROM NEW.revoked_at "
        "OR OLD.expires_at IS DISTINCT FROM NEW.expires_at "
        "OR OLD.account_id IS DISTINCT FROM NEW.account_id "
        "OR OLD.token_hash IS DISTINCT FROM NEW.token_hash "
        "OR NEW.last_used_at < OLD.last_used_at"
    ),
    "web_session": (
        "OLD.revoked_at IS DISTINCT FROM NEW.revoked_at "
        "OR OLD.expires_at IS DISTINCT FROM NEW.expires_at "
        "OR OLD.account_id IS DISTINCT FROM NEW.account_id "
        "OR OLD.session_hash IS DISTINCT FROM NEW.session_hash "
        "OR NEW.last_seen_at < OLD.last_seen_at"
    ),
    "gpo": "OLD.csp_id IS DISTINCT FROM NEW.csp_id",
}
#: Tables whose deleted rows move ``accounts`` (a new token or session opens nothing cached).
ACCOUNT_DELETES = ("account", "api_token", "web_session")

#: Meeting tables → the CSPs of their rows in the transition table ``rows``.
MEETING_TABLES = {
    "meeting": "SELECT g.csp_id FROM rows r JOIN gpo g ON g.id = r.gpo_id",
    "partner": "SELECT r.csp_id FROM rows r",
    "meeting_partner": (
        "SELECT g.csp_id FROM rows r JOIN meeting m ON m.id = r.meeting_id "
        "JOIN gpo g ON g.id = m.gpo_id"
    ),
    "meeting_decision": (
        "SELECT g.csp_id FROM rows r JOIN meeting m ON m.id = r.meeting_id "
        "JOIN gpo g ON g.id = m.gpo_id"
    ),
}


def _accounts() -> None:
    op.execute(
        "CREATE FUNCTION accounts_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO problem_change (csp_id, topic) VALUES (0, 'accounts'); "
        "RETURN NULL; END $$"
    )
    for table in ACCOUNT_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_accounts_changed AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION accounts_changed()"
        )
    for table, condition in ACCOUNT_ROW_UPDATES.items():
        op.execute(
            f"CREATE TRIGGER {table}_accounts_updated AFTER UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION accounts_changed()"
        )
    for table in ACCOUNT_DELETES:
        op.execute(
            f"CREATE TRIGGER {table}_accounts_deleted AFTER DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION accounts_changed()"
        )
    for table in (*ACCOUNT_TABLES, *ACCOUNT_DELETES):
        op.execute(
            f"CREATE TRIGGER {table}_accounts_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION problem_truncated('accounts')"
        )


def _meetings() -> None:
    for table, csps in MEETING_TABLES.items():
        new = csps.replace("FROM rows", "FROM new_rows")
        old = csps.replace("FROM rows", "FROM old_rows")
        # Each event references only the transition tables it has (see migration 0019).
        op.execute(
            f"CREATE FUNCTION meetings_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP IN ('INSERT', 'UPDATE') THEN "
            "INSERT INTO problem_change (csp_id, topic) SELECT DISTINCT c.csp_id, 'meetings' "
            f"FROM ({new}) c; END IF; "
            "IF TG_OP IN ('DELETE', 'UPDATE') THEN "
            "INSERT INTO problem_change (csp_id, topic) SELECT DISTINCT c.csp_id, 'meetings' "
            f"FROM ({old}) c; END IF; "
            "RETURN NULL; END $$"
        )
        for event, tables in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_meetings_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION meetings_of_{table}()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_meetings_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION problem_truncated('meetings')"
        )


#: The cell of each grid of the problem's CSP that covers its anchor: added with
#: ``sign`` to the counts, for the problems of the query ``{rows}`` (csp_id, anchor,
#: synthetic, sign).
COUNT_DELTA = (
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
#: The rows of an UPDATE whose count may change, before (``o``) and after (``n``).
MOVED = (
    "FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE (o.csp_id, o.synthetic) IS DISTINCT FROM (n.csp_id, n.synthetic) "
    "OR NOT (o.anchor IS NOT DISTINCT FROM n.anchor)"
)


def _cell_counts() -> None:
    op.create_table(
        "cell_count",
        sa.Column("grid_id", sa.Integer(), primary_key=True),
        sa.Column("h3", sa.String(16), primary_key=True),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("synthetic_problems", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], ondelete="CASCADE"),
    )
    added = COUNT_DELTA.format(rows="SELECT csp_id, anchor, synthetic, 1 AS sign FROM new_rows")
    removed = COUNT_DELTA.format(rows="SELECT csp_id, anchor, synthetic, -1 AS sign FROM old_rows")
    moved = COUNT_DELTA.format(
        rows=f"SELECT o.csp_id, o.anchor, o.synthetic, -1 AS sign {MOVED} "
        f"UNION ALL SELECT n.csp_id, n.anchor, n.synthetic, 1 {MOVED}"
    )
    op.execute(
        "CREATE FUNCTION cell_count_of_problem() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP = 'INSERT' THEN {added}; "
        f"ELSIF TG_OP = 'DELETE' THEN {removed}; "
        f"ELSE {moved}; END IF; RETURN NULL; END $$"
    )
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER problem_cell_count_{event.lower()} AFTER {event} ON problem "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION cell_count_of_problem()"
        )
    op.execute(
        "CREATE FUNCTION cell_count_emptied() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM cell_count; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER problem_cell_count_truncate AFTER TRUNCATE ON problem "
        "FOR EACH STATEMENT EXECUTE FUNCTION cell_count_emptied()"
    )
    # The grids built before: counted once here.
    op.execute(COUNT_DELTA.format(rows="SELECT csp_id, anchor, synthetic, 1 AS sign FROM problem"))


def upgrade() -> None:
    _accounts()
    _meetings()
    _cell_counts()


def downgrade() -> None:
    op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER problem_cell_count_{event} ON problem")
    op.execute("DROP FUNCTION cell_count_of_problem()")
    op.execute("DROP FUNCTION cell_count_emptied()")
    op.drop_table("cell_count")
    for table in MEETING_TABLES:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_meetings_{event} ON {table}")
        op.execute(f"DROP FUNCTION meetings_of_{table}()")
    for table in ACCOUNT_TABLES:
        op.execute(f"DROP TRIGGER {table}_accounts_changed ON {table}")
    for table in ACCOUNT_ROW_UPDATES:
        op.execute(f"DROP TRIGGER {table}_accounts_updated ON {table}")
    for table in ACCOUNT_DELETES:
        op.execute(f"DROP TRIGGER {table}_accounts_deleted ON {table}")
    for table in (*ACCOUNT_TABLES, *ACCOUNT_DELETES):
        op.execute(f"DROP TRIGGER {table}_accounts_truncated ON {table}")
    op.execute("DROP FUNCTION accounts_changed()")
    op.execute("DELETE FROM problem_revision WHERE topic IN ('accounts', 'meetings')")
