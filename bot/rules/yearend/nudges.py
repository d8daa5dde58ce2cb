"""Nudges to business units that took no part in a year (SPEC 2.6).

A unit takes part in a year when it has at least one ally or volunteer, an accepted event
decided that year, or points that year. The others are invited, once per unit per year: each
unit's due item (keyed by year and unit) DMs its contacts; the units without a contact share
one post in the announcements channel. Scheduling twice (double clicks, retries, replicas)
finds the keys taken and adds nothing. Sends are staggered due items, paced by the sweep.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config import Settings
from bot.jobs import queue as jobs
from bot.rules.allies import business_unit_named
from bot.rules.errors import InvalidInput
from bot.rules.yearend import assessment
from bot.rules.yearend.awards import year_bounds
from storage import upsert
from storage import yearend as store
from storage.models.points import PointsEntry
from storage.models.programme import Ally, BusinessUnit, Member
from storage.models.yearend import AllyshipEvent, UnitContact
from storage.types import utcnow

NUDGE_UNIT = "nudge_unit"
NUDGE_POST = "nudge_post"


class NudgeUnit(jobs.Payload):
    """NUDGE_UNIT: the year, the unit and its contacts to nudge."""

    year: int
    unit_id: int
    contacts: list[str] = []


class NudgePost(jobs.Payload):
    """NUDGE_POST: the year and the units named in the public nudge."""

    year: int
    unit_ids: list[int] = []


# Seconds between two units' sends: well within chat.postMessage's limits.
PACE = timedelta(seconds=2)
CONTACT_USAGE = "`/ally-admin bu contact NAME <@U…>`"
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>\s*$")


@dataclass(frozen=True)
class Target:
    """A unit that took no part, and the people to invite (none: the public post)."""

    unit_id: int
    name: str
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class Scheduled:
    """What one send scheduled: units newly due, and those nudged before this year."""

    units: int
    already: int


def unit_key(year: int, unit_id: int) -> str:
    """The due item of one unit's nudge in one year."""
    return f"{NUDGE_UNIT}:{year}:{unit_id}"


def taking_part(
    session: Session, *, year: int, settings: Settings, volunteers: Iterable[str]
) -> set[int]:
    """The ids of the units that took part in the year."""
    start, end = year_bounds(year, settings.zone)
    people = select(col(Member.business_unit_id)).join(
        Ally, col(Ally.user_id) == col(Member.user_id)
    )
    found = {int(u) for u in session.execute(people.where(col(Ally.active).is_(True))).scalars()}
    helpers = list(volunteers)
    if helpers:
        rows = select(col(Member.business_unit_id)).where(col(Member.user_id).in_(helpers))
        found |= {int(u) for u in session.execute(rows).scalars()}
    events = select(col(AllyshipEvent.business_unit_id)).where(
        col(AllyshipEvent.status) == assessment.ACCEPTED,
        col(AllyshipEvent.decided_at) >= start,
        col(AllyshipEvent.decided_at) < end,
    )
    found |= {int(u) for u in session.execute(events).scalars()}
    earned = select(col(PointsEntry.business_unit_id)).where(
        col(PointsEntry.amount) > 0,
        col(PointsEntry.created_at) >= start,
        col(PointsEntry.created_at) < end,
    )
    found |= {int(u) for u in session.execute(earned.distinct()).scalars()}
    return found


def targets(
    session: Session, *, year: int, settings: Settings, volunteers: Iterable[str]
) -> list[Target]:
    """The units that took no part, by name, with their contacts."""
    part = taking_part(session, year=year, settings=settings, volunteers=volunteers)
    units = session.execute(select(BusinessUnit).order_by(col(BusinessUnit.name))).scalars()
    return [
        Target(
            int(unit.id or 0),
            unit.name,
            tuple(store.contacts(session, business_unit_id=int(unit.id or 0))),
        )
        for unit in units
        if unit.id not in part
    ]


def nudged(session: Session, *, year: int, unit_id: int) -> bool:
    """Whether the unit's nudge for the year is already scheduled or sent."""
    return jobs.find(session, key=unit_key(year, unit_id)) is not None


def schedule(
    session: Session, *, year: int, found: list[Target], now: datetime | None = None
) -> Scheduled:
    """Schedule each unit's nudge once per year, staggered; one post for those without a
    contact (keyed by the set of units, so a repeat adds nothing)."""
    now = now or utcnow()
    fresh: list[Target] = [t for t in found if not nudged(session, year=year, unit_id=t.unit_id)]
    for index, target in enumerate(fresh):
        jobs.schedule(
            session,
            kind=NUDGE_UNIT,
            key=unit_key(year, target.unit_id),
            due_at=now + PACE * index,
            payload=NudgeUnit(year=year, unit_id=target.unit_id, contacts=list(target.contacts)),
        )
    public = sorted(t.unit_id for t in fresh if not t.contacts)
    if public:
        digest = hashlib.sha256(",".join(map(str, public)).encode()).hexdigest()[:16]
        jobs.schedule(
            session,
            kind=NUDGE_POST,
            key=f"{NUDGE_POST}:{year}:{digest}",
            due_at=now + PACE * len(fresh),
            payload=NudgePost(year=year, unit_ids=public),
        )
    return Scheduled(len(fresh), len(found) - len(fresh))


def parse_contact(text: str, *, session: Session) -> tuple[BusinessUnit, str]:
    """`contact NAME <@U…>` (or `<@U…|name>`): the unit and the person."""
    rest = text.strip()
    word, _, rest = rest.partition(" ")
    if word.lower() != "contact":
        raise InvalidInput(f"Use {CONTACT_USAGE}.")
    match = _MENTION.search(rest)
    if match is None:
        raise InvalidInput(f"Mention the contact after the unit's name. Use {CONTACT_USAGE}.")
    name = rest[: match.start()].strip()
    if not name:
        raise InvalidInput(f"Name the business unit. Use {CONTACT_USAGE}.")
    unit = business_unit_named(session, name)
    if unit is None or unit.id is None:
        raise InvalidInput(f"There is no business unit called “{name[:80]}”.")
    return unit, match.group(1)


def add_contact(session: Session, *, unit_id: int, user_id: str) -> bool:
    """Name a unit's contact; False when they already were."""
    statement = (
        upsert.insert(session, UnitContact)
        .values(business_unit_id=unit_id, user_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["business_unit_id", "user_id"])
        .returning(col(UnitContact.id))
    )
    return session.execute(statement).first() is not None
