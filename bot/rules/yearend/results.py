"""The year's awards from the database: the ledger and the recorded outcomes, read once and
handed to the pure `awards.compute_awards` (SPEC 2.6)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config import Settings
from bot.privacy import privacy
from bot.rules.errors import InvalidInput, NotFound
from bot.rules.points import ledger as points_ledger
from bot.rules.yearend import assessment, awards
from bot.rules.yearend.awards import Outcome, UnitLedger, compute_awards, year_bounds
from bot.rules.yearend.standings import AwardStandings
from storage import yearend as store
from storage.models.anonymous import AnonymousCase
from storage.models.points import PointsEntry
from storage.models.programme import FORGOTTEN, Member
from storage.models.requests import AllyRequest, Match

AWARDS_ANNOUNCEMENT = "awards_announcement"
# The person helped when who they were is deleted (a named asker or a story's reporter who
# asked to be forgotten): all of them count as this one person per unit, so forgetting
# someone never raises a unit's "most influential" figure (awards.UNKNOWN_PEOPLE says so
# in the formula). Nothing is stored: it is only how the rows are read.
UNKNOWN = awards.UNKNOWN_PERSON


def _known(marker: str | None) -> str:
    """A story reporter's marker, or UNKNOWN once forget-me replaced it."""
    if marker is None or marker.startswith("forgotten:"):
        return UNKNOWN
    return marker


def parse_year(text: str, *, now: datetime, settings: Settings) -> int:
    """`YYYY`, or this year (in the programme's time zone) when empty."""
    word = text.strip()
    if not word:
        return now.astimezone(settings.zone).year
    if re.fullmatch(r"\d{4}", word) and 2000 <= int(word) <= 2999:
        return int(word)
    raise InvalidInput(f"“{word[:40]}” is not a year. Use a year such as `2026`.")


def year_awards(
    session: Session, *, year: int, settings: Settings
) -> tuple[AwardStandings, AwardStandings, AwardStandings]:
    """The three awards' standings for the year; NotFound when the year holds no data."""
    start, end = year_bounds(year, settings.zone)
    names = store.unit_names_by_id(session)
    ledger = [
        UnitLedger(names.get(unit, f"unit {unit}"), total, adjusted, last)
        for unit, total, adjusted, last in store.ledger_totals(
            session, start=start, end=end, adjustment=points_ledger.ADJUSTMENT
        )
    ]
    outcomes = [
        *_match_outcomes(session, start, end, settings, names),
        *_assessed(session, start, end, names),
    ]
    if not ledger and not outcomes:
        raise NotFound(f"There is no points or outcome data for {year} yet, so no awards.")
    return compute_awards(
        units=names.values(), ledger=ledger, outcomes=outcomes, start=start, end=end
    )


def _match_outcomes(
    session: Session, start: datetime, end: datetime, settings: Settings, names: dict[int, str]
) -> list[Outcome]:
    """Successful allyships whose ally row is in the year: a handful of bulk queries (the
    matches that worked, their ledger rows by source, the people's units, the cases)."""
    keys = privacy(settings)
    markers: dict[str, str] = {}

    def marker(user_id: str) -> str:
        # People recur across a year's matches; an HMAC each time would be most of the cost.
        if user_id not in markers:
            markers[user_id] = keys.marker(user_id)
        return markers[user_id]

    # Plain columns, not ORM objects: building thousands of instances would cost most of the
    # time budget (scripts/bench_awards.py).
    asker_unit = Member.__table__.alias("asker_unit")  # type: ignore[attr-defined]
    worked = session.execute(
        select(
            col(Match.id),
            col(Match.ally_user_id),
            col(AllyRequest.id),
            col(AllyRequest.kind),
            col(AllyRequest.on_behalf_of),
            col(AllyRequest.requester_id),
            asker_unit.c.business_unit_id,
        )
        .join(AllyRequest, col(AllyRequest.id) == col(Match.request_id))
        .outerjoin(asker_unit, asker_unit.c.user_id == col(AllyRequest.requester_id))
        .where(col(Match.outcome) == points_ledger.WORKED)
    ).all()
    if not worked:
        return []
    # The year's allyship rows: few, read through ix_points_entry_kind_time.
    entries = {
        str(r[0]): (int(r[1]), r[2])
        for r in session.execute(
            select(
                col(PointsEntry.source),
                col(PointsEntry.business_unit_id),
                col(PointsEntry.created_at),
            ).where(
                col(PointsEntry.kind) == points_ledger.ALLYSHIP,
                col(PointsEntry.created_at) >= start,
                col(PointsEntry.created_at) < end,
            )
        ).all()
    }
    cases = {
        int(r[0]): r[1]
        for r in session.execute(
            select(col(AnonymousCase.ask_request_id), col(AnonymousCase.requester_marker)).where(
                col(AnonymousCase.ask_request_id).is_not(None)
            )
        ).all()
    }
    out = []
    for match_id, ally, request_id, kind, on_behalf_of, asker, asker_unit_id in worked:
        entry = entries.get(f"match:{match_id}:ally")
        if entry is None:
            continue
        unit_id, at = entry
        person_unit = None
        gone = ally == FORGOTTEN
        if kind == "anonymous" or on_behalf_of:
            person = cases.get(int(request_id))
            ally_key = None if gone else marker(ally)
        else:
            alive = asker is not None and asker != FORGOTTEN
            person = marker(asker) if asker and alive else UNKNOWN
            if alive and asker_unit_id is not None:
                person_unit = names.get(int(asker_unit_id))
            # Whether the ally helped themselves is a comparison of IDs here: the ally's own
            # marker is computed only where the other side is a marker (anonymous asks).
            ally_key = person if (not gone and ally == asker) else None
        out.append(
            Outcome(
                item=f"match:{match_id}",
                kind=points_ledger.ALLYSHIP,
                unit=names.get(unit_id),
                succeeded=True,
                at=at,
                person=person,
                person_unit=person_unit,
                ally=ally_key,
            )
        )
    return out


def _assessed(
    session: Session, start: datetime, end: datetime, names: dict[int, str]
) -> list[Outcome]:
    """Decided stories and events of the year (by decision time)."""
    out = []
    for story in store.decided_stories(session, start=start, end=end):
        if (
            story.status not in (assessment.ACCEPTED, assessment.DECLINED)
            or story.decided_at is None
        ):
            continue
        out.append(
            Outcome(
                item=f"story:{story.id}",
                kind=points_ledger.STORY,
                unit=names.get(story.ally_unit_id) if story.ally_unit_id is not None else None,
                succeeded=story.status == assessment.ACCEPTED,
                at=story.decided_at,
                creative=story.creative,
                person=_known(story.reporter_marker),
                person_unit=names.get(story.reporter_unit_id) if story.reporter_unit_id else None,
                ally=story.ally_marker,
            )
        )
    for event in store.decided_events(session, start=start, end=end):
        if (
            event.status not in (assessment.ACCEPTED, assessment.DECLINED)
            or event.decided_at is None
        ):
            continue
        out.append(
            Outcome(
                item=f"event:{event.id}",
                kind=points_ledger.EVENT,
                unit=names.get(event.business_unit_id),
                succeeded=event.status == assessment.ACCEPTED,
                at=event.decided_at,
                creative=event.creative,
            )
        )
    return out
