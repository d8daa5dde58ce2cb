"""Queries of the year-end programme: stories, events, unit contacts and a year's ledger.

Keyword-only arguments; nothing here commits (the caller's unit of work does).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from storage.models.points import PointsEntry
from storage.models.programme import BusinessUnit
from storage.models.yearend import AllyshipEvent, AllyshipStory, UnitContact


def get_story(session: Session, *, story_id: int, lock: bool = False) -> AllyshipStory | None:
    """A story by id (locked for the unit of work when `lock`)."""
    statement = select(AllyshipStory).where(col(AllyshipStory.id) == story_id)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalars().first()


def get_event(session: Session, *, event_id: int, lock: bool = False) -> AllyshipEvent | None:
    """An event by id (locked for the unit of work when `lock`)."""
    statement = select(AllyshipEvent).where(col(AllyshipEvent.id) == event_id)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalars().first()


def story_by_submission(session: Session, *, key: str) -> AllyshipStory | None:
    """The story a modal submission created, if any."""
    statement = select(AllyshipStory).where(col(AllyshipStory.submission_key) == key)
    return session.execute(statement).scalars().first()


def event_by_submission(session: Session, *, key: str) -> AllyshipEvent | None:
    """The event a modal submission created, if any."""
    statement = select(AllyshipEvent).where(col(AllyshipEvent.submission_key) == key)
    return session.execute(statement).scalars().first()


def unit_names_by_id(session: Session) -> dict[int, str]:
    """Every business unit's name by id."""
    rows = session.execute(select(col(BusinessUnit.id), col(BusinessUnit.name))).all()
    return {int(row[0]): str(row[1]) for row in rows}


def ledger_totals(
    session: Session, *, start: datetime, end: datetime, adjustment: str
) -> list[tuple[int, int, int, datetime | None]]:
    """Per unit over [start, end): (unit id, points, |hand adjustments|, last earning act).

    One GROUP BY over the covering index ix_points_entry_year_unit.
    """
    amount = col(PointsEntry.amount)
    kind = col(PointsEntry.kind)
    created = col(PointsEntry.created_at)
    statement = (
        select(
            col(PointsEntry.business_unit_id),
            func.coalesce(func.sum(amount), 0),
            func.coalesce(func.sum(case((kind == adjustment, func.abs(amount)), else_=0)), 0),
            func.max(case(((kind != adjustment) & (amount > 0), created), else_=None)),
        )
        .where(created >= start, created < end)
        .group_by(col(PointsEntry.business_unit_id))
    )
    return [(int(r[0]), int(r[1]), int(r[2]), r[3]) for r in session.execute(statement).all()]


def decided_stories(session: Session, *, start: datetime, end: datetime) -> list[AllyshipStory]:
    """Stories decided in [start, end)."""
    statement = select(AllyshipStory).where(
        col(AllyshipStory.decided_at) >= start, col(AllyshipStory.decided_at) < end
    )
    return list(session.execute(statement).scalars())


def decided_events(session: Session, *, start: datetime, end: datetime) -> list[AllyshipEvent]:
    """Events decided in [start, end)."""
    statement = select(AllyshipEvent).where(
        col(AllyshipEvent.decided_at) >= start, col(AllyshipEvent.decided_at) < end
    )
    return list(session.execute(statement).scalars())


def contacts(session: Session, *, business_unit_id: int) -> list[str]:
    """The Slack IDs an admin named as this unit's contacts."""
    statement = select(col(UnitContact.user_id)).where(
        col(UnitContact.business_unit_id) == business_unit_id
    )
    return [str(u) for u in session.execute(statement).scalars()]
