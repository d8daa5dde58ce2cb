"""Rows for feedback and points tests, made directly (before the request flows exist)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.rules.feedback.prompts import schedule_feedback
from storage.db import Database
from storage.models.programme import BusinessUnit, Member
from storage.models.requests import AllyRequest, Match, Offer

REQUESTER = "U0ASKER"
ALLY = "U0ALLY1"
VOLUNTEER = "U0VOL1"


def business_unit(db: Database, name: str) -> int:
    """The id of a BU, created if missing."""
    with db.session() as s:
        unit = s.execute(select(BusinessUnit).where(BusinessUnit.name == name)).scalars().first()
        if unit is None:
            unit = BusinessUnit(name=name)
            s.add(unit)
            s.flush()
        assert unit.id is not None
        return unit.id


def member(db: Database, user_id: str, unit: str) -> None:
    """Put a person in a BU."""
    unit_id = business_unit(db, unit)
    with db.session() as s:
        s.merge(Member(user_id=user_id, business_unit_id=unit_id))


def make_match(
    db: Database,
    settings: Settings,
    *,
    matched_at: datetime,
    requester: str | None = REQUESTER,
    ally: str = ALLY,
    ally_unit: str | None = "Engineering",
    kind: str = "named",
    category: str = "career_advice",
    schedule: bool = True,
    **extra: Any,
) -> int:
    """A matched request (and its feedback schedule, as the named flow would make it)."""
    if ally_unit:
        member(db, ally, ally_unit)
    columns = AllyRequest.model_fields
    with db.session() as s:
        request = AllyRequest(
            kind=kind,
            category=category,
            details="help",
            requester_id=requester,
            status="matched",
            **{k: v for k, v in extra.items() if k in columns},
        )
        s.add(request)
        s.flush()
        assert request.id is not None
        offer = Offer(request_id=request.id, ally_user_id=ally, source="button")
        s.add(offer)
        s.flush()
        assert offer.id is not None
        match = Match(
            request_id=request.id, offer_id=offer.id, ally_user_id=ally, created_at=matched_at
        )
        s.add(match)
        s.flush()
        assert match.id is not None
        if schedule:
            schedule_feedback(s, match_id=match.id, matched_at=matched_at, settings=settings)
        return match.id
