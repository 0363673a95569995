"""A change log of problems, their placements, steps, actions and evaluations, so that
computed maps and lists can be cached.

Every statement that writes one of :data:`TABLES` adds one row to
``problem_change`` (statement triggers: a million-row import adds one row). A reader keys
its cache on ``max(id)``: the row becomes visible with the data it announces, at commit,
and concurrent writers never wait on each other (inserts, not updates of a counter).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EVENTS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
TABLES = ("problem", "problem_place", "problem_event", "action", "evaluation")


def upgrade() -> None:
    op.create_table(
        "problem_change",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.execute(
        "CREATE FUNCTION problem_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO problem_change DEFAULT VALUES; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER {' OR '.join(EVENTS)} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION problem_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_changed ON {table}")
    op.execute("DROP FUNCTION problem_changed()")
    op.drop_table("problem_change")
