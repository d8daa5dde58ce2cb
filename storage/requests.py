"""Queries on requests, offers and processed events (never commit: the caller owns the unit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage import upsert
from storage.models.programme import ProcessedEvent
from storage.models.requests import AllyRequest, Match, Offer
from storage.types import utcnow


def claim_event(session: Session, *, event_id: str) -> bool:
    """Record an Events API delivery; False if it was already handled (a retry)."""
    statement = (
        upsert.insert(session, ProcessedEvent)
        .values(event_id=event_id, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ProcessedEvent.event_id)
    )
    return _inserted(session, statement)


def _inserted(session: Session, statement: Any) -> bool:
    # RETURNING, not rowcount: SQLAlchemy adds an implicit RETURNING to these inserts on
    # PostgreSQL, and then rowcount says 1 even when ON CONFLICT DO NOTHING inserted nothing.
    return session.connection().execute(statement).first() is not None


def _changed(session: Session, statement: Any) -> bool:
    return bool(session.connection().execute(statement).rowcount)


def get_request(session: Session, *, request_id: int, lock: bool = False) -> AllyRequest | None:
    """One request by id; with lock=True the row is locked until the unit of work ends."""
    statement = select(AllyRequest).where(AllyRequest.id == request_id)
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def request_by_submission(session: Session, *, submission_key: str) -> AllyRequest | None:
    """The request a modal submission already created, if any."""
    statement = select(AllyRequest).where(AllyRequest.submission_key == submission_key)
    return session.exec(statement).first()


def request_by_card(session: Session, *, channel: str, ts: str) -> AllyRequest | None:
    """The request whose allies-channel card is this message."""
    statement = select(AllyRequest).where(
        AllyRequest.card_channel == channel, AllyRequest.card_ts == ts
    )
    return session.exec(statement).first()


def count_open_requests(session: Session, *, requester_id: str) -> int:
    """How many open requests this person has made."""
    statement = select(func.count()).where(
        AllyRequest.requester_id == requester_id, AllyRequest.status == "open"
    )
    return int(session.exec(statement).one())


def requests_of(session: Session, *, requester_id: str, limit: int = 10) -> list[AllyRequest]:
    """A person's latest named requests, newest first."""
    statement = (
        select(AllyRequest)
        .where(AllyRequest.requester_id == requester_id, AllyRequest.kind == "named")
        .order_by(col(AllyRequest.created_at).desc(), col(AllyRequest.id).desc())
        .limit(limit)
    )
    return list(session.exec(statement))


def insert_offer(session: Session, *, request_id: int, ally_user_id: str, source: str) -> bool:
    """Add an offer unless this ally already has one on the request; True if added."""
    now = utcnow()
    statement = (
        upsert.insert(session, Offer)
        .values(
            request_id=request_id,
            ally_user_id=ally_user_id,
            source=source,
            active=True,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["request_id", "ally_user_id"])
        .returning(Offer.id)
    )
    return _inserted(session, statement)


def set_offer_active(session: Session, *, request_id: int, ally_user_id: str, active: bool) -> bool:
    """Switch an offer on or off; True only if it changed."""
    statement = (
        update(Offer)
        .where(
            col(Offer.request_id) == request_id,
            col(Offer.ally_user_id) == ally_user_id,
            col(Offer.active) == (not active),
        )
        .values(active=active, updated_at=utcnow())
    )
    return _changed(session, statement)


def active_offers(session: Session, *, request_id: int) -> list[Offer]:
    """The offers standing on a request, oldest first."""
    statement = (
        select(Offer)
        .where(Offer.request_id == request_id, col(Offer.active).is_(True))
        .order_by(col(Offer.created_at), col(Offer.id))
    )
    return list(session.exec(statement))


def get_offer(session: Session, *, offer_id: int) -> Offer | None:
    """One offer by id."""
    return session.get(Offer, offer_id)


def change_status(session: Session, *, request_id: int, old: str, new: str) -> bool:
    """Move a request from one status to another; False if it was not in `old` (a race lost)."""
    statement = (
        update(AllyRequest)
        .where(col(AllyRequest.id) == request_id, col(AllyRequest.status) == old)
        .values(status=new, updated_at=utcnow())
    )
    return _changed(session, statement)


def match_for(session: Session, *, request_id: int) -> Match | None:
    """The match recorded for a request, if any."""
    return session.exec(select(Match).where(Match.request_id == request_id)).first()


def get_match(session: Session, *, match_id: int, lock: bool = False) -> Match | None:
    """One match by id; with lock=True the row is locked until the unit of work ends."""
    return session.get(Match, match_id, with_for_update=lock or None, populate_existing=lock)


def record_card(session: Session, *, request_id: int, channel: str, ts: str) -> None:
    """Where the request's card was posted (its redraws update it there)."""
    session.execute(
        update(AllyRequest)
        .where(col(AllyRequest.id) == request_id)
        .values(card_channel=channel, card_ts=ts, updated_at=utcnow())
    )


def record_offers(session: Session, *, request_id: int, channel: str, ts: str) -> None:
    """Where the chooser's offers DM was posted."""
    session.execute(
        update(AllyRequest)
        .where(col(AllyRequest.id) == request_id)
        .values(offers_channel=channel, offers_ts=ts, updated_at=utcnow())
    )


def record_escalation(session: Session, *, request_id: int, ts: str) -> None:
    """The ts of the request's escalation to the volunteers."""
    session.execute(
        update(AllyRequest)
        .where(col(AllyRequest.id) == request_id)
        .values(escalation_ts=ts, updated_at=utcnow())
    )


def record_introduction(session: Session, *, match_id: int, channel: str, ts: str) -> None:
    """The pair's group conversation and the introduction's ts."""
    session.execute(
        update(Match).where(col(Match.id) == match_id).values(conversation_id=channel, intro_ts=ts)
    )
