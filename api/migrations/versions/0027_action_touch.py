"""Which actions each committed write touched (issue 22): ``action_touch``.

The lists of a GPO's open problems (each with its actions) and of its actions (each with
its steps, problem and GPO) were built again whole after every action step. Now each
entry of such a list is kept with the snapshot the list was read in, and only the entries
written since are read again: the problems of ``problem_touch`` (migration 0026) and the
actions of ``action_touch``, the rows whose transaction that snapshot does not see.

Statement triggers write one row per action written (inserted, updated, deleted) with
its problem (an update: its old and new problem), and one per action whose steps
(``action_event``) were written, with problem 0 (its steps only: what its problem's list
shows of it is unchanged). A statement writing more than ``BULK`` rows, a partner's
organisation changed or deleted, a GPO renamed (the lists name them) and a ``TRUNCATE``
write one row without an action (``action_id`` 0): the lists of that CSP (``csp_id`` 0: of
every CSP) are read again whole. An action whose problem is deleted with it (a cascade)
has no row: its problem's deletion is in ``problem_touch``. The touches older than
``RETAINED`` transactions are deleted by the next statement touching their CSP.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

#: Past this many rows, a statement touches its CSPs whole (one row each).
BULK = 1000

XID = "pg_current_xact_id()::text::bigint"

#: As migration 0026's (:data:`api.repositories.touches.RETAINED`).
RETAINED = 1_000_000

#: table → its rows' (CSP, action, problem) in the transition table ``rows``
WATCHED = {
    "action": "SELECT p.csp_id, r.id AS action_id, r.problem_id "
    "FROM rows r JOIN problem p ON p.id = r.problem_id",
    "action_event": "SELECT p.csp_id, r.action_id, 0 AS problem_id "
    "FROM rows r JOIN action a ON a.id = r.action_id JOIN problem p ON p.id = a.problem_id",
}

#: table → the column whose change makes an update touch its rows' old values too
MOVED = {"action": "problem_id", "action_event": "action_id"}


def _touch(rows: str, touched: str) -> str:
    """SQL: the touches of the rows of the transition table ``rows``."""
    of = touched.replace("FROM rows", f"FROM {rows}")
    return (
        f"IF (SELECT count(*) FROM {rows}) > {BULK} THEN "
        "INSERT INTO action_touch (csp_id, action_id, problem_id, xid) "
        f"SELECT DISTINCT t.csp_id, 0, 0, {XID} FROM ({of}) t ON CONFLICT DO NOTHING; "
        "ELSE "
        "INSERT INTO action_touch (csp_id, action_id, problem_id, xid) "
        f"SELECT DISTINCT t.csp_id, t.action_id, t.problem_id, {XID} FROM ({of}) t "
        "ON CONFLICT DO NOTHING; "
        "END IF; "
        f"DELETE FROM action_touch o USING (SELECT DISTINCT t.csp_id FROM ({of}) t) c "
        f"WHERE o.csp_id = c.csp_id AND o.xid < {XID} - {RETAINED}; "
    )


def _every(rows: str, where: str = "TRUE") -> str:
    """SQL: every action of the CSPs of the rows of ``rows`` (with a ``csp_id``)."""
    return (
        "INSERT INTO action_touch (csp_id, action_id, problem_id, xid) "
        f"SELECT DISTINCT csp_id, 0, 0, {XID} FROM {rows} WHERE {where} ON CONFLICT DO NOTHING; "
    )


def upgrade() -> None:
    op.create_table(
        "action_touch",
        sa.Column("csp_id", sa.Integer(), primary_key=True, comment="0: every CSP"),
        sa.Column("xid", sa.BigInteger(), primary_key=True),
        sa.Column("action_id", sa.Integer(), primary_key=True, comment="0: every action"),
        sa.Column("problem_id", sa.Integer(), primary_key=True, comment="0: its steps only"),
    )
    for table, touched in WATCHED.items():
        op.execute(
            f"CREATE FUNCTION action_touch_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'INSERT' THEN "
            + _touch("new_rows", touched)
            + "ELSIF TG_OP = 'DELETE' THEN "
            + _touch("old_rows", touched)
            + "ELSE "
            + _touch("new_rows", touched)
            # the old problem too when it changed (its list loses the action)
            + "IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id "
            f"WHERE n.{MOVED[table]} IS DISTINCT FROM o.{MOVED[table]}) THEN "
            + _touch("old_rows", touched)
            + "END IF; END IF; RETURN NULL; END $$"
        )
        _statement_triggers(table, f"action_touch_of_{table}()")
    # what the lists show of a partner (its organisation) and of a GPO (its name)
    for table, shown in (("partner", "organisation"), ("gpo", "name")):
        changed = f"n.{shown} IS DISTINCT FROM o.{shown} OR n.csp_id <> o.csp_id"
        op.execute(
            f"CREATE FUNCTION action_touch_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'DELETE' THEN " + _every("old_rows") + "ELSIF TG_OP = 'UPDATE' THEN "
            "INSERT INTO action_touch (csp_id, action_id, problem_id, xid) "
            f"SELECT DISTINCT c.csp_id, 0, 0, {XID} FROM old_rows o "
            "JOIN new_rows n ON n.id = o.id, LATERAL (VALUES (o.csp_id), (n.csp_id)) c(csp_id) "
            f"WHERE {changed} ON CONFLICT DO NOTHING; "
            "END IF; RETURN NULL; END $$"
        )
        for event, tables in (
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_action_touch_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION action_touch_of_{table}()"
            )
    op.execute(
        "CREATE FUNCTION action_touch_truncated() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO action_touch (csp_id, action_id, problem_id, xid) "
        f"VALUES (0, 0, 0, {XID}) ON CONFLICT DO NOTHING; "
        "RETURN NULL; END $$"
    )
    for table in (*WATCHED, "partner"):
        op.execute(
            f"CREATE TRIGGER {table}_action_touch_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION action_touch_truncated()"
        )


def _statement_triggers(table: str, function: str) -> None:
    # Each event references only the transition tables it has (see migration 0019).
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER {table}_action_touch_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}"
        )


def downgrade() -> None:
    for table in WATCHED:
        for event in ("insert", "update", "delete", "truncated"):
            op.execute(f"DROP TRIGGER {table}_action_touch_{event} ON {table}")
    for event in ("update", "delete", "truncated"):
        op.execute(f"DROP TRIGGER partner_action_touch_{event} ON partner")
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER gpo_action_touch_{event} ON gpo")
    for table in (*WATCHED, "partner", "gpo"):
        op.execute(f"DROP FUNCTION action_touch_of_{table}()")
    op.execute("DROP FUNCTION action_touch_truncated()")
    op.drop_table("action_touch")
