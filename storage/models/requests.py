"""Allyship requests, the offers allies make on them, and the matches chosen."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel, UniqueConstraint

from storage.types import UTCDateTime, utcnow


class AllyRequest(SQLModel, table=True):
    """One ask for an ally, named or anonymous (an anonymous one never holds the requester)."""

    __tablename__ = "ally_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    category: str = Field(max_length=64)
    details: str | None = Field(default=None, max_length=3000)
    timing: str | None = Field(default=None, max_length=200)
    requester_id: str | None = Field(default=None, max_length=32, index=True)
    # Who picks among offers and is introduced to the ally: the requester of a named
    # request, the volunteer for a case's ask (then `on_behalf_of` holds the case handle).
    chooser_id: str | None = Field(default=None, max_length=32, index=True)
    on_behalf_of: str | None = Field(default=None, max_length=32)
    # The modal submission that created it, so a repeated submission creates nothing more.
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    status: str = Field(default="open", max_length=16, index=True)
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32, index=True)
    offers_channel: str | None = Field(default=None, max_length=32)
    offers_ts: str | None = Field(default=None, max_length=32)
    escalation_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Offer(SQLModel, table=True):
    """An ally's offer to help; one row per ally and request, whatever the clicks."""

    __tablename__ = "offer"
    __table_args__ = (UniqueConstraint("request_id", "ally_user_id", name="uq_offer_request_ally"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="ally_request.id", index=True)
    ally_user_id: str = Field(max_length=32)
    source: str = Field(max_length=16)
    active: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Match(SQLModel, table=True):
    """The ally chosen for a request; at most one per request."""

    __tablename__ = "match"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="ally_request.id", unique=True)
    offer_id: int = Field(foreign_key="offer.id")
    ally_user_id: str = Field(max_length=32, index=True)
    conversation_id: str | None = Field(default=None, max_length=32)
    # The introduction's ts in that conversation: redrawn when the request's text is deleted.
    intro_ts: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
