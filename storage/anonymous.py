"""Queries on anonymous cases that other features share (never commit: the caller owns the unit).

Requests, feedback and points ask which case an ask in the allies channel was made for; they
read it here, so the rules fall into one order (anonymous above requests) with no circle.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models.anonymous import AnonymousCase


def case_for_request(session: Session, *, request_id: int) -> AnonymousCase | None:
    """The case an ask in the allies channel was made for."""
    return session.exec(
        select(AnonymousCase).where(AnonymousCase.ask_request_id == request_id)
    ).first()


def detach_ask(session: Session, *, request_id: int) -> None:
    """Unlink a withdrawn ask from its case, so the volunteer can post a new one."""
    session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.ask_request_id) == request_id)
        .values(ask_request_id=None)
    )
