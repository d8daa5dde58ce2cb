"""The points ledger: append-only, each row with its reason and a unique source."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from storage.types import UTCDateTime, utcnow


class PointsEntry(SQLModel, table=True):
    """One append-only ledger row; `source` is unique so nothing is ever counted twice."""

    __tablename__ = "points_entry"

    id: int | None = Field(default=None, primary_key=True)
    amount: int
    business_unit_id: int = Field(foreign_key="business_unit.id", index=True)
    # allyship, case, story, event or adjustment
    kind: str = Field(max_length=16)
    reason: str = Field(max_length=300)
    source: str = Field(max_length=120, unique=True)
    actor: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True)
    )
