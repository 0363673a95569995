"""GPOs, partners, meetings, problems with their life cycle, actions and evaluations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _csp_id() -> sa.Column:
    return sa.Column(
        "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
    )


def _problem_id() -> sa.Column:
    return sa.Column(
        "problem_id",
        sa.BigInteger(),
        sa.ForeignKey("problem.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), primary_key=True),
        _csp_id(),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column(
            "type", sa.String(40), nullable=False, comment="a code of geo.problems.PARTNER_TYPES"
        ),
        sa.Column("contact_name", sa.String(200), nullable=True),
        sa.Column("contact", sa.String(200), nullable=True, comment="e-mail or telephone"),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.create_index("ix_partner_csp_id", "partner", ["csp_id"])
    op.create_table(
        "gpo",
        sa.Column("id", sa.Integer(), primary_key=True),
        _csp_id(),
        sa.Column("kind", sa.String(16), nullable=False, comment="sector or thematic"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sector", sa.Integer(), nullable=True, comment="sector index (sector GPOs)"),
        sa.Column(
            "sectors",
            JSONB(),
            nullable=False,
            server_default="[]",
            comment="sectors spanned (thematic GPOs)",
        ),
        sa.Column("theme", sa.String(40), nullable=True),
        sa.Column(
            "plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("chief_name", sa.String(200), nullable=True),
        sa.Column("chief_grade", sa.String(100), nullable=True),
        sa.Column("chief_contact", sa.String(200), nullable=True),
        sa.Column("cadence_days", sa.Integer(), nullable=False, server_default="15"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_gpo_csp_id", "gpo", ["csp_id"])
    op.create_index(
        "uq_gpo_sector_per_csp",
        "gpo",
        ["csp_id", "sector"],
        unique=True,
        postgresql_where=sa.text("kind = 'sector'"),
    )
    op.create_table(
        "gpo_partner",
        sa.Column(
            "gpo_id", sa.Integer(), sa.ForeignKey("gpo.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "partner_id",
            sa.Integer(),
            sa.ForeignKey("partner.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "gpo_id", sa.Integer(), sa.ForeignKey("gpo.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", JSONB(), nullable=False, server_default="[]"),
        sa.Column("notes", sa.String(10_000), nullable=True),
        sa.Column("decisions", JSONB(), nullable=False, server_default="[]"),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.create_index("ix_meeting_gpo_id", "meeting", ["gpo_id"])
    op.create_table(
        "problem",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _csp_id(),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(10_000), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column(
            "partner_id",
            sa.Integer(),
            sa.ForeignKey("partner.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False, server_default="normale"),
        sa.Column("status", sa.String(20), nullable=False, server_default="signale"),
        sa.Column("status_on", sa.Date(), nullable=False, comment="date of the last status change"),
        sa.Column("sector", sa.Integer(), nullable=True, comment="in the adopted plan"),
        sa.Column(
            "gpo_id", sa.Integer(), sa.ForeignKey("gpo.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("anchor", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_problem_anchor", "problem", ["anchor"], postgresql_using="gist")
    op.create_index("ix_problem_csp_reported", "problem", ["csp_id", "reported_on"])
    op.create_index("ix_problem_csp_sector", "problem", ["csp_id", "sector"])
    op.create_table(
        "problem_event",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _problem_id(),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
    )
    op.create_index("ix_problem_event_problem_id", "problem_event", ["problem_id"])
    op.create_table(
        "action",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _problem_id(),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column(
            "lead_partner_id",
            sa.Integer(),
            sa.ForeignKey("partner.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="prevue"),
        sa.Column("note", sa.String(2000), nullable=True),
    )
    op.create_index("ix_action_problem_id", "action", ["problem_id"])
    op.create_table(
        "evaluation",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _problem_id(),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("indicators", JSONB(), nullable=False, server_default="{}"),
        sa.Column("note", sa.String(2000), nullable=True),
    )
    op.create_index("ix_evaluation_problem_id", "evaluation", ["problem_id"])


def downgrade() -> None:
    for table in (
        "evaluation",
        "action",
        "problem_event",
        "problem",
        "meeting",
        "gpo_partner",
        "gpo",
        "partner",
    ):
        op.drop_table(table)
