"""cases: anonymous cases, sealed drafts, paused requesters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anonymous_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("details", sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=True),
        sa.Column("timing", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requester_sealed", sa.Text(), nullable=True),
        sa.Column("requester_marker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("dm_sealed", sa.Text(), nullable=True),
        sa.Column("thread_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("volunteer_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("card_channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("card_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("ask_request_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ally_found_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purged_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ask_request_id"], ["ally_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handle"),
    )
    with op.batch_alter_table("anonymous_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anonymous_case_ask_request_id"), ["ask_request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_anonymous_case_requester_marker"), ["requester_marker"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_anonymous_case_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_anonymous_case_thread_ts"), ["thread_ts"], unique=False
        )

    op.create_table(
        "case_draft",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=43), nullable=False),
        sa.Column("owner_marker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "case_pause",
        sa.Column("requester_marker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("paused_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("paused_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["anonymous_case.id"]),
        sa.PrimaryKeyConstraint("requester_marker"),
    )


def downgrade() -> None:
    op.drop_table("case_pause")
    op.drop_table("case_draft")
    with op.batch_alter_table("anonymous_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anonymous_case_thread_ts"))
        batch_op.drop_index(batch_op.f("ix_anonymous_case_status"))
        batch_op.drop_index(batch_op.f("ix_anonymous_case_requester_marker"))
        batch_op.drop_index(batch_op.f("ix_anonymous_case_ask_request_id"))
    op.drop_table("anonymous_case")
