"""Standings over a period (month, quarter, year) and the scheduled leaderboard post."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from bot.config import Settings
from bot.jobs import queue as jobs
from bot.rules.errors import InvalidInput
from bot.rules.points.ledger import ALLYSHIP, CASE
from storage.models.points import PointsEntry
from storage.models.programme import BusinessUnit

LEADERBOARD_POST = "leaderboard_post"


class LeaderboardPost(jobs.Payload):
    """LEADERBOARD_POST: the year whose standings are posted (None: the year it falls due)."""

    year: int | None = None


# A public leaderboard names the top units only (the rest are counted), so it stays readable
# and within one Slack message; admins see every unit.
PUBLIC_TOP = 20


@dataclass(frozen=True)
class Standing:
    """One business unit's line on the leaderboard."""

    business_unit: str
    points: int
    allyships: int
    cases: int


@dataclass(frozen=True)
class Period:
    """A span of time in the programme's time zone: [start, end)."""

    label: str
    start: datetime
    end: datetime


def parse_period(text: str, *, now: datetime, zone: ZoneInfo) -> Period:
    """`month`, `quarter`, `year` (the default) or `YYYY`, in the programme's time zone."""
    word = text.strip().lower() or "year"
    local = now.astimezone(zone)
    if word == "year":
        return year_period(local.year, zone)
    if word == "month":
        start = datetime(local.year, local.month, 1, tzinfo=zone)
        end = _add_months(start, 1)
        return Period(start.strftime("%B %Y"), start, end)
    if word == "quarter":
        first = 3 * ((local.month - 1) // 3) + 1
        start = datetime(local.year, first, 1, tzinfo=zone)
        return Period(f"Q{(first - 1) // 3 + 1} {local.year}", start, _add_months(start, 3))
    if re.fullmatch(r"\d{4}", word) and 2000 <= int(word) <= 2999:
        return year_period(int(word), zone)
    raise InvalidInput(
        f"“{text.strip()[:40]}” is not a period. Use `month`, `quarter`, `year` "
        "or a year such as `2026`."
    )


def year_period(year: int, zone: ZoneInfo) -> Period:
    """One calendar year in the programme's time zone."""
    return Period(
        str(year), datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    )


def _add_months(start: datetime, months: int) -> datetime:
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def standings(session: Session, *, period: Period) -> list[Standing]:
    """Every BU's points, successful allyships and volunteers' cases in the period, best first."""
    totals = (
        select(
            col(PointsEntry.business_unit_id),
            func.coalesce(func.sum(col(PointsEntry.amount)), 0),
            func.sum(case((col(PointsEntry.kind) == ALLYSHIP, 1), else_=0)),
            func.sum(case((col(PointsEntry.kind) == CASE, 1), else_=0)),
        )
        .where(
            col(PointsEntry.created_at) >= period.start,
            col(PointsEntry.created_at) < period.end,
        )
        .group_by(col(PointsEntry.business_unit_id))
    )
    by_unit = {row[0]: row[1:] for row in session.execute(totals).all()}
    units = session.execute(select(BusinessUnit)).scalars().all()
    lines = [
        Standing(
            unit.name,
            int(by_unit.get(unit.id, (0, 0, 0))[0] or 0),
            int(by_unit.get(unit.id, (0, 0, 0))[1] or 0),
            int(by_unit.get(unit.id, (0, 0, 0))[2] or 0),
        )
        for unit in units
    ]
    return sorted(lines, key=lambda s: (-s.points, s.business_unit.lower()))


def programme_started(session: Session) -> datetime | None:
    """When the programme got its first business unit (before it there was nothing to rank)."""
    first = select(func.min(col(BusinessUnit.created_at)))
    value: datetime | None = session.execute(first).scalar()
    return value


def schedule_leaderboard_post(session: Session, *, fire_time: datetime, settings: Settings) -> str:
    """Schedule the post for one cron fire time; replicas firing together make one item."""
    local = fire_time.astimezone(settings.zone)
    key = f"leaderboard:{local.strftime('%Y-%m-%dT%H:%M')}"
    # The year the post is about: the one that the day before the post belongs to, so the
    # January 1st post shows the whole year just ended.
    year = (local - timedelta(days=1)).year
    jobs.schedule(
        session,
        kind=LEADERBOARD_POST,
        key=key,
        due_at=fire_time,
        payload=LeaderboardPost(year=year),
    )
    return key
