"""Web sessions: the server side of the ``psq_session`` cookie and of the bearer tokens
given by ``POST /api/auth/token``. Only the SHA-256 of a session id is stored.

A session ends at ``expires_at`` (absolute expiry), after the idle time without a request
(``last_seen_at``, see ``api.config.Settings``), or when it is revoked (sign-out).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "session_hash",
            sa.String(64),
            nullable=False,
            comment="hex SHA-256 of the session id (never the id)",
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, comment="absolute"),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(100), nullable=True, comment="the client's IP address"),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.UniqueConstraint("session_hash", name="uq_web_session_session_hash"),
    )
    op.create_index("ix_web_session_account_id", "web_session", ["account_id"])


def downgrade() -> None:
    op.drop_table("web_session")
