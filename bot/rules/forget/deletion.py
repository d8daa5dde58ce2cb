"""Forget-me's deletion (SPEC 6): everything held about one person goes, or loses their ID, in
the caller's unit of work (bot.rules.forget describes what goes and what stays).

Locks are taken requests first, then offers and cases, the order the other rules use.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.privacy import Privacy
from bot.rules import requests as rules
from bot.rules.forget.case_side import forget_cases_asked, forget_cases_held
from bot.rules.forget.followups import Forgotten
from bot.rules.mentoring import partners
from bot.rules.yearend import assessment
from storage import requests as store
from storage import surveys
from storage.models.anonymous import AnonymousCase, CasePause
from storage.models.feedback import Feedback
from storage.models.points import PointsEntry
from storage.models.programme import FORGOTTEN, Ally, Member
from storage.models.requests import AllyRequest, Match, Offer
from storage.types import utcnow


def forget(session: Session, privacy: Privacy, *, user_id: str) -> Forgotten:
    """Delete or anonymise everything held about `user_id`; idempotent (a repeat finds nothing)."""
    done = Forgotten()
    marker = privacy.marker(user_id)
    _lock_requests(session, user_id, marker)
    own = _forget_requests(session, user_id, done)
    chosen_by_them = session.exec(
        select(AllyRequest.id).where(AllyRequest.chooser_id == user_id)
    ).all()
    done.request_cards.extend(i for i in chosen_by_them if i is not None)  # introductions
    _forget_offers(session, user_id, done)
    forget_cases_asked(session, marker, done)
    forget_cases_held(session, privacy, user_id, done)
    # Comments on their matches may describe them, whoever wrote them; their own go too.
    involved = select(Match.id).where(
        or_(
            col(Match.ally_user_id) == user_id,
            col(Match.request_id).in_([*own, *chosen_by_them]),
        )
    )
    session.execute(
        update(Feedback).where(col(Feedback.match_id).in_(involved)).values(comment=None)
    )
    session.execute(
        update(Feedback)
        .where(col(Feedback.user_id) == user_id)
        .values(
            user_id=FORGOTTEN,
            comment=None,
            prompt_channel=None,
            prompt_ts=None,
            reminder_channel=None,
            reminder_ts=None,
        )
    )
    # Where their conversations are goes once the introductions are cleared (handlers.forget).
    session.execute(
        update(Match).where(col(Match.ally_user_id) == user_id).values(ally_user_id=FORGOTTEN)
    )
    session.execute(
        update(AllyRequest)
        .where(col(AllyRequest.chooser_id) == user_id)
        .values(chooser_id=FORGOTTEN, offers_channel=None, offers_ts=None)
    )
    session.execute(update(PointsEntry).where(col(PointsEntry.actor) == user_id).values(actor=None))
    session.execute(
        update(CasePause).where(col(CasePause.paused_by) == user_id).values(paused_by=FORGOTTEN)
    )
    session.execute(delete(Ally).where(col(Ally.user_id) == user_id))
    session.execute(delete(Member).where(col(Member.user_id) == user_id))
    # Mentoring sign-ups are sensitive (they may reveal an LGBTQ+ identity): deleted.
    partners.forget_person(session, user_id=user_id, now=utcnow())
    # Year-end stories: their text and this person's name on them go; points stay.
    assessment.forget_person(session, user_id=user_id, now=utcnow())
    surveys.forget_decider(session, user_id=user_id)
    jobs.scrub(session, value=user_id, replacement=FORGOTTEN)
    session.flush()
    return done


def _lock_requests(session: Session, user_id: str, marker: str) -> None:
    """Lock, in id order, every request this forget will touch: two forgets (or a forget and
    a choice) running together then wait for each other instead of deadlocking."""
    offered = select(Offer.request_id).where(Offer.ally_user_id == user_id)
    case_asks = select(AnonymousCase.ask_request_id).where(
        or_(
            col(AnonymousCase.requester_marker) == marker,
            col(AnonymousCase.volunteer_id) == user_id,
        )
    )
    session.exec(
        select(AllyRequest.id)
        .where(
            or_(
                col(AllyRequest.requester_id) == user_id,
                col(AllyRequest.chooser_id) == user_id,
                col(AllyRequest.id).in_(offered),
                col(AllyRequest.id).in_(case_asks),
            )
        )
        .order_by(col(AllyRequest.id))
        .with_for_update()
    ).all()


def _forget_requests(session: Session, user_id: str, done: Forgotten) -> list[int]:
    """Their named requests: open ones withdrawn, then text and name removed from all."""
    mine = session.exec(
        select(AllyRequest).where(AllyRequest.requester_id == user_id).with_for_update()
    ).all()
    for request in mine:
        assert request.id is not None
        if request.status == rules.OPEN:
            request.status = rules.WITHDRAWN
            jobs.cancel(session, key=rules.escalation_key(request.id))
            done.allies_told.extend(
                o.ally_user_id for o in store.active_offers(session, request_id=request.id)
            )
        request.requester_id = None
        request.chooser_id = FORGOTTEN
        request.details = None
        request.timing = None
        request.submission_key = None
        request.offers_channel = None
        request.offers_ts = None
        session.add(request)
        done.request_cards.append(request.id)
        done.own_requests += 1
    session.flush()
    return [r.id for r in mine if r.id is not None]


def _forget_offers(session: Session, user_id: str, done: Forgotten) -> None:
    """Their offers: deleted, except one that was chosen (kept, without their ID, for the
    match). Each request is locked first, so a choice made at the same time sees either the
    offer or nothing."""
    offers = session.exec(select(Offer).where(Offer.ally_user_id == user_id)).all()
    for offer in offers:
        request = store.get_request(session, request_id=offer.request_id, lock=True)
        session.refresh(offer)
        chosen = session.exec(select(Match).where(Match.offer_id == offer.id)).first()
        if chosen is not None:
            # One match per request: at most one offer per request is ever kept this way.
            offer.active = False
            offer.ally_user_id = FORGOTTEN
            session.add(offer)
            done.request_cards.append(offer.request_id)  # its introduction and offers DM
            continue
        if offer.active and request is not None and request.status == rules.OPEN:
            done.request_cards.append(offer.request_id)  # its chooser's list changes
        session.delete(offer)
    session.flush()
