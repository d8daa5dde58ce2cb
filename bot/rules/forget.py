"""`/ally forget-me` (SPEC 6, privacy): delete what the programme holds about one person.

No Slack client and no templates here: `forget` changes the database in the caller's unit of
work and returns what Slack must be told (cards to redraw, people to notify), as opaque ids.

What goes: the person's ally profile and business unit; the text of their requests, their
name on them and every comment on their matches (open requests are withdrawn); their
feedback comments; every anonymous case they asked (text, sealed link and marker deleted
at once; one still open that volunteers can see closes as withdrawn only in the later
case-side step, `close_cases_later`); their unsent anonymous drafts; the channel ids of their DMs
and conversations; their ID in scheduled work; their reverse-mentoring sign-ups and the notes
on their pairs' check-ins. Unmatched offers they made are deleted.
Where a row must stay for the counts (a matched offer, matches, feedback answers, cases they
handled as a volunteer), their Slack ID is replaced by FORGOTTEN.
What stays: the points ledger (business units' totals; rows lose their actor), counts and
outcomes, and a misuse pause (a keyed marker only), which lapses when its case's retention
purge runs, as it would have.

Locks are taken requests first, then offers and cases, the order the other rules use.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.privacy import Privacy
from bot.rules import requests as rules
from bot.rules.anonymous import cases, relays
from bot.rules.mentoring import partners
from storage import requests as store
from storage import surveys, yearend
from storage.models.anonymous import AnonymousCase, CaseDraft, CasePause
from storage.models.feedback import Feedback
from storage.models.points import PointsEntry
from storage.models.programme import FORGOTTEN, Ally, Member
from storage.models.requests import AllyRequest, Match, Offer
from storage.types import utcnow

FOLLOWUPS = "forget_followups"
CASE_FOLLOWUPS = "forget_case_followups"
# The scheduler steps in for a run of the request side that did not finish after this.
FOLLOWUPS_GRACE = timedelta(minutes=1)
# The case side is shown in Slack at a random time in this window after the deletion.
CASE_DELAY_MIN = timedelta(hours=1)
CASE_DELAY_SPREAD = timedelta(hours=5)
# The case side's record that its cases were closed and its people to tell were added.
CLOSED_LATER = "closed"


@dataclass
class Forgotten:
    """What changed, for the Slack follow-ups; holds no trace of the forgotten person.

    The case side is kept apart from the rest, so that Slack can show it later and the two
    cannot be put side by side (a named card and an anonymous case changing together would
    tell who asked the case).
    """

    # Requests whose card, escalation, introduction and offers DM must be redrawn.
    request_cards: list[int] = field(default_factory=list)
    # Allies whose offer stood on a request withdrawn by the forgetting: they are told.
    allies_told: list[str] = field(default_factory=list)
    # Cases a forgetting volunteer held (their cards name them), and those of them that were
    # still open, put back for another volunteer to take.
    held_cards: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    # Cases (asked by the person) whose card must be redrawn, and (volunteer, handle) pairs
    # of those that were still held by someone, who is told; their asks to the allies (to
    # redraw, with their introductions), and allies whose offer on such an ask stood.
    case_cards: list[int] = field(default_factory=list)
    # Cases still open, left as they are (without link or text) until the case side closes
    # them: before that, nothing a volunteer does on them shows that anything changed.
    case_closing: list[int] = field(default_factory=list)
    volunteers_told: list[tuple[str, str]] = field(default_factory=list)
    case_asks: list[int] = field(default_factory=list)
    case_allies_told: list[str] = field(default_factory=list)
    # How many of their own requests and anonymous cases were deleted (told to them only).
    own_requests: int = 0
    own_cases: int = 0
    # When the case side shows in Slack: a random time in the window, drawn once.
    case_due_at: datetime = field(default_factory=lambda: _case_side_time(utcnow()))

    def payload(self) -> dict[str, object]:
        """The request side's follow-ups as a due item's payload (ids of others only)."""
        return {
            "request_cards": sorted(set(self.request_cards)),
            "allies_told": sorted(set(self.allies_told)),
            "held_cards": sorted(set(self.held_cards)),
            "released": sorted(set(self.released)),
        }

    def case_payload(self) -> dict[str, object]:
        """The case side's follow-ups, for a separate, later due item."""
        return {
            "closing": sorted(set(self.case_closing)),
            "case_cards": sorted(set(self.case_cards)),
            "volunteers_told": sorted({(v, h) for v, h in self.volunteers_told}),
            "case_asks": sorted(set(self.case_asks)),
            "case_allies_told": sorted(set(self.case_allies_told)),
        }


