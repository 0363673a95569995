"""Which problems each committed write changed, for the maps kept by appending (issue 22).

``problem_map_change`` holds a row per problem a statement inserted, updated or deleted
(on ``problem`` or ``problem_place``), with the id of the transaction that wrote it
(``xid``, ``pg_current_xact_id()`` as a bigint). A map held with the snapshot it was read
at (``pg_current_snapshot()``) finds the problems changed since: the rows whose
transaction that snapshot does not see (``pg_visible_in_snapshot``), and reads only those
again (:mod:`api.services.area_maps`).

A statement writing more than :data:`MANY` problems of a CSP (an import, a plan's
placement) writes one row with no problem (``problem_id`` NULL: "many"): the maps of that
CSP are computed again from scratch. A ``TRUNCATE`` writes that row for ``csp_id = 0``
(every CSP). The table has no model (nor key, nor sequence): only these triggers write
it and only :func:`api.repositories.problem_maps.changed_problems` reads it. Rows older
than a day are deleted by the next write; a map held longer than
:data:`api.services.area_maps.MAX_HELD` (12 hours) is computed from scratch.

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

#: Past this many problems of a CSP in one statement, one "many" row instead.
MANY = 1000
TABLES = {"problem": "id", "problem_place": "problem_id"}


def _logged(rows: str, key: str) -> str:
    return (
        "INSERT INTO problem_map_change (csp_id, problem_id) "
        f"SELECT c.csp_id, CASE WHEN c.n > {MANY} THEN NULL ELSE r.{key} END "
        f"FROM (SELECT csp_id, count(*) AS n FROM {rows} GROUP BY csp_id) c "
        f"JOIN {rows} r ON r.csp_id = c.csp_id WHERE c.csp_id IS NOT NULL "
        f"GROUP BY 1, 2"
    )


def upgrade() -> None:
    op.create_table(
        "problem_map_change",
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
            comment="the writing transaction (pg_current_xact_id())",
        ),
        sa.Column("csp_id", sa.Integer(), nullable=False, comment="0: every CSP"),
        sa.Column("problem_id", sa.BigInteger(), nullable=True, comment="NULL: many"),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_problem_map_change_csp_xid", "problem_map_change", ["csp_id", "xid"])
    op.create_index("ix_problem_map_change_at", "problem_map_change", ["at"])
    op.execute(
        "CREATE FUNCTION map_change_truncated() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO problem_map_change (csp_id, problem_id) VALUES (0, NULL); "
        "RETURN NULL; END $$"
    )
    for table, key in TABLES.items():
        new, old = _logged("new_rows", key), _logged("old_rows", key)
        # Each event references only the transition tables it has (see migration 0019).
        op.execute(
            f"CREATE FUNCTION map_change_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {new}; END IF; "
            f"IF TG_OP IN ('DELETE', 'UPDATE') THEN {old}; END IF; "
            "DELETE FROM problem_map_change WHERE at < now() - interval '1 day'; "
            "RETURN NULL; END $$"
        )
        for event, tables in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_map_change_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION map_change_of_{table}()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_map_change_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION map_change_truncated()"
        )


def downgrade() -> None:
    for table in TABLES:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_map_change_{event} ON {table}")
        op.execute(f"DROP FUNCTION map_change_of_{table}()")
    op.execute("DROP FUNCTION map_change_truncated()")
    op.drop_table("problem_map_change")
