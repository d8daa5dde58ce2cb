"""The programme's people and business units."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from storage.types import UTCDateTime, utcnow

# What a user-id column holds once its person asked to be forgotten (`/ally forget-me`) and
# the row itself must stay for the counts. Not a Slack ID: nothing is ever sent to it.
FORGOTTEN = "forgotten"


class BusinessUnit(SQLModel, table=True):
    """A unit that earns points; from ALLYBOT_BUSINESS_UNITS or added by an admin."""

    __tablename__ = "business_unit"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=75, unique=True)
    source: str = Field(max_length=16, default="config")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Member(SQLModel, table=True):
    """Which business unit a person belongs to (from sign-up or an admin's CSV import)."""

    __tablename__ = "member"

    user_id: str = Field(primary_key=True, max_length=32)
    business_unit_id: int = Field(foreign_key="business_unit.id", index=True)
    source: str = Field(max_length=16, default="signup")
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Ally(SQLModel, table=True):
    """An employee who opted in as an ally, with an availability switch."""

    __tablename__ = "ally"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, unique=True)
    available: bool = Field(default=True)
    active: bool = Field(default=True)
    joined_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ProcessedEvent(SQLModel, table=True):
    """An Events API delivery already handled, so Slack's retries change nothing."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
