"""The commune's space (issue 18): conventions de participation citoyenne (their quartiers,
signatories and volunteer référents), interventions recorded by the police and the
mayors' alert preferences; the outbox gets a channel (e-mail or SMS) and the commune a
message concerns (its delivery log).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _now() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "convention",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "commune_code",
            sa.String(5),
            sa.ForeignKey("commune.code", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("quartier", sa.String(200), nullable=False),
        sa.Column("whole_commune", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("signatories", JSONB(), nullable=False, server_default="[]"),
        sa.Column("start_on", sa.Date()),
        sa.Column("end_on", sa.Date()),
        sa.Column("denounced_on", sa.Date()),
        sa.Column("denunciation_reason", sa.String(2000)),
        sa.Column("note", sa.String(2000)),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _now(),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
        sa.CheckConstraint("end_on IS NULL OR end_on >= start_on", name="ck_convention_end"),
    )
    op.create_index("ix_convention_csp_id", "convention", ["csp_id"])
    op.create_index("ix_convention_geom", "convention", ["geom"], postgresql_using="gist")
    op.create_table(
        "convention_referent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "convention_id",
            sa.Integer(),
            sa.ForeignKey("convention.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("email", sa.String(254)),
        sa.Column("street", sa.String(300)),
    )

    op.create_table(
        "intervention",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "commune_code",
            sa.String(5),
            sa.ForeignKey("commune.code", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "nature",
            sa.String(30),
            nullable=False,
            comment="geo.participation.INTERVENTION_NATURES",
        ),
        sa.Column("place", sa.String(300)),
        sa.Column("note", sa.String(1000)),
        sa.Column("recorded_by", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
        _now(),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_intervention_commune_at", "intervention", ["commune_code", "occurred_at"])

    op.create_table(
        "alert_preference",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("phone", sa.String(40)),
        sa.Column("channels", JSONB(), nullable=False, server_default='["email"]'),
        sa.Column("natures", JSONB(), nullable=False, server_default="[]"),
        sa.Column("quiet_from", sa.Time()),
        sa.Column("quiet_to", sa.Time()),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )

    op.create_table(
        "csi_contract",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("intercommunalite", sa.String(200)),
        sa.Column("commune_codes", JSONB(), nullable=False),
        sa.Column("signed_on", sa.Date()),
        sa.Column("start_on", sa.Date()),
        sa.Column("end_on", sa.Date()),
        sa.Column("objectives", JSONB(), nullable=False, server_default="[]"),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _now(),
        sa.CheckConstraint("end_on IS NULL OR end_on >= start_on", name="ck_csi_contract_end"),
    )
    op.create_index("ix_csi_contract_csp_id", "csi_contract", ["csp_id"])
    op.create_table(
        "csi_contract_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "contract_id",
            sa.Integer(),
            sa.ForeignKey("csi_contract.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", JSONB(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        _now(),
        sa.UniqueConstraint("contract_id", "version", name="uq_csi_contract_version"),
    )

    op.add_column(
        "notification",
        sa.Column(
            "channel", sa.String(8), nullable=False, server_default="email", comment="email or sms"
        ),
    )
    op.add_column(
        "notification",
        sa.Column(
            "commune_code",
            sa.String(5),
            sa.ForeignKey("commune.code", ondelete="SET NULL"),
            comment="the commune it concerns (its delivery log)",
        ),
    )
    op.create_index("ix_notification_commune_code", "notification", ["commune_code"])


def downgrade() -> None:
    op.drop_index("ix_notification_commune_code", table_name="notification")
    op.drop_column("notification", "commune_code")
    op.drop_column("notification", "channel")
    op.drop_table("csi_contract_version")
    op.drop_table("csi_contract")
    op.drop_table("alert_preference")
    op.drop_table("intervention")
    op.drop_table("convention_referent")
    op.drop_table("convention")
