"""surveys, survey answers, misuse reports and the pauses admins see

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    s = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "survey_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", s(length=64), nullable=False),
        sa.Column("survey_id", s(length=64), nullable=False),
        sa.Column("channel", s(length=32), nullable=True),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("title", s(length=200), nullable=False),
        sa.Column("status", s(length=16), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_survey_run_survey_id", "survey_run", ["survey_id"])
    op.create_table(
        "survey_answer",
        sa.Column("id", s(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("business_unit", s(length=75), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["survey_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_survey_answer_run_id", "survey_answer", ["run_id"])
    op.create_table(
        "survey_marker",
        sa.Column("marker", s(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["survey_run.id"]),
        sa.PrimaryKeyConstraint("marker"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_survey_marker_run_id", "survey_marker", ["run_id"])
    op.create_table(
        "misuse_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("status", s(length=16), nullable=False),
        sa.Column("decided_by", s(length=32), nullable=True),
        sa.Column("card_channel", s(length=32), nullable=True),
        sa.Column("card_ts", s(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["ally_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_table(
        "misuse_reporter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("marker", s(length=64), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["misuse_report.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "marker"),
    )
    op.create_index("ix_misuse_reporter_report_id", "misuse_reporter", ["report_id"])
    op.create_table(
        "person_pause",
        sa.Column("marker", s(length=64), nullable=False),
        sa.Column("source", s(length=16), nullable=False),
        sa.Column("paused_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("marker"),
    )


def downgrade() -> None:
    op.drop_table("person_pause")
    op.drop_index("ix_misuse_reporter_report_id", table_name="misuse_reporter")
    op.drop_table("misuse_reporter")
    op.drop_table("misuse_report")
    op.drop_index("ix_survey_marker_run_id", table_name="survey_marker")
    op.drop_table("survey_marker")
    op.drop_index("ix_survey_answer_run_id", table_name="survey_answer")
    op.drop_table("survey_answer")
    op.drop_index("ix_survey_run_survey_id", table_name="survey_run")
    op.drop_table("survey_run")
