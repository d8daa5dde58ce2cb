"""reverse mentoring: cohorts, participants, pairs, check-ins

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mentoring_cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("cadence_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("call_channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("call_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("proposal_version", sa.Integer(), nullable=False),
        sa.Column("mentor_capacity", sa.Integer(), nullable=False),
        sa.Column("allow_repeats", sa.Boolean(), nullable=False),
        sa.Column("confirmed_version", sa.Integer(), nullable=False),
        sa.Column("required_pairs", sa.JSON(), nullable=False),
        sa.Column("excluded_pairs", sa.JSON(), nullable=False),
        sa.Column("confirmed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "mentoring_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("mentee_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("intro_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["mentoring_cohort.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mentoring_pair", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mentoring_pair_cohort_id"), ["cohort_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mentoring_pair_mentee_id"), ["mentee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mentoring_pair_mentor_id"), ["mentor_id"], unique=False
        )

    op.create_table(
        "mentoring_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("business_unit", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("seniority", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("reports_to", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("exclude", sa.JSON(), nullable=False),
        sa.Column("behaviours_before", sa.JSON(), nullable=False),
        sa.Column("level_before", sa.Integer(), nullable=False),
        sa.Column("behaviours_after", sa.JSON(), nullable=True),
        sa.Column("level_after", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["mentoring_cohort.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cohort_id", "user_id", name="uq_mentoring_participant_cohort_user"),
    )
    with op.batch_alter_table("mentoring_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mentoring_participant_cohort_id"), ["cohort_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mentoring_participant_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "mentoring_checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("meeting", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("answered_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["mentoring_pair.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pair_id", "meeting", name="uq_mentoring_checkin_pair_meeting"),
    )
    with op.batch_alter_table("mentoring_checkin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentoring_checkin_pair_id"), ["pair_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mentoring_checkin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentoring_checkin_pair_id"))

    op.drop_table("mentoring_checkin")
    with op.batch_alter_table("mentoring_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentoring_participant_user_id"))
        batch_op.drop_index(batch_op.f("ix_mentoring_participant_cohort_id"))

    op.drop_table("mentoring_participant")
    with op.batch_alter_table("mentoring_pair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentoring_pair_mentor_id"))
        batch_op.drop_index(batch_op.f("ix_mentoring_pair_mentee_id"))
        batch_op.drop_index(batch_op.f("ix_mentoring_pair_cohort_id"))

    op.drop_table("mentoring_pair")
    op.drop_table("mentoring_cohort")
