"""Queries of the year-end programme: stories, events, unit contacts and a year's ledger.

Keyword-only arguments; nothing here commits (the caller's unit of work does).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, update
from sqlmodel import Session, col

from storage.models.points import PointsEntry
from storage.models.programme import FORGOTTEN, BusinessUnit
from storage.models.yearend import AllyshipEvent, AllyshipStory, PointsDay, UnitContact


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


def _raw_totals(
    session: Session, *, start: datetime, end: datetime, adjustment: str
) -> list[tuple[int, int, int, datetime | None]]:
    """Per unit over [start, end), from the ledger rows themselves."""
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


def _day_totals(
    session: Session, *, first: date, last: date
) -> list[tuple[int, int, int, datetime | None]]:
    """Per unit over the UTC days [first, last), from points_day."""
    statement = (
        select(
            col(PointsDay.business_unit_id),
            func.coalesce(func.sum(col(PointsDay.points)), 0),
            func.coalesce(func.sum(col(PointsDay.hand_adjusted)), 0),
            func.max(col(PointsDay.last_act)),
        )
        .where(col(PointsDay.day) >= first, col(PointsDay.day) < last)
        .group_by(col(PointsDay.business_unit_id))
    )
    return [(int(r[0]), int(r[1]), int(r[2]), r[3]) for r in session.execute(statement).all()]


def ledger_totals(
    session: Session, *, start: datetime, end: datetime, adjustment: str
) -> list[tuple[int, int, int, datetime | None]]:
    """Per unit over [start, end): (unit id, points, |hand adjustments|, last earning act).

    Whole UTC days come from points_day (kept by a trigger on every ledger insert); the
    hours at either end that are not a whole UTC day (a time zone's year starts off
    midnight UTC) from the ledger rows. The result equals one GROUP BY over the rows.
    """
    first = _next_midnight(start)
    last = _midnight(end)
    if first >= last:
        return _raw_totals(session, start=start, end=end, adjustment=adjustment)
    parts = _day_totals(session, first=first.date(), last=last.date())
    if start < first:
        parts += _raw_totals(session, start=start, end=first, adjustment=adjustment)
    if last < end:
        parts += _raw_totals(session, start=last, end=end, adjustment=adjustment)
    merged: dict[int, tuple[int, int, datetime | None]] = {}
    for unit, total, adjusted, act in parts:
        seen_total, seen_adjusted, seen_act = merged.get(unit, (0, 0, None))
        acts = [a for a in (seen_act, act) if a is not None]
        merged[unit] = (seen_total + total, seen_adjusted + adjusted, max(acts) if acts else None)
    return [(unit, *values) for unit, values in merged.items()]


def _midnight(at: datetime) -> datetime:
    """The UTC midnight at or before `at`."""
    utc = at.astimezone(UTC)
    return utc.replace(hour=0, minute=0, second=0, microsecond=0)


def _next_midnight(at: datetime) -> datetime:
    """The UTC midnight at or after `at`."""
    floor = _midnight(at)
    return floor if floor == at.astimezone(UTC) else floor + timedelta(days=1)


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


# forget-me and retention

# The due kind that redraws year-end cards after a forget-me (written by bot.rules.forget
# through forget_person, run by handlers.yearend): a contract kept here, below both.


def forget_person(session: Session, *, user_id: str, now: datetime) -> list[tuple[str, int]]:
    """Delete a person's stories' text and their name on them (reporter or ally); a story
    still pending is withdrawn. Their name goes from events they logged and items they
    decided. Points stay. Returns the (kind, id) of the cards to redraw, and schedules that."""
    redraw: list[tuple[str, int]] = []
    stories = session.execute(
        select(AllyshipStory)
        .where(
            or_(
                col(AllyshipStory.reporter_id) == user_id,
                col(AllyshipStory.ally_id) == user_id,
                col(AllyshipStory.decided_by) == user_id,
            )
        )
        .with_for_update()
    ).scalars()
    for story in list(stories):
        assert story.id is not None
        involved = user_id in (story.reporter_id, story.ally_id)
        if story.reporter_id == user_id:
            story.reporter_id = FORGOTTEN
            story.reporter_marker = f"forgotten:story:{story.id}"
        if story.ally_id == user_id:
            story.ally_id = FORGOTTEN
            story.ally_marker = None
        if story.decided_by == user_id:
            story.decided_by = FORGOTTEN
        if involved:
            story.what = None
            story.decline_reason = None
            if story.status == "pending":
                story.status = "withdrawn"
        session.add(story)
        redraw.append(("story", story.id))
    events = session.execute(
        select(AllyshipEvent).where(
            or_(col(AllyshipEvent.logged_by) == user_id, col(AllyshipEvent.decided_by) == user_id)
        )
    ).scalars()
    for event in list(events):
        assert event.id is not None
        redraw.append(("event", event.id))
    session.execute(
        update(AllyshipEvent)
        .where(col(AllyshipEvent.logged_by) == user_id)
        .values(logged_by=FORGOTTEN)
    )
    session.execute(
        update(AllyshipEvent)
        .where(col(AllyshipEvent.decided_by) == user_id)
        .values(decided_by=FORGOTTEN)
    )
    session.execute(delete(UnitContact).where(col(UnitContact.user_id) == user_id))
    return redraw


def purge_story_text(session: Session, *, story_id: int, now: datetime) -> bool:
    """Delete a decided story's text after the retention period; True when it was purged."""
    story = get_story(session, story_id=story_id, lock=True)
    if story is None or story.purged_at is not None or story.status == "pending":
        return False
    story.what = None
    story.decline_reason = None
    story.purged_at = now
    session.add(story)
    return True
