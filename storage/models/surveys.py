"""Tables of the awareness surveys and the misuse review (SPEC 3).

No survey table holds a respondent's Slack ID. An answer carries its survey, the unit the
person chose (or none), the values and the day it came; the only link from a person to a
survey is a keyed marker scoped to that survey, which stops a second answer and is deleted
when the survey closes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from storage.types import UTCDateTime, utcnow


class SurveyRun(SQLModel, table=True):
    """One sending of a content survey (e.g. `awareness-2`), open until an admin closes it."""

    __tablename__ = "survey_run"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    survey_id: str = Field(max_length=64, index=True)
    # The channel whose members were asked, or None for the whole workspace.
    channel: str | None = Field(default=None, max_length=32)
    # The questions as they were asked (content may change before the results are read).
    questions: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    title: str = Field(max_length=200)  # messages.survey_content.TITLE_MAX
    status: str = Field(default="open", max_length=16)
    recipients: int = Field(default=0)
    opened_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class SurveyAnswer(SQLModel, table=True):
    """One person's answers, with no id of theirs: the unit they chose and the day only."""

    __tablename__ = "survey_answer"
    # SQLite keeps a WITHOUT ROWID table in its key's order: with a random key, nothing in the
    # file follows the order answers came in (an implicit rowid would, and so pair them with
    # the markers). The close rewrites a run's answers in a random order with fresh ids.
    __table_args__ = {"sqlite_with_rowid": False}

    # A random id, so that row order tells nothing about who answered when.
    id: str = Field(primary_key=True, max_length=32)
    run_id: int = Field(foreign_key="survey_run.id", index=True)
    business_unit: str | None = Field(default=None, max_length=75)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    answered_on: date


class SurveyMarker(SQLModel, table=True):
    """A keyed marker of (survey, person): this person has answered. Deleted at close."""

    __tablename__ = "survey_marker"
    # Keyed by the marker itself (scoped to its survey, so unique): no sequential id, and on
    # SQLite no rowid, whose order would follow the answers' order.
    __table_args__ = {"sqlite_with_rowid": False}

    marker: str = Field(primary_key=True, max_length=64)
    run_id: int = Field(foreign_key="survey_run.id", index=True)


class MisuseReport(SQLModel, table=True):
    """One review card per reported request: how many reported it, never who."""

    __tablename__ = "misuse_report"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="ally_request.id", unique=True)
    reports: int = Field(default=0)
    status: str = Field(default="open", max_length=16)
    decided_by: str | None = Field(default=None, max_length=32)
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class MisuseReporter(SQLModel, table=True):
    """A keyed marker of (request, reporter): one person's reports count once."""

    __tablename__ = "misuse_reporter"
    __table_args__ = (UniqueConstraint("report_id", "marker"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="misuse_report.id", index=True)
    marker: str = Field(max_length=64)


class PersonPause(SQLModel, table=True):
    """A pause admins see: set by `/ally-admin pause`, or from the card of a request made by
    name (whose requester is known). Keyed by the person's marker.

    A pause from an anonymous case is another record (storage.models.anonymous.CasePause),
    which no admin command reads or changes: what an admin is told about a person never
    depends on it. A person is refused if either holds.
    """

    __tablename__ = "person_pause"

    marker: str = Field(primary_key=True, max_length=64)
    source: str = Field(max_length=16)  # "admin" or "card"
    paused_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
