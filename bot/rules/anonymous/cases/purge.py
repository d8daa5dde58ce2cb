"""The end of a case's words (SPEC 2.3, 6): after its retention, a closed case loses its text
and its link to the requester, its ask's text and its relayed replies; counts and outcome stay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.rules.anonymous.cases.lifecycle import CLOSED, id_of, lock_ask_of
from bot.rules.anonymous.cases.requester import unlink_requester
from bot.rules.anonymous.relays import RELAYS_PURGE, RelaysPurge, purge_relays
from storage.models.anonymous import AnonymousCase, CasePause
from storage.models.requests import AllyRequest
from storage.types import utcnow


def purge_case(
    session: Session,
    *,
    case_id: int,
    keep_pause: bool = False,
    relays_due_at: datetime | None = None,
) -> bool:
    """Delete the case's text and its link to the requester; counts and outcome stay.

    A misuse pause lapses with its case's purge, unless `keep_pause` (an early purge by
    forget-me must not lift it: the scheduled retention purge does, later). The replies
    relayed to volunteers lose their words now; their copies in Slack are blanked and their
    records deleted by a due item (RELAYS_PURGE, at `relays_due_at`, default now).
    """
    # The case's ask, then the case row, then its relays: the order every unit of work keeps.
    lock_ask_of(session, case_id=case_id)
    case = session.exec(
        select(AnonymousCase).where(AnonymousCase.id == case_id).with_for_update()
    ).first()
    if case is None or case.status != CLOSED:
        return False
    if purge_relays(session, case_id=case_id):
        jobs.schedule(
            session,
            kind=RELAYS_PURGE,
            key=f"{RELAYS_PURGE}:{case_id}",
            due_at=relays_due_at or utcnow(),
            payload=RelaysPurge(case_id=case_id),
        )
    case.details = None
    case.timing = None
    case.purged_at = case.purged_at or utcnow()
    unlink_requester(session, case)
    if case.ask_request_id is not None:
        ask = session.get(AllyRequest, case.ask_request_id)
        if ask is not None:
            ask.details = None
            ask.timing = None
            session.add(ask)
    if not keep_pause:
        session.execute(delete(CasePause).where(col(CasePause.case_id) == case_id))
    return True


def closed_before(session: Session, *, when: datetime) -> list[int]:
    """Closed, unpurged cases closed before `when` (a safety net for missed purges)."""
    return [
        id_of(c)
        for c in session.exec(
            select(AnonymousCase).where(
                AnonymousCase.status == CLOSED,
                col(AnonymousCase.purged_at).is_(None),
                col(AnonymousCase.closed_at) < when,
            )
        ).all()
    ]
