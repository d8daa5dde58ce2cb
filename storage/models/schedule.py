"""Scheduled work: what is due is a row in the database, claimed before it is done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Column, Field, SQLModel

from storage.types import UTCDateTime, utcnow


class DueItem(SQLModel, table=True):
    """One piece of scheduled work (a prompt, a reminder, a post, a purge), unique by key."""

    __tablename__ = "due_item"
    __table_args__ = (Index("ix_due_item_status_due_at", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    key: str = Field(max_length=200, unique=True)
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # pending -> claimed -> done; back to pending (later) when the handler fails; failed at last.
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    # What the handler already sent (message ts, file ids), so a retry never sends twice.
    sent: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The exception's type only: messages may hold user text.
    last_error: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class SendRecord(SQLModel, table=True):
    """One Web API call that must be made once (bot.jobs.once): claimed, made, recorded.

    The key names the call by the rows it is about (`match:12/introduction`), never by a
    person's ID; the result holds what Slack answered that later steps need (a ts, a channel).
    """

    __tablename__ = "send_once"

    key: str = Field(primary_key=True, max_length=200)
    # The claim's own random token while the call is being made; None once it is recorded.
    holder: str | None = Field(default=None, max_length=32)
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
