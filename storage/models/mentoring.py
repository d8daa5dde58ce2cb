"""Tables of the reverse mentoring (SPEC 4): cohorts, sign-up, pairing review, check-ins, report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Column, Field, SQLModel, UniqueConstraint

from storage.types import UTCDateTime, utcnow


class MentoringCohort(SQLModel, table=True):
    """One cohort: its length and cadence, the proposal under review, where it stands."""

    __tablename__ = "mentoring_cohort"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    months: int
    cadence_seconds: int
    # open (sign-up, pairing under review) -> running (pairs confirmed) -> closed.
    status: str = Field(default="open", max_length=16)
    created_by: str = Field(max_length=32)
    call_channel: str | None = Field(default=None, max_length=32)
    call_ts: str | None = Field(default=None, max_length=32)
    # The proposal shown to the admins (pairs, unmatched) and its number; a confirm button
    # carries the number it was shown with, so an older proposal is never confirmed.
    proposal: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    proposal_version: int = Field(default=0)
    # What the admins allowed for pairing: a mentor may take this many mentees (when mentees
    # outnumber mentors), and pairs from earlier cohorts may be formed again.
    mentor_capacity: int = Field(default=1)
    allow_repeats: bool = Field(default=False)
    confirmed_version: int = Field(default=0)
    # The review's changes: fixed pairs (swap) and ruled-out pairs (exclude), as id lists.
    required_pairs: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    excluded_pairs: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confirmed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class MentoringParticipant(SQLModel, table=True):
    """One person's sign-up to a cohort: sensitive, seen only by admins, deleted by forget-me."""

    __tablename__ = "mentoring_participant"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id", name="uq_mentoring_participant_cohort_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="mentoring_cohort.id", index=True)
    user_id: str = Field(max_length=32, index=True)
    role: str = Field(max_length=16)
    business_unit: str = Field(default="", max_length=100)
    country: str = Field(default="", max_length=100)
    seniority: str = Field(default="", max_length=100)
    interests: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reports_to: str | None = Field(default=None, max_length=32)
    exclude: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The behaviour ids ticked at sign-up and at the close, and the levels they give.
    behaviours_before: list[Any] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    level_before: int = Field(default=1)
    behaviours_after: list[Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    level_after: int | None = Field(default=None)
    # active, paused or left (no explanation is asked).
    status: str = Field(default="active", max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class MentoringPair(SQLModel, table=True):
    """A confirmed pair, its group DM and its meetings."""

    __tablename__ = "mentoring_pair"

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="mentoring_cohort.id", index=True)
    mentor_id: str = Field(max_length=32, index=True)
    mentee_id: str = Field(max_length=32, index=True)
    score: int = Field(default=0)
    reasons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # active, then ended (a pause, a leave, or the cohort's close).
    status: str = Field(default="active", max_length=16)
    channel: str | None = Field(default=None, max_length=32)
    intro_ts: str | None = Field(default=None, max_length=32)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class MentoringCheckin(SQLModel, table=True):
    """One check-in of a pair (meeting number from 1): the message and the answer."""

    __tablename__ = "mentoring_checkin"
    __table_args__ = (
        UniqueConstraint("pair_id", "meeting", name="uq_mentoring_checkin_pair_meeting"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="mentoring_pair.id", index=True)
    meeting: int
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    # met or not_met; None until one of the pair clicks.
    answer: str | None = Field(default=None, max_length=16)
    answered_by: str | None = Field(default=None, max_length=32)
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    note: str | None = Field(default=None, max_length=3000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
