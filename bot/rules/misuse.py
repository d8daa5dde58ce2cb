"""The misuse review (SPEC 3): one report card per request, pauses by keyed marker.

A report counts people, never names them: each reporter is a keyed marker of (request,
person), so one person's second report changes nothing, and the card shows how many.

A pause is keyed by the person's marker, in one of two records. A pause admins see
(`person_pause`): set by `/ally-admin pause`, or from the card of a request made by name,
whose requester is known anyway. A pause of an anonymous requester (`case_pause`, as a case
closed as misuse writes it): set from the card of a case's ask, by the case's marker, so
nobody learns who they are; it lapses with the case's retention purge. Admin commands read
and change only the first: what they answer about a person is the same whether or not an
anonymous case paused them. A person is refused while either holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.privacy import Privacy
from bot.rules.anonymous import cases
from bot.rules.errors import Conflict, NotFound
from storage.anonymous import case_for_request
from storage.models.requests import AllyRequest
from storage.models.surveys import MisuseReport, MisuseReporter, PersonPause
from storage.surveys import paused
from storage.types import rowcount

OPEN = "open"
DISMISSED = "dismissed"
PAUSED = "paused"
# Where a pause admins see came from.
ADMIN = "admin"
CARD = "card"
PAUSED_TEXT = (
    "Your requests are paused for now, so I can't send this one. This happens after a "
    "review; if you think it is a mistake, or you need support, please talk to the "
    "programme's organisers. They will be glad to hear from you."
)


@dataclass(frozen=True)
class ReportState:
    """A request's report as its card shows it (a count, never names)."""

    id: int
    request_id: int
    reports: int
    status: str
    decided_by: str | None
    card_channel: str | None
    card_ts: str | None
    counted: bool  # this click added a report (False: the same person again)


def _state(report: MisuseReport, counted: bool = False) -> ReportState:
    assert report.id is not None
    return ReportState(
        report.id,
        report.request_id,
        report.reports,
        report.status,
        report.decided_by,
        report.card_channel,
        report.card_ts,
        counted,
    )


def reporter_marker(privacy: Privacy, *, request_id: int, user_id: str) -> str:
    """A reporter's marker for one request (no other table's marker: nothing ties them)."""
    return privacy.marker(f"misuse:{request_id}:{user_id}")


def report(session: Session, *, request_id: int, marker: str) -> ReportState:
    """Count one person's report of a request (once each); one report row per request."""
    if session.get(AllyRequest, request_id) is None:
        raise NotFound("That request no longer exists.")
    row = _locked(session, request_id)
    if row is None:
        try:
            with session.begin_nested():
                session.add(MisuseReport(request_id=request_id))
        except IntegrityError:
            pass  # a concurrent first report made it
        row = _locked(session, request_id)
    assert row is not None and row.id is not None
    try:
        with session.begin_nested():
            session.add(MisuseReporter(report_id=row.id, marker=marker))
    except IntegrityError:
        return _state(row)
    session.execute(
        update(MisuseReport)
        .where(col(MisuseReport.id) == row.id)
        .values(reports=MisuseReport.reports + 1)
    )
    session.refresh(row)
    return _state(row, counted=True)


def withdraw_report(session: Session, *, report_id: int, marker: str) -> None:
    """Undo a report whose card could not be shown: the person may report again."""
    removed = session.execute(
        delete(MisuseReporter).where(
            col(MisuseReporter.report_id) == report_id, col(MisuseReporter.marker) == marker
        )
    )
    if rowcount(removed):
        session.execute(
            update(MisuseReport)
            .where(col(MisuseReport.id) == report_id)
            .values(reports=MisuseReport.reports - 1)
        )


def _locked(session: Session, request_id: int) -> MisuseReport | None:
    statement = select(MisuseReport).where(col(MisuseReport.request_id) == request_id)
    return session.exec(statement.with_for_update()).first()


def get(session: Session, *, report_id: int) -> ReportState | None:
    """A report by id."""
    row = session.get(MisuseReport, report_id)
    return _state(row) if row is not None else None


def record_card(session: Session, *, report_id: int, channel: str, ts: str) -> None:
    """Where the report's card is, so later reports update it instead of posting."""
    session.execute(
        update(MisuseReport)
        .where(col(MisuseReport.id) == report_id)
        .values(card_channel=channel, card_ts=ts)
    )


def decide(
    session: Session, *, report_id: int, decision: str, by: str, privacy: Privacy, now: datetime
) -> ReportState:
    """Dismiss a report, or pause its requester by marker; the first decision wins."""
    result = session.execute(
        update(MisuseReport)
        .where(col(MisuseReport.id) == report_id, col(MisuseReport.status) == OPEN)
        .values(status=decision, decided_by=by, decided_at=now)
    )
    row = session.get(MisuseReport, report_id)
    if row is None:
        raise NotFound("That report no longer exists.")
    if int(getattr(result, "rowcount", 0)) != 1:
        session.refresh(row)
        raise Conflict(f"This report was already {row.status} by <@{row.decided_by}>.")
    if decision == PAUSED:
        _pause_requester(session, privacy, request_id=row.request_id, by=by)
    session.refresh(row)
    return _state(row)


def _pause_requester(session: Session, privacy: Privacy, *, request_id: int, by: str) -> None:
    """An anonymous case's requester by the case's marker (a pause no admin sees, lapsing with
    the case); a requester by name with a pause admins see and can lift."""
    case = case_for_request(session, request_id=request_id)
    if case is not None:
        if case.requester_marker is not None and case.id is not None:
            cases.pause_requester(session, marker=case.requester_marker, case_id=case.id, by=by)
        return
    request = session.get(AllyRequest, request_id)
    if request is None or not request.requester_id:
        return
    _add_visible_pause(session, marker=privacy.marker(request.requester_id), source=CARD)


def _add_visible_pause(session: Session, *, marker: str, source: str) -> bool:
    """Add a pause admins see; False if there is one already (idempotent under races)."""
    if session.get(PersonPause, marker) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(PersonPause(marker=marker, source=source))
    except IntegrityError:
        return False
    return True


def is_paused(session: Session, *, marker: str) -> bool:
    """Whether the person with this marker is paused, by any pause (the person may be told)."""
    return paused(session, marker=marker)


def check_not_paused(session: Session, *, marker: str) -> None:
    """Refuse a request from a paused person, kindly."""
    if is_paused(session, marker=marker):
        raise Conflict(PAUSED_TEXT)


def pause(session: Session, *, marker: str) -> None:
    """An admin pauses a person (Conflict if a pause admins see holds already).

    Whether an anonymous case paused them is neither read nor told: the answer is the same.
    """
    if not _add_visible_pause(session, marker=marker, source=ADMIN):
        raise Conflict("That person is already paused.")


def unpause(session: Session, *, marker: str) -> None:
    """An admin lifts a pause admins see (NotFound if there is none).

    A pause from an anonymous case is neither read nor lifted: it lapses with its case.
    """
    result = session.execute(delete(PersonPause).where(col(PersonPause.marker) == marker))
    if int(getattr(result, "rowcount", 0)) != 1:
        raise NotFound("That person is not paused.")
