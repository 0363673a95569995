"""Which problems each committed write touched (issue 22): ``problem_touch``.

The lists of problems (a GPO's problems as GeoJSON, its open problems, the GPOs' counts,
the order of its actions) were computed again whole after every new problem. Now a list
is kept with the snapshot (``pg_current_snapshot()``) it was read in, and brought up to
date by reading again only the problems written since: the rows of ``problem_touch``
whose transaction that snapshot does not see.

Statement triggers write one row per problem written (inserted, updated, deleted) in
``problem`` or placed again in ``problem_place``, with the writing transaction's id
(``xid``: ``pg_current_xact_id()`` as a number). A statement writing more than
``BULK`` rows (an import, a plan's adoption placing every problem again), a change of a
GPO's territory or theme (its CSP, kind, sector, sectors, categories, plan, activity) and
a ``TRUNCATE`` write one row without a problem (``problem_id`` 0): the lists of that
CSP (``csp_id`` 0: of every CSP) are read again whole. The touches older than
``RETAINED`` transactions are deleted by the next statement touching their CSP (a list
held in a snapshot that old is read again whole).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

#: Past this many rows, a statement touches its CSPs whole (one row each).
BULK = 1000

XID = "pg_current_xact_id()::text::bigint"

#: The touches of the transactions older than this many are deleted by the next statement
#: touching that CSP: a list held in an older snapshot is read again whole
#: (:data:`api.repositories.touches.RETAINED`).
RETAINED = 1_000_000

#: table → its column of the problem's id (an UPDATE touches its rows' problems in their
#: new CSP, and in their old one when it changed)
WATCHED = {
    "problem": "id",
    "problem_place": "problem_id",
}


def _touch(rows: str, column: str) -> str:
    """SQL: the touches of the rows of the transition table ``rows``."""
    return (
        f"IF (SELECT count(*) FROM {rows}) > {BULK} THEN "
        f"INSERT INTO problem_touch (csp_id, problem_id, xid) "
        f"SELECT DISTINCT csp_id, 0, {XID} FROM {rows} ON CONFLICT DO NOTHING; "
        "ELSE "
        f"INSERT INTO problem_touch (csp_id, problem_id, xid) "
        f"SELECT DISTINCT csp_id, {column}, {XID} FROM {rows} ON CONFLICT DO NOTHING; "
        "END IF; "
        f"DELETE FROM problem_touch t USING (SELECT DISTINCT csp_id FROM {rows}) c "
        f"WHERE t.csp_id = c.csp_id AND t.xid < {XID} - {RETAINED}; "
    )


def upgrade() -> None:
    op.create_table(
        "problem_touch",
        sa.Column("csp_id", sa.Integer(), primary_key=True, comment="0: every CSP"),
        sa.Column("xid", sa.BigInteger(), primary_key=True),
        sa.Column("problem_id", sa.Integer(), primary_key=True, comment="0: every problem"),
    )
    for table, column in WATCHED.items():
        op.execute(
            f"CREATE FUNCTION touch_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'INSERT' THEN "
            + _touch("new_rows", column)
            + "ELSIF TG_OP = 'DELETE' THEN "
            + _touch("old_rows", column)
            + "ELSE "
            + _touch("new_rows", column)
            + "IF EXISTS (SELECT 1 FROM old_rows o "
            f"JOIN new_rows n ON n.{column} = o.{column} WHERE n.csp_id <> o.csp_id) THEN "
            + _touch("old_rows", column)
            + "END IF; END IF; RETURN NULL; END $$"
        )
        _statement_triggers(table, f"touch_of_{table}()")
    op.execute(
        "CREATE FUNCTION touch_of_gpo() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        "INSERT INTO problem_touch (csp_id, problem_id, xid) "
        f"SELECT DISTINCT csp_id, 0, {XID} FROM new_rows ON CONFLICT DO NOTHING; "
        "ELSIF TG_OP = 'DELETE' THEN "
        "INSERT INTO problem_touch (csp_id, problem_id, xid) "
        f"SELECT DISTINCT csp_id, 0, {XID} FROM old_rows ON CONFLICT DO NOTHING; "
        "ELSE "
        "INSERT INTO problem_touch (csp_id, problem_id, xid) "
        f"SELECT DISTINCT c.csp_id, 0, {XID} FROM old_rows o "
        "JOIN new_rows n ON n.id = o.id, LATERAL (VALUES (o.csp_id), (n.csp_id)) c(csp_id) "
        f"WHERE (o.csp_id, o.kind, o.sector, o.sectors, o.categories, o.plan_id, o.active) "
        f"IS DISTINCT FROM "
        f"(n.csp_id, n.kind, n.sector, n.sectors, n.categories, n.plan_id, n.active) "
        "ON CONFLICT DO NOTHING; "
        "END IF; RETURN NULL; END $$"
    )
    _statement_triggers("gpo", "touch_of_gpo()")
    op.execute(
        "CREATE FUNCTION touch_truncated() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO problem_touch (csp_id, problem_id, xid) "
        f"VALUES (0, 0, {XID}) ON CONFLICT DO NOTHING; "
        "RETURN NULL; END $$"
    )
    for table in (*WATCHED, "gpo"):
        op.execute(
            f"CREATE TRIGGER {table}_touch_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION touch_truncated()"
        )


def _statement_triggers(table: str, function: str) -> None:
    # Each event references only the transition tables it has (see migration 0019).
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER {table}_touch_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}"
        )


def downgrade() -> None:
    for table in (*WATCHED, "gpo"):
        for event in ("insert", "update", "delete", "truncated"):
            op.execute(f"DROP TRIGGER {table}_touch_{event} ON {table}")
        op.execute(f"DROP FUNCTION touch_of_{table}()")
    op.execute("DROP FUNCTION touch_truncated()")
    op.drop_table("problem_touch")
