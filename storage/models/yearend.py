"""Tables of the year-end programme (SPEC 2.6): stories, events, nudges, awards, export.

A story or event is one row whose `status` moves once from `pending` to `accepted` or
`declined` (a conditional UPDATE decides who was first). Its text is deleted
ALLYBOT_RETENTION_DAYS after the decision (`purged_at`) and by `/ally forget-me`; the row,
its decision and its units stay for the counts. Nudges and the awards announcement are due
items keyed by year and unit (bot.jobs.queue): they need no table of their own.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from storage.models.points import PointsEntry
from storage.types import UTCDateTime, utcnow


class ReviewedSubmission(SQLModel):
    """What a story and an event share: their text, the admins' decision on it (once, from
    `pending`), the card that shows it, and when the text was purged. No table of its own;
    each table gets its own copy of these columns (sa_type, not a shared sa_column)."""

    what: str | None = Field(default=None, max_length=3000)
    status: str = Field(default="pending", max_length=16, index=True)
    creative: bool = Field(default=False)
    decided_by: str | None = Field(default=None, max_length=32)
    decline_reason: str | None = Field(default=None, max_length=3000)
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    submission_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, nullable=True, index=True
    )
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class AllyshipStory(ReviewedSubmission, table=True):
    """Allyship that happened outside the programme, reported by a colleague."""

    __tablename__ = "allyship_story"

    id: int | None = Field(default=None, primary_key=True)
    # FORGOTTEN once the reporter or the ally asked to be forgotten.
    reporter_id: str = Field(max_length=32, index=True)
    ally_id: str = Field(max_length=32, index=True)
    # Keyed markers (bot.privacy), for the awards' "distinct people helped".
    reporter_marker: str | None = Field(default=None, max_length=64)
    ally_marker: str | None = Field(default=None, max_length=64)
    reporter_unit_id: int | None = Field(default=None, foreign_key="business_unit.id")
    # The ally's unit, as it was when the story was accepted (the unit credited).
    ally_unit_id: int | None = Field(default=None, foreign_key="business_unit.id")
    happened_on: date | None = None


class AllyshipEvent(ReviewedSubmission, table=True):
    """An allyship event a business unit organised, logged by anyone."""

    __tablename__ = "allyship_event"

    id: int | None = Field(default=None, primary_key=True)
    # Who logged it (FORGOTTEN after forget-me); never shown on the card.
    logged_by: str = Field(max_length=32, index=True)
    business_unit_id: int = Field(foreign_key="business_unit.id", index=True)
    title: str | None = Field(default=None, max_length=150)
    happened_on: date


class UnitContact(SQLModel, table=True):
    """A person an admin named as a business unit's contact for nudges."""

    __tablename__ = "unit_contact"
    __table_args__ = (UniqueConstraint("business_unit_id", "user_id", name="uq_unit_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    business_unit_id: int = Field(foreign_key="business_unit.id", index=True)
    user_id: str = Field(max_length=32, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


# The award standings and the leaderboard add up one year of the ledger per unit: this
# covering index lets both read the year's rows by time without touching the table.
LEDGER_YEAR_INDEX = Index(
    "ix_points_entry_year_unit",
    PointsEntry.__table__.c.created_at,  # type: ignore[attr-defined]
    PointsEntry.__table__.c.business_unit_id,  # type: ignore[attr-defined]
    PointsEntry.__table__.c.amount,  # type: ignore[attr-defined]
    PointsEntry.__table__.c.kind,  # type: ignore[attr-defined]
)
# The awards read the year's successful allyships from the ledger by kind and time.
LEDGER_KIND_INDEX = Index(
    "ix_points_entry_kind_time",
    PointsEntry.__table__.c.kind,  # type: ignore[attr-defined]
    PointsEntry.__table__.c.created_at,  # type: ignore[attr-defined]
)


class PointsDay(SQLModel, table=True):
    """The ledger added up per business unit and UTC day, kept by a database trigger on every
    points_entry insert (migration 0007), so a year's standings read ~365 rows per unit
    instead of every ledger row. Derived data: the ledger stays the source of truth."""

    __tablename__ = "points_day"

    day: date = Field(primary_key=True)
    business_unit_id: int = Field(foreign_key="business_unit.id", primary_key=True)
    points: int = 0
    # Sum of |amount| over adjustment rows (the awards' first tie-breaker).
    hand_adjusted: int = 0
    # The latest row that earned points (amount > 0, not an adjustment).
    last_act: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
