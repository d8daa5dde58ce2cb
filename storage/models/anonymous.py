"""Tables of anonymous cases: the case, the sealed draft, paused requesters and relayed replies.

No column ever holds a requester's plain Slack ID or DM channel ID: those are Fernet tokens
(`*_sealed`) and a keyed marker (`requester_marker`, HMAC-SHA256) for equality checks.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel, Text

from storage.types import UTCDateTime, utcnow


class AnonymousCase(SQLModel, table=True):
    """An anonymous request as volunteers broker it, under a case handle."""

    __tablename__ = "anonymous_case"

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=16, unique=True)
    category: str = Field(max_length=64)
    # The redacted text volunteers see; deleted when the case is purged.
    details: str | None = Field(default=None, max_length=3000)
    timing: str | None = Field(default=None, max_length=200)
    status: str = Field(default="open", max_length=16, index=True)
    # The link to the requester: sealed ids and a keyed marker; all deleted by the purge.
    requester_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    requester_marker: str | None = Field(default=None, max_length=64, index=True)
    dm_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    thread_ts: str | None = Field(default=None, max_length=32, index=True)
    volunteer_id: str | None = Field(default=None, max_length=32)
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    ask_request_id: int | None = Field(default=None, foreign_key="ally_request.id", index=True)
    outcome: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    taken_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    ally_found_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    revealed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class CaseDraft(SQLModel, table=True):
    """An anonymous request between the modal and its confirmation, sealed as a whole."""

    __tablename__ = "case_draft"

    id: str = Field(primary_key=True, max_length=43)
    owner_marker: str = Field(max_length=64)
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class CasePause(SQLModel, table=True):
    """A requester volunteers paused from anonymous requests, known only by their marker."""

    __tablename__ = "case_pause"

    requester_marker: str = Field(primary_key=True, max_length=64)
    case_id: int | None = Field(default=None, foreign_key="anonymous_case.id")
    paused_by: str = Field(max_length=32)
    paused_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class CaseRelay(SQLModel, table=True):
    """One reply of a requester on its way to, or relayed to, the volunteer holding the case.

    The requester's message is known only by a keyed hash of its ts (`source_marker`); their
    words are kept sealed only until the copy shows them. The copy's place (the volunteer's DM)
    is plain: it identifies nobody who asked. Whom the copy was sent to is a keyed marker of
    its own kind (`holder_marker`), so that a copy follows its volunteer, not the case: it is
    blanked when they no longer hold the case, and when they are forgotten. Every row goes
    with the case's purge.
    """

    __tablename__ = "case_relay"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="anonymous_case.id", index=True)
    source_marker: str = Field(max_length=64, unique=True)
    # The words the copy must show next (sealed JSON), until it shows them.
    pending_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The requester deleted the message: the copy is blanked, then the row deleted.
    withdrawn: bool = Field(default=False)
    # Counts changes, so each change gets its own due item (the safety net of its sync).
    version: int = Field(default=0)
    copy_channel: str | None = Field(default=None, max_length=32)
    copy_ts: str | None = Field(default=None, max_length=32)
    holder_marker: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
