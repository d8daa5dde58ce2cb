"""The year's awards from the database: the ledger and the recorded outcomes, read once and
handed to the pure `awards.compute_awards` (SPEC 2.6)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config import Settings
from bot.privacy import privacy
from bot.rules import points
from bot.rules.errors import InvalidInput, NotFound
from bot.rules.yearend import assessment
from bot.rules.yearend.awards import (
    AwardStandings,
    Outcome,
    UnitLedger,
    compute_awards,
    year_bounds,
)
from storage import anonymous as anonymous_store
from storage import yearend as store
from storage.models.points import PointsEntry
from storage.models.programme import FORGOTTEN, Member
from storage.models.requests import AllyRequest, Match

AWARDS_ANNOUNCEMENT = "awards_announcement"


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
            session, start=start, end=end, adjustment=points.ADJUSTMENT
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


def _unit_of_person(session: Session, user_id: str | None, names: dict[int, str]) -> str | None:
    if not user_id or user_id == FORGOTTEN:
        return None
    member = session.get(Member, user_id)
    return names.get(member.business_unit_id) if member else None


def _match_outcomes(
    session: Session, start: datetime, end: datetime, settings: Settings, names: dict[int, str]
) -> list[Outcome]:
    """Successful allyships: one per match whose ally row is in the year."""
    keys = privacy(settings)
    rows = _match_rows(session, start, end)
    out = []
    for entry, match, request in rows:
        if request.kind == "anonymous" or request.on_behalf_of:
            case = anonymous_store.case_for_request(session, request_id=int(request.id or 0))
            person = case.requester_marker if case is not None else None
            person_unit = None
        else:
            asker = request.requester_id
            alive = asker is not None and asker != FORGOTTEN
            person = keys.marker(asker) if asker and alive else f"request:{request.id}"
            person_unit = _unit_of_person(session, request.requester_id, names)
        ally = match.ally_user_id
        out.append(
            Outcome(
                item=f"match:{match.id}",
                kind=points.ALLYSHIP,
                unit=names.get(entry.business_unit_id),
                succeeded=True,
                at=entry.created_at,
                person=person,
                person_unit=person_unit,
                ally=keys.marker(ally) if ally != FORGOTTEN else None,
            )
        )
    return out


def _match_rows(
    session: Session, start: datetime, end: datetime
) -> list[tuple[PointsEntry, Match, AllyRequest]]:
    entries = session.execute(
        select(PointsEntry).where(
            col(PointsEntry.kind) == points.ALLYSHIP,
            col(PointsEntry.created_at) >= start,
            col(PointsEntry.created_at) < end,
        )
    ).scalars()
    rows = []
    for entry in entries:
        match_id = entry.source.split(":")[1] if entry.source.startswith("match:") else ""
        if not match_id.isdigit():
            continue
        match = session.get(Match, int(match_id))
        request = session.get(AllyRequest, match.request_id) if match else None
        if match is not None and request is not None:
            rows.append((entry, match, request))
    return rows


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
                kind=points.STORY,
                unit=names.get(story.ally_unit_id) if story.ally_unit_id is not None else None,
                succeeded=story.status == assessment.ACCEPTED,
                at=story.decided_at,
                creative=story.creative,
                person=story.reporter_marker or f"story:{story.id}",
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
                kind=points.EVENT,
                unit=names.get(event.business_unit_id),
                succeeded=event.status == assessment.ACCEPTED,
                at=event.decided_at,
                creative=event.creative,
            )
        )
    return out
