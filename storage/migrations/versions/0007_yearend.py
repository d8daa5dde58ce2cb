"""year-end programme: stories, events, unit contacts; per-day ledger totals kept by a trigger
and indexes for the yearly standings

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _assessed(name: str) -> list[sa.Column]:
    """The columns a story and an event share: text, decision, card, times."""
    s = sqlmodel.sql.sqltypes.AutoString
    return [
        sa.Column("what", s(length=3000), nullable=True),
        sa.Column("status", s(length=16), nullable=False),
        sa.Column("creative", sa.Boolean(), nullable=False),
        sa.Column("decided_by", s(length=32), nullable=True),
        sa.Column("decline_reason", s(length=3000), nullable=True),
        sa.Column("card_channel", s(length=32), nullable=True),
        sa.Column("card_ts", s(length=32), nullable=True),
        sa.Column("submission_key", s(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("purged_at", storage.types.UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    s = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "allyship_story",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", s(length=32), nullable=False),
        sa.Column("ally_id", s(length=32), nullable=False),
        sa.Column("reporter_marker", s(length=64), nullable=True),
        sa.Column("ally_marker", s(length=64), nullable=True),
        sa.Column("reporter_unit_id", sa.Integer(), nullable=True),
        sa.Column("ally_unit_id", sa.Integer(), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=True),
        *_assessed("allyship_story"),
        sa.ForeignKeyConstraint(["reporter_unit_id"], ["business_unit.id"]),
        sa.ForeignKeyConstraint(["ally_unit_id"], ["business_unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    op.create_index("ix_allyship_story_reporter_id", "allyship_story", ["reporter_id"])
    op.create_index("ix_allyship_story_ally_id", "allyship_story", ["ally_id"])
    op.create_index("ix_allyship_story_status", "allyship_story", ["status"])
    op.create_index("ix_allyship_story_decided_at", "allyship_story", ["decided_at"])
    op.create_table(
        "allyship_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("logged_by", s(length=32), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("title", s(length=150), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=False),
        *_assessed("allyship_event"),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    op.create_index("ix_allyship_event_logged_by", "allyship_event", ["logged_by"])
    op.create_index("ix_allyship_event_business_unit_id", "allyship_event", ["business_unit_id"])
    op.create_index("ix_allyship_event_status", "allyship_event", ["status"])
    op.create_index("ix_allyship_event_decided_at", "allyship_event", ["decided_at"])
    op.create_table(
        "unit_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", s(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("business_unit_id", "user_id", name="uq_unit_contact"),
    )
    op.create_index("ix_unit_contact_business_unit_id", "unit_contact", ["business_unit_id"])
    op.create_index("ix_unit_contact_user_id", "unit_contact", ["user_id"])
    op.create_index(
        "ix_points_entry_year_unit",
        "points_entry",
        ["created_at", "business_unit_id", "amount", "kind"],
    )
    op.create_index("ix_points_entry_kind_time", "points_entry", ["kind", "created_at"])
    _points_day()


_SQLITE_TRIGGER = """
CREATE TRIGGER points_day_after_insert AFTER INSERT ON points_entry
BEGIN
  INSERT INTO points_day (day, business_unit_id, points, hand_adjusted, last_act)
  VALUES (
    date(NEW.created_at), NEW.business_unit_id, NEW.amount,
    CASE WHEN NEW.kind = 'adjustment' THEN abs(NEW.amount) ELSE 0 END,
    CASE WHEN NEW.kind <> 'adjustment' AND NEW.amount > 0 THEN NEW.created_at END
  )
  ON CONFLICT (day, business_unit_id) DO UPDATE SET
    points = points + excluded.points,
    hand_adjusted = hand_adjusted + excluded.hand_adjusted,
    last_act = CASE
      WHEN excluded.last_act IS NULL THEN last_act
      WHEN last_act IS NULL OR excluded.last_act > last_act THEN excluded.last_act
      ELSE last_act
    END;
END
"""

_PG_FUNCTION = """
CREATE FUNCTION points_day_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO points_day AS d (day, business_unit_id, points, hand_adjusted, last_act)
  VALUES (
    (NEW.created_at AT TIME ZONE 'UTC')::date, NEW.business_unit_id, NEW.amount,
    CASE WHEN NEW.kind = 'adjustment' THEN abs(NEW.amount) ELSE 0 END,
    CASE WHEN NEW.kind <> 'adjustment' AND NEW.amount > 0 THEN NEW.created_at END
  )
  ON CONFLICT (day, business_unit_id) DO UPDATE SET
    points = d.points + EXCLUDED.points,
    hand_adjusted = d.hand_adjusted + EXCLUDED.hand_adjusted,
    last_act = GREATEST(d.last_act, EXCLUDED.last_act);
  RETURN NULL;
END
$$
"""

_PG_TRIGGER = """
CREATE TRIGGER points_day_after_insert AFTER INSERT ON points_entry
FOR EACH ROW EXECUTE FUNCTION points_day_add()
"""


def _points_day() -> None:
    """The per-unit, per-UTC-day ledger totals, filled from the ledger and kept by a trigger."""
    op.create_table(
        "points_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("hand_adjusted", sa.Integer(), nullable=False),
        sa.Column("last_act", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"]),
        sa.PrimaryKeyConstraint("day", "business_unit_id"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    day = "(created_at AT TIME ZONE 'UTC')::date" if postgres else "date(created_at)"
    op.execute(
        "INSERT INTO points_day (day, business_unit_id, points, hand_adjusted, last_act) "
        f"SELECT {day}, business_unit_id, sum(amount), "
        "sum(CASE WHEN kind = 'adjustment' THEN abs(amount) ELSE 0 END), "
        "max(CASE WHEN kind <> 'adjustment' AND amount > 0 THEN created_at END) "
        f"FROM points_entry GROUP BY {day}, business_unit_id"
    )
    if postgres:
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS points_day_after_insert ON points_entry")
        op.execute("DROP FUNCTION IF EXISTS points_day_add()")
    else:
        op.execute("DROP TRIGGER IF EXISTS points_day_after_insert")
    op.drop_table("points_day")
    op.drop_index("ix_points_entry_kind_time", table_name="points_entry")
    op.drop_index("ix_points_entry_year_unit", table_name="points_entry")
    op.drop_table("unit_contact")
    op.drop_table("allyship_event")
    op.drop_table("allyship_story")
