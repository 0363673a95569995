"""Safety-study requests of communes (études de sûreté), their dated steps, the documents
handed over, and the référents / correspondants sûreté who carry them out.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, comment="referent or correspondant"),
        sa.Column("grade", sa.String(100), nullable=True),
        sa.Column("contact", sa.String(200), nullable=True, comment="e-mail or telephone"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.create_index("ix_referent_csp_id", "referent", ["csp_id"])
    op.create_table(
        "audit_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "commune_code",
            sa.String(5),
            sa.ForeignKey("commune.code", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(40), nullable=False, comment="a code of geo.audits.KINDS"),
        sa.Column("site_name", sa.String(300), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("need", sa.String(5000), nullable=False),
        sa.Column("desired_from", sa.Date(), nullable=True),
        sa.Column("desired_to", sa.Date(), nullable=True),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("contact_role", sa.String(200), nullable=True),
        sa.Column("contact_email", sa.String(200), nullable=True),
        sa.Column("contact_phone", sa.String(40), nullable=True),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False, server_default="demandee"),
        sa.Column("status_on", sa.Date(), nullable=False),
        sa.Column(
            "referent_id",
            sa.Integer(),
            sa.ForeignKey("referent.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("refusal_reason", sa.String(2000), nullable=True),
        sa.Column("recommendations", sa.String(20000), nullable=True),
        sa.Column(
            "duplicate_of",
            sa.Integer(),
            sa.ForeignKey("audit_request.id", ondelete="SET NULL"),
            nullable=True,
            comment="An open request for the same site, filed before (the commune confirmed)",
        ),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("anchor", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_audit_request_csp_status", "audit_request", ["csp_id", "status"])
    op.create_index("ix_audit_request_commune_code", "audit_request", ["commune_code"])
    op.create_index("ix_audit_request_anchor", "audit_request", ["anchor"], postgresql_using="gist")
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("audit_request.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column(
            "referent_id",
            sa.Integer(),
            sa.ForeignKey("referent.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index("ix_audit_event_request_id", "audit_event", ["request_id"])
    op.create_table(
        "audit_document",
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("audit_request.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("audit_document")
    op.drop_table("audit_event")
    op.drop_table("audit_request")
    op.drop_table("referent")
