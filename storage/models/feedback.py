"""Feedback on matches: who was asked, their answer and comment, and the prompts sent."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel, UniqueConstraint

from storage.types import UTCDateTime, utcnow


class Feedback(SQLModel, table=True):
    """One person's feedback on a match; its token is the only value on its buttons."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("match_id", "role", name="uq_feedback_match_role"),)

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)
    match_id: int = Field(foreign_key="match.id", index=True)
    # requester, ally or volunteer; the requester's answer decides the outcome.
    role: str = Field(max_length=16)
    # Who may answer; None for an anonymous requester, reached only through the case relay.
    user_id: str | None = Field(default=None, max_length=32)
    prompt_channel: str | None = Field(default=None, max_length=32)
    prompt_ts: str | None = Field(default=None, max_length=32)
    prompted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    reminder_channel: str | None = Field(default=None, max_length=32)
    reminder_ts: str | None = Field(default=None, max_length=32)
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    answer: str | None = Field(default=None, max_length=16)
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    comment: str | None = Field(default=None, max_length=3000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
