"""The sector and GPO of each problem move to a narrow table: a plan change rewrites
small rows instead of whole problems (geometries included).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "problem_place",
        sa.Column("problem_id", sa.BigInteger(), primary_key=True),
        sa.Column("csp_id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.Integer(), nullable=False),
        sa.Column("gpo_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_problem_place_csp_sector", "problem_place", ["csp_id", "sector"])
    # No foreign keys (a million placements would pay two key checks each): a placement
    # goes with its problem through this trigger.
    op.execute(
        "CREATE FUNCTION problem_place_forget() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM problem_place pp USING gone WHERE pp.problem_id = gone.id; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER problem_deleted AFTER DELETE ON problem "
        "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION problem_place_forget()"
    )
    op.execute(
        "INSERT INTO problem_place SELECT id, csp_id, sector, gpo_id FROM problem "
        "WHERE sector IS NOT NULL"
    )
    op.drop_column("problem", "gpo_id")
    op.drop_column("problem", "sector")
    op.execute("ALTER TABLE problem RESET (fillfactor)")


def downgrade() -> None:
    op.execute("DROP TRIGGER problem_deleted ON problem")
    op.execute("DROP FUNCTION problem_place_forget()")
    op.add_column("problem", sa.Column("sector", sa.Integer(), nullable=True))
    op.add_column(
        "problem",
        sa.Column(
            "gpo_id", sa.Integer(), sa.ForeignKey("gpo.id", ondelete="SET NULL"), nullable=True
        ),
    )
    op.execute(
        "UPDATE problem p SET sector = pp.sector, gpo_id = pp.gpo_id FROM problem_place pp "
        "WHERE pp.problem_id = p.id"
    )
    op.drop_table("problem_place")