def _case_side_time(now: datetime) -> datetime:
    spread = secrets.randbelow(int(CASE_DELAY_SPREAD.total_seconds()))
    return now + CASE_DELAY_MIN + timedelta(seconds=spread)


def followups_key(reference: str) -> str:
    """The scheduled-work key of one forget-me's Slack follow-ups."""
    return f"forget:{reference}"


def case_followups_key(reference: str) -> str:
    """The key of the case side's follow-ups (a separate reference, unrelated to the other)."""
    return f"forget-case:{reference}"


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
    _forget_cases_asked(session, marker, done)
    _forget_cases_held(session, privacy, user_id, done)
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
    yearend.forget_person(session, user_id=user_id, now=utcnow())
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
            done.allies_told.extend(o.ally_user_id for o in _active_offers(session, request.id))
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


def _forget_cases_asked(session: Session, marker: str, done: Forgotten) -> None:
    """Their anonymous cases: link and marker deleted now; drafts deleted.

    A case the volunteers can see that is still open keeps its state (taken, its buttons
    working, as for any requester who cannot be reached) until the case-side step closes it
    hours later: a volunteer told "closed" at once would see it change together with the
    person's named cards. A case never shown (its card not yet posted) closes now. What
    Slack shows of them (case cards, asks, introductions) goes to the later side.
    """
    session.execute(delete(CaseDraft).where(col(CaseDraft.owner_marker) == marker))
    asked = select(AnonymousCase).where(AnonymousCase.requester_marker == marker)
    for case in session.exec(asked.with_for_update()).all():
        assert case.id is not None
        if case.ask_request_id is not None:
            done.case_asks.append(case.ask_request_id)
        done.case_cards.append(case.id)
        done.own_cases += 1
        if case.status != cases.CLOSED and case.card_ts is not None:
            # Its redacted text and state stay for the case side, hours later: changed now,
            # the next redraw of its card would show it together with the named cards.
            cases.unlink_requester(session, case)
            # Its replies' sealed words go now (the unredacted words of a person forgotten);
            # their copies shown so far stay until the case side, like the case's text.
            relays.purge_relays(session, case_id=case.id)
            session.flush()
            done.case_closing.append(case.id)
            continue
        _close_as_withdrawn(session, case, done.case_allies_told)
        # Its relayed copies are blanked with the rest of the case side, not now.
        cases.purge_case(session, case_id=case.id, keep_pause=True, relays_due_at=done.case_due_at)


def close_cases_later(session: Session, *, key: str, case_ids: list[int]) -> dict[str, Any]:
    """The case side's first step: the cases left open close as withdrawn, all are purged.

    Idempotent. Who must be told (the volunteers holding a case it closed, the allies whose
    offer stood on its ask) is added to the item's payload once, so that the later steps,
    named by their place in it, stay the same on a retry. Returns that payload.
    """
    # Requests first, then cases, then the item: the order forget() locks them in.
    asks = select(AnonymousCase.ask_request_id).where(col(AnonymousCase.id).in_(case_ids))
    session.exec(
        select(AllyRequest.id)
        .where(col(AllyRequest.id).in_(asks))
        .order_by(col(AllyRequest.id))
        .with_for_update()
    ).all()
    closing = select(AnonymousCase).where(col(AnonymousCase.id).in_(case_ids))
    found = session.exec(closing.order_by(col(AnonymousCase.id)).with_for_update()).all()
    for case in found:
        assert case.id is not None
        _close_as_withdrawn(session, case, [])
        cases.purge_case(session, case_id=case.id, keep_pause=True)
    item = jobs.find(session, key=key, lock=True)
    if item is None:
        return {}
    payload = dict(item.payload or {})
    if CLOSED_LATER in (item.sent or {}):
        return payload
    # Closed as withdrawn only by forget-me, and these by this step (their volunteer could
    # close them meanwhile, with an outcome of their own: then there is nothing to tell).
    withdrawn = [c for c in found if c.outcome == cases.WITHDRAWN]
    volunteers = {
        (c.volunteer_id, c.handle) for c in withdrawn if c.volunteer_id not in (None, FORGOTTEN)
    }
    allies = {
        o.ally_user_id
        for c in withdrawn
        if c.ask_request_id is not None and _withdrawn(session, c.ask_request_id)
        for o in _active_offers(session, c.ask_request_id)
        if o.ally_user_id != FORGOTTEN
    }
    told = {(str(v), str(h)) for v, h in payload.get("volunteers_told", [])}
    payload["volunteers_told"] = [list(pair) for pair in sorted(told | volunteers)]
    payload["case_allies_told"] = sorted({*payload.get("case_allies_told", []), *allies})
    item.payload = payload
    session.add(item)
    jobs.record_sent(session, key=key, name=CLOSED_LATER, value=True)
    return payload


