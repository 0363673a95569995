"""The GPO workspace: a deputy chef and the categories of a thematic GPO; meetings planned,
invited, attended, decided and closed (with their compte rendu); the dated and signed
steps of an action; the notification outbox and its delivery attempts; and a ``version``
on every row two people may update at once (optimistic concurrency: a stale version is a
409).

Meetings recorded before this revision are closed ones (``status = 'close'``); their
free-text decisions become decisions of kind ``note``. ``meeting.attendees`` keeps the
people present who are not a partner organisation (the police side, guests).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

VERSIONED = ("gpo", "meeting", "problem", "action", "audit_request")


def _now() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(
            table,
            sa.Column(
                "version",
                sa.Integer(),
                nullable=False,
                server_default="1",
            ),
        )
    op.add_column("gpo", sa.Column("deputy_name", sa.String(200)))
    op.add_column("gpo", sa.Column("deputy_grade", sa.String(100)))
    op.add_column(
        "gpo",
        sa.Column(
            "categories",
            JSONB(),
            nullable=False,
            server_default="[]",
        ),
    )

    op.add_column(
        "meeting",
        sa.Column(
            "status",
            sa.String(16),
            nullable=False,
            server_default="close",
        ),
    )
    op.alter_column("meeting", "status", server_default="prevue")
    op.add_column("meeting", sa.Column("starts_at", sa.Time()))
    op.add_column("meeting", sa.Column("place", sa.String(200)))
    op.add_column(
        "meeting",
        sa.Column("invited_at", sa.DateTime(timezone=True)),
    )
    op.add_column("meeting", sa.Column("closed_at", sa.DateTime(timezone=True)))
    op.add_column(
        "meeting",
        sa.Column("closed_by", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
    )
    op.add_column("meeting", sa.Column("report_pdf", sa.LargeBinary()))
    op.add_column("meeting", _now())
    op.create_index("ix_meeting_gpo_held_on", "meeting", ["gpo_id", "held_on"])

    op.create_table(
        "meeting_partner",
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("meeting.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "partner_id",
            sa.Integer(),
            sa.ForeignKey("partner.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("invited", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("present", sa.Boolean()),
        sa.Column("represented_by", sa.String(200)),
    )

    op.create_table(
        "meeting_decision",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("meeting.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("problem_id", sa.BigInteger(), sa.ForeignKey("problem.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action_id", sa.BigInteger(), sa.ForeignKey("action.id", ondelete="SET NULL")),
        sa.Column("text", sa.String(2000), nullable=False),
        _now(),
    )

    op.create_table(
        "action_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "action_id",
            sa.BigInteger(),
            sa.ForeignKey("action.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("due_on", sa.Date()),
        sa.Column("comment", sa.String(2000)),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("signed_by", sa.String(200), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False, server_default="false"),
        _now(),
    )

    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment_name", sa.String(200)),
        sa.Column("attachment_type", sa.String(100)),
        sa.Column("attachment", sa.LargeBinary()),
        sa.Column(
            "dedupe_key",
            sa.String(200),
        ),
        sa.Column("entity_type", sa.String(40)),
        sa.Column("entity_id", sa.BigInteger()),
        sa.Column(
            "status",
            sa.String(16),
            nullable=False,
            server_default="pending",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        _now(),
        sa.UniqueConstraint("dedupe_key", name="uq_notification_dedupe_key"),
    )
    op.create_index(
        "ix_notification_due",
        "notification",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "notification_id",
            sa.BigInteger(),
            sa.ForeignKey("notification.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.String(2000)),
    )
    # The action cycle is prévue → en cours → réalisée | abandonnée (« terminée » before).
    op.execute("UPDATE action SET status = 'realisee' WHERE status = 'terminee'")
    # The free-text decisions of earlier meetings become decisions of kind « note ».
    op.execute(
        "INSERT INTO meeting_decision (meeting_id, kind, text) "
        "SELECT m.id, 'note', left(d.value, 2000) FROM meeting m, "
        "jsonb_array_elements_text(m.decisions) d"
    )
    op.drop_column("meeting", "decisions")


def downgrade() -> None:
    op.execute("UPDATE action SET status = 'terminee' WHERE status = 'realisee'")
    op.add_column("meeting", sa.Column("decisions", JSONB(), nullable=False, server_default="[]"))
    op.execute(
        "UPDATE meeting m SET decisions = d.texts FROM (SELECT meeting_id, "
        "jsonb_agg(text ORDER BY id) texts FROM meeting_decision GROUP BY meeting_id) d "
        "WHERE d.meeting_id = m.id"
    )
    op.drop_table("notification_attempt")
    op.drop_table("notification")
    op.drop_table("action_event")
    op.drop_table("meeting_decision")
    op.drop_table("meeting_partner")
    op.drop_index("ix_meeting_gpo_held_on", "meeting")
    for column in (
        "created_at",
        "report_pdf",
        "closed_by",
        "closed_at",
        "invited_at",
        "place",
        "starts_at",
        "status",
    ):
        op.drop_column("meeting", column)
    for column in ("categories", "deputy_grade", "deputy_name"):
        op.drop_column("gpo", column)
    for table in VERSIONED:
        op.drop_column(table, "version")
