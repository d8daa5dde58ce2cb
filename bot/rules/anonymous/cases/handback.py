"""A held case put back in the volunteers channel (SPEC 2.3): its holder left the channel, or
was forgotten. An ask still open for it in the allies channel is withdrawn, so that the next
holder asks again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.rules import requests as request_rules
from bot.rules.anonymous.cases.lifecycle import (
    OPEN,
    RELEASED,
    TAKEN,
    Released,
    get_case,
    lock_ask_of,
)
from bot.rules.anonymous.relays import RELAY_GRACE
from storage import requests as request_store
from storage.models.anonymous import AnonymousCase
from storage.models.requests import AllyRequest, Offer
from storage.types import utcnow


def withdraw_ask(session: Session, *, ask_id: int) -> list[str] | None:
    """Withdraw a case's ask still open in the allies channel (once; its escalation goes).

    Returns the allies whose offer stood on it, to tell; None if it was not open.
    """

    if not request_store.change_status(
        session, request_id=ask_id, old=request_rules.OPEN, new=request_rules.WITHDRAWN
    ):
        return None
    jobs.cancel(session, key=request_rules.escalation_key(ask_id))
    offers = select(Offer.ally_user_id).where(
        Offer.request_id == ask_id, col(Offer.active).is_(True)
    )
    return list(session.exec(offers).all())


@dataclass(frozen=True)
class Reopened:
    """What putting a held case back changed: its ask withdrawn (if any), allies to tell."""

    withdrawn_ask: int | None
    allies: list[str]


def reopen_held(session: Session, case: AnonymousCase) -> Reopened:
    """Put a case whose holder can no longer keep it (left the volunteers channel, or was
    forgotten) back in the channel, open for another volunteer.

    An ask still open in the allies channel is withdrawn and unlinked, so the next holder
    asks again; unlinked, the case's purge would miss its text, so that goes now. An ask
    already matched stays: its ally was found. The caller has locked the case's ask, then
    the case (the order forget-me and the case side keep).
    """
    withdrawn: int | None = None
    allies: list[str] = []
    ask_id = case.ask_request_id
    if ask_id is not None:
        told = withdraw_ask(session, ask_id=ask_id)
        if told is not None:
            allies, withdrawn = told, ask_id
            ask = session.get(AllyRequest, ask_id)
            if ask is not None:
                ask.submission_key = None
                ask.details = None
                ask.timing = None
                session.add(ask)
            case.ask_request_id = None
            case.ally_found_at = None
    case.volunteer_id = None
    case.status = OPEN
    case.taken_at = None
    session.add(case)
    session.flush()
    return Reopened(withdrawn_ask=withdrawn, allies=allies)


def release_case(session: Session, *, case_id: int, volunteer_id: str) -> str | None:
    """The holder left the volunteers channel: the case goes back to it (reopen_held).

    Locks are taken ask first, then case. Only one caller releases (the case is checked
    under its lock); it schedules the follow-ups (RELEASED: card, note in the channel, the
    requester told) and gets their key; anyone else gets None.
    """
    lock_ask_of(session, case_id=case_id)
    case = get_case(session, case_id=case_id, lock=True)
    session.refresh(case)
    if case.volunteer_id != volunteer_id or case.status != TAKEN:
        return None
    withdrawn = reopen_held(session, case).withdrawn_ask
    key = f"{RELEASED}:{case_id}:{secrets.token_hex(6)}"
    jobs.schedule(
        session,
        kind=RELEASED,
        key=key,
        due_at=utcnow() + RELAY_GRACE,
        payload=Released(case_id=case_id, ask_id=withdrawn),
    )
    return key