def _withdrawn(session: Session, request_id: int) -> bool:
    request = session.get(AllyRequest, request_id)
    return request is not None and request.status == rules.WITHDRAWN


def _forget_cases_held(session: Session, privacy: Privacy, user_id: str, done: Forgotten) -> None:
    """Cases they handled as a volunteer: open ones go back to the channel, by the rule of a
    holder who left it (cases.reopen_held: an open ask is withdrawn, and a new holder asks
    the allies again); closed ones keep their counts, not the ID."""
    held = select(AnonymousCase).where(AnonymousCase.volunteer_id == user_id)
    held_ids: list[int] = []
    for case in session.exec(held.with_for_update()).all():
        assert case.id is not None
        if case.status == cases.CLOSED:
            case.volunteer_id = FORGOTTEN  # the card named them: it is redrawn without
            session.add(case)
        else:
            if case.ask_request_id is not None:
                done.request_cards.append(case.ask_request_id)
            done.allies_told.extend(cases.reopen_held(session, case).allies)
            done.released.append(case.id)
        done.held_cards.append(case.id)
        held_ids.append(case.id)
    # The requester's replies shown in their DM, on any case, are blanked, and with them the
    # records of where they are (their DM); replies not yet shown wait for the next holder.
    relays.blank_copies_of(session, privacy, volunteer_id=user_id, held=held_ids)
    session.flush()


def _close_as_withdrawn(session: Session, case: AnonymousCase, allies_told: list[str]) -> None:
    """A case still open closes as withdrawn by the person who asked, with its ask."""
    if case.status == cases.CLOSED:
        return
    case.status = cases.CLOSED
    case.outcome = cases.WITHDRAWN
    case.closed_at = utcnow()
    session.add(case)
    session.flush()
    _withdraw_case_ask(session, case, allies_told)


def _withdraw_case_ask(session: Session, case: AnonymousCase, allies_told: list[str]) -> None:
    """The case's ask in the allies channel, if still open, is withdrawn (once); the allies
    whose offer stood on it are added to `allies_told`."""
    if case.ask_request_id is not None:
        allies_told.extend(cases.withdraw_ask(session, ask_id=case.ask_request_id) or [])


def schedule_followups(session: Session, done: Forgotten, *, key: str) -> dict[str, object]:
    """Write the two follow-up items: the request side (run at once by the caller too, so
    returned) and the case side, hours later at a random time, under an unrelated key."""
    payload, case_payload = done.payload(), done.case_payload()
    if any(payload.values()):
        jobs.schedule(
            session, kind=FOLLOWUPS, key=key, due_at=utcnow() + FOLLOWUPS_GRACE, payload=payload
        )
    if any(case_payload.values()):
        jobs.schedule(
            session,
            kind=CASE_FOLLOWUPS,
            key=case_followups_key(secrets.token_urlsafe(12)),
            due_at=done.case_due_at,
            payload=case_payload,
        )
    return payload


def forget_conversation(session: Session, *, request_id: int) -> None:
    """Once the introduction of a pair with a forgotten person is cleared, forget where it is."""
    match = store.match_for(session, request_id=request_id)
    request = store.get_request(session, request_id=request_id)
    if match is None or request is None:
        return
    if FORGOTTEN in (request.chooser_id, match.ally_user_id):
        match.conversation_id = None
        match.intro_ts = None
        session.add(match)


def handles(session: Session, *, case_ids: list[int]) -> list[str]:
    """The handles of these cases, sorted."""
    return sorted(
        session.exec(select(AnonymousCase.handle).where(col(AnonymousCase.id).in_(case_ids))).all()
    )


def _active_offers(session: Session, request_id: int) -> list[Offer]:
    return list(
        session.exec(
            select(Offer).where(Offer.request_id == request_id, col(Offer.active).is_(True))
        ).all()
    )
