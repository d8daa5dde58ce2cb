"""case_relay: a requester's replies relayed to a volunteer, so edits, deletions and the
purge reach the copies (the requester's message known only by a keyed hash)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_relay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("source_marker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pending_sealed", sa.Text(), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("copy_channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("copy_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["anonymous_case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_marker"),
    )
    with op.batch_alter_table("case_relay", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_relay_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_relay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_relay_case_id"))
    op.drop_table("case_relay")
