"""`/ally-admin export [YYYY]` (SPEC 2.6): the year's ledger and outcomes as CSV bytes.

Neither file holds a Slack ID of an anonymous requester or a story reporter, nor any request
or story text: rows carry dates, units, amounts, kinds and outcomes. Reasons are the app's own
words, except an admin's adjustment reason, in which anything shaped like a Slack ID is
replaced. Forgotten people's rows were anonymised by forget-me and stay so here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config import Settings
from bot.rules.yearend.awards import year_bounds
from storage import yearend as store
from storage.models.anonymous import AnonymousCase
from storage.models.points import PointsEntry
from storage.models.programme import Member
from storage.models.requests import AllyRequest, Match

_SLACK_ID = re.compile(r"<?[@#!]?\b[UWCGD][A-Z0-9]{6,}\b(?:\|[^>]*)?>?")
LEDGER_HEADER = ("date", "business_unit", "amount", "reason", "source_kind")
OUTCOME_HEADER = (
    "item",
    "kind",
    "category",
    "created",
    "decided",
    "outcome",
    "business_unit",
    "other_business_unit",
    "creative",
)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def scrub(text: str) -> str:
    """Free text with anything shaped like a Slack ID (or a mention of one) replaced."""
    return _SLACK_ID.sub("[someone]", text)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    # RFC 4180 line ends, so that a cell holding a lone carriage return is quoted too (with
    # "\n" alone it was written bare, and a spreadsheet would start a new row there).
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, int | float):
        return str(value)  # a number, negative amounts included, is never a formula
    # Text starting with = + - @ (or a tab or carriage return before one) would run as a
    # formula in a spreadsheet: a leading quote makes it text.
    text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def ledger_csv(session: Session, *, year: int, settings: Settings) -> tuple[bytes, int]:
    """One row per ledger entry of the year: date, BU, amount, reason, source kind."""
    start, end = year_bounds(year, settings.zone)
    names = store.unit_names_by_id(session)
    entries = session.execute(
        select(PointsEntry)
        .where(col(PointsEntry.created_at) >= start, col(PointsEntry.created_at) < end)
        .order_by(col(PointsEntry.created_at), col(PointsEntry.id))
    ).scalars()
    rows = [
        (
            e.created_at.astimezone(settings.zone),
            names.get(e.business_unit_id, ""),
            e.amount,
            scrub(e.reason),
            e.source.split(":", 1)[0],
        )
        for e in entries
    ]
    return _csv(LEDGER_HEADER, rows), len(rows)


def _unit(session: Session, user_id: str | None, names: dict[int, str]) -> str | None:
    member = session.get(Member, user_id) if user_id else None
    return names.get(member.business_unit_id) if member else None


def outcomes_csv(session: Session, *, year: int, settings: Settings) -> tuple[bytes, int]:
    """One row per request and anonymous case made in the year (kind, category, dates,
    outcome, BUs: the ally's or the volunteer's, and a named requester's), then one per story
    and event decided in it."""
    start, end = year_bounds(year, settings.zone)
    names = store.unit_names_by_id(session)
    zone = settings.zone
    rows: list[Sequence[object]] = []
    requests = session.execute(
        select(AllyRequest)
        .where(col(AllyRequest.created_at) >= start, col(AllyRequest.created_at) < end)
        .order_by(col(AllyRequest.created_at), col(AllyRequest.id))
    ).scalars()
    for number, request in enumerate(requests, 1):
        match = (
            session.execute(select(Match).where(col(Match.request_id) == request.id))
            .scalars()
            .first()
        )
        anonymous = request.kind == "anonymous" or bool(request.on_behalf_of)
        rows.append(
            (
                f"request {number}",
                "anonymous" if anonymous else "named",
                request.category,
                request.created_at.astimezone(zone),
                (match.closed_at or match.created_at).astimezone(zone) if match else None,
                (match.outcome or "matched") if match else request.status,
                _unit(session, match.ally_user_id, names) if match else None,
                None if anonymous else _unit(session, request.requester_id, names),
                "",
            )
        )
    cases = session.execute(
        select(AnonymousCase)
        .where(col(AnonymousCase.created_at) >= start, col(AnonymousCase.created_at) < end)
        .order_by(col(AnonymousCase.created_at), col(AnonymousCase.id))
    ).scalars()
    for number, case in enumerate(cases, 1):
        # The case's own row; an ask made on its behalf is a row of its own above.
        rows.append(
            (
                f"anonymous case {number}",
                "anonymous",
                case.category,
                case.created_at.astimezone(zone),
                case.closed_at.astimezone(zone) if case.closed_at else None,
                case.outcome or case.status,
                _unit(session, case.volunteer_id, names),
                None,
                "",
            )
        )
    for number, story in enumerate(store.decided_stories(session, start=start, end=end), 1):
        rows.append(
            (
                f"story {number}",
                "story",
                "",
                story.created_at.astimezone(zone),
                story.decided_at.astimezone(zone) if story.decided_at else None,
                story.status,
                names.get(story.ally_unit_id) if story.ally_unit_id else None,
                None,
                "yes" if story.creative else "no",
            )
        )
    for number, event in enumerate(store.decided_events(session, start=start, end=end), 1):
        rows.append(
            (
                f"event {number}",
                "event",
                "",
                event.created_at.astimezone(zone),
                event.decided_at.astimezone(zone) if event.decided_at else None,
                event.status,
                names.get(event.business_unit_id),
                None,
                "yes" if event.creative else "no",
            )
        )
    return _csv(OUTCOME_HEADER, rows), len(rows)
