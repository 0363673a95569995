"""The revision of the problems, per CSP and per topic: a write invalidates only the cached
answers it can change.

Revision 0009 kept one number for the whole database, raised by every committed write to
problems, their follow-up, GPOs or partners: one new action step in one CSP emptied every
cached heat map of every CSP. Now ``problem_revision`` holds a number per ``(csp_id,
topic)``:

- ``problems``: what the maps read (problems, their placements, the GPOs whose sectors and
  themes draw the study areas);
- ``follow_up``: what the lists add (steps, actions and their steps, evaluations,
  partners, GPOs).

The statement triggers read the CSPs touched from their transition tables; ``csp_id = 0``
is "every CSP" (a ``TRUNCATE``), added to each CSP's own number when read. As before, the
numbers rise when the transaction commits (a deferred constraint trigger), so a reader
never caches an answer under a number a writer has not yet committed.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

OLD_TABLES = ("problem", "problem_place", "problem_event", "action", "evaluation", "gpo", "partner")

#: table → (the CSPs of its rows in the transition table ``rows``, the topics it changes)
WATCHED: dict[str, tuple[str, tuple[str, ...]]] = {
    "problem": ("SELECT csp_id FROM rows", ("problems", "follow_up")),
    "problem_place": ("SELECT csp_id FROM rows", ("problems",)),
    "gpo": ("SELECT csp_id FROM rows", ("problems", "follow_up")),
    "partner": ("SELECT csp_id FROM rows", ("follow_up",)),
    "problem_event": (
        "SELECT p.csp_id FROM rows r JOIN problem p ON p.id = r.problem_id",
        ("follow_up",),
    ),
    "action": (
        "SELECT p.csp_id FROM rows r JOIN problem p ON p.id = r.problem_id",
        ("follow_up",),
    ),
    "evaluation": (
        "SELECT p.csp_id FROM rows r JOIN problem p ON p.id = r.problem_id",
        ("follow_up",),
    ),
    "action_event": (
        "SELECT p.csp_id FROM rows r JOIN action a ON a.id = r.action_id "
        "JOIN problem p ON p.id = a.problem_id",
        ("follow_up",),
    ),
}


def _drop_0009() -> None:
    # Earlier revisions of this same upgrade may have written problems: their deferred
    # revision steps run now, before the tables they use are dropped.
    op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in OLD_TABLES:
        op.execute(f"DROP TRIGGER {table}_changed ON {table}")
    op.execute("DROP TRIGGER problem_change_at_commit ON problem_change")
    op.execute("DROP FUNCTION problem_change_committed()")
    op.execute("DROP FUNCTION problem_changed()")
    op.drop_table("problem_change")
    op.drop_table("problem_revision")


def upgrade() -> None:
    _drop_0009()
    op.create_table(
        "problem_revision",
        sa.Column("csp_id", sa.Integer(), primary_key=True, comment="0: every CSP"),
        sa.Column("topic", sa.String(16), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "problem_change",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("csp_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(16), nullable=False),
    )
    op.execute(
        "CREATE FUNCTION problem_change_committed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "INSERT INTO problem_revision (csp_id, topic, n) VALUES (NEW.csp_id, NEW.topic, 1) "
        "ON CONFLICT (csp_id, topic) DO UPDATE SET n = problem_revision.n + 1; "
        "DELETE FROM problem_change WHERE id = NEW.id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER problem_change_at_commit AFTER INSERT ON problem_change "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION problem_change_committed()"
    )
    op.execute(
        "CREATE FUNCTION problem_truncated() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO problem_change (csp_id, topic) SELECT 0, t FROM unnest(TG_ARGV) t; "
        "RETURN NULL; END $$"
    )
    for table, (csps, topics) in WATCHED.items():
        new = csps.replace("FROM rows", "FROM new_rows")
        old = csps.replace("FROM rows", "FROM old_rows")
        # Each event references only the transition tables it has: an INSERT has no old
        # rows, a DELETE no new ones (PL/pgSQL plans a statement when it first runs it).
        op.execute(
            f"CREATE FUNCTION revision_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP IN ('INSERT', 'UPDATE') THEN "
            "INSERT INTO problem_change (csp_id, topic) SELECT DISTINCT c.csp_id, t "
            f"FROM ({new}) c, unnest(TG_ARGV) t WHERE c.csp_id IS NOT NULL; END IF; "
            "IF TG_OP IN ('DELETE', 'UPDATE') THEN "
            "INSERT INTO problem_change (csp_id, topic) SELECT DISTINCT c.csp_id, t "
            f"FROM ({old}) c, unnest(TG_ARGV) t WHERE c.csp_id IS NOT NULL; END IF; "
            "RETURN NULL; END $$"
        )
        args = ", ".join(f"'{topic}'" for topic in topics)
        op.execute(
            f"CREATE TRIGGER {table}_revision_inserted AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION revision_of_{table}({args})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_revision_updated AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION revision_of_{table}({args})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_revision_deleted AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION revision_of_{table}({args})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_revision_truncated AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION problem_truncated({args})"
        )


def downgrade() -> None:
    op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in WATCHED:
        for event in ("inserted", "updated", "deleted", "truncated"):
            op.execute(f"DROP TRIGGER {table}_revision_{event} ON {table}")
        op.execute(f"DROP FUNCTION revision_of_{table}()")
    op.execute("DROP FUNCTION problem_truncated()")
    op.execute("DROP TRIGGER problem_change_at_commit ON problem_change")
    op.execute("DROP FUNCTION problem_change_committed()")
    op.drop_table("problem_change")
    op.drop_table("problem_revision")
    op.create_table(
        "problem_revision",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO problem_revision (id, n) VALUES (1, 0)")
    op.create_table(
        "problem_change", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True)
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
    events = " OR ".join(("INSERT", "UPDATE", "DELETE", "TRUNCATE"))
    for table in OLD_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION problem_changed()"
        )
