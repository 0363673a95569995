"""Accounts, what they are bound to (GPOs, communes, CSPs), personal access tokens,
sign-in attempts and the append-only audit trail.

``audit_log`` is append-only in PostgreSQL itself: a row trigger refuses UPDATE and
DELETE and a statement trigger refuses TRUNCATE, whoever connects (the app included).
It has no foreign key: the trail outlives the accounts it names.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLES = ("admin", "planificateur", "chef", "partenaire", "commune", "referent")


def _created_at(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, comment="lower-case"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, comment="a code of geo.accounts.ROLES"),
        sa.Column("password_hash", sa.String(200), nullable=False, comment="Argon2id"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="true"),
        _created_at(),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("email", name="uq_account_email"),
        sa.CheckConstraint("email = lower(email)", name="ck_account_email_lower"),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="ck_account_role"
        ),
    )
    op.create_table(
        "account_gpo",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "gpo_id", sa.Integer(), sa.ForeignKey("gpo.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_account_gpo_gpo_id", "account_gpo", ["gpo_id"])
    op.create_table(
        "account_commune",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "commune_code",
            sa.String(5),
            sa.ForeignKey("commune.code", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_account_commune_commune_code", "account_commune", ["commune_code"])
    op.create_table(
        "account_csp",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "csp_id", sa.Integer(), sa.ForeignKey("csp.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_account_csp_csp_id", "account_csp", ["csp_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "token_hash",
            sa.String(64),
            nullable=False,
            comment="hex SHA-256 of the token (never the token)",
        ),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    op.create_index("ix_api_token_account_id", "api_token", ["account_id"])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _created_at("at"),
        sa.Column("email", sa.String(254), nullable=False, comment="as typed, normalised"),
        sa.Column("address", sa.String(100), nullable=True, comment="the client's IP address"),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('success', 'failure', 'throttled')", name="ck_login_attempt_outcome"
        ),
    )
    op.create_index("ix_login_attempt_email_at", "login_attempt", ["email", "at"])
    op.create_index("ix_login_attempt_address_at", "login_attempt", ["address", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _created_at("at"),
        sa.Column(
            "actor",
            sa.Text(),
            nullable=False,
            comment="account:<id>, cli:<system user> or anonymous",
        ),
        sa.Column("actor_account_id", sa.Integer(), nullable=True, comment="no foreign key"),
        sa.Column("address", sa.String(100), nullable=True, comment="the client's IP address"),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("changes", JSONB(), nullable=True, comment="{field: [before, after]}"),
        sa.Column("detail", JSONB(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])
    op.create_index("ix_audit_log_actor_account_id", "audit_log", ["actor_account_id"])
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("login_attempt")
    op.drop_table("api_token")
    op.drop_table("account_csp")
    op.drop_table("account_commune")
    op.drop_table("account_gpo")
    op.drop_table("account")
