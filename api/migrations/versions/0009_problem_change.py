"""A revision number of the problems, so that computed maps and lists can be cached.

``problem_revision.n`` rises by one with every committed transaction that wrote a problem,
its placement, steps, actions or evaluations, a GPO or a partner (:data:`TABLES`), and only
then: a reader that keys its cache on ``n`` never keeps an answer computed before another
transaction's data became visible.

How: a statement trigger on each table adds a row to ``problem_change`` (no waiting between
writers: inserts); a deferred constraint trigger on that row runs at commit, raises the
counter and deletes the row. The counter row is locked only from that moment to the end of
the commit, so concurrent writers wait microseconds, not for each other's whole
transaction (a million-row import included).

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
TABLES = ("problem", "problem_place", "problem_event", "action", "evaluation", "gpo", "partner")


def upgrade() -> None:
    op.create_table(
        "problem_revision",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO problem_revision (id, n) VALUES (1, 0)")
    op.create_table(
        "problem_change",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
    )
    op.execute(
        "CREATE FUNCTION problem_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO problem_change DEFAULT VALUES; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION problem_change_committed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE problem_revision SET n = n + 1 WHERE id = 1; "
        "DELETE FROM problem_change WHERE id = NEW.id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER problem_change_at_commit AFTER INSERT ON problem_change "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION problem_change_committed()"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER {' OR '.join(EVENTS)} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION problem_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_changed ON {table}")
    op.execute("DROP TRIGGER problem_change_at_commit ON problem_change")
    op.execute("DROP FUNCTION problem_change_committed()")
    op.execute("DROP FUNCTION problem_changed()")
    op.drop_table("problem_change")
    op.drop_table("problem_revision")
