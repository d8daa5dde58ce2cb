"""Allyship requests: the form, offers, the requester's choice, withdrawal (SPEC 2.1, 2.2).

Plain Python over a session: no Slack client, no templates. The caller's unit of work
commits; every race (double click, click + reaction, two choices) is settled here by the
database: a unique constraint, INSERT ... ON CONFLICT DO NOTHING or a conditional UPDATE.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.config import Settings
from bot.jobs import queue as jobs
from bot.privacy import Privacy
from bot.rules.allies import find_ally
from bot.rules.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.rules.feedback import prompts
from messages.content import Content
from storage import anonymous as anonymous_store
from storage import requests as store
from storage.models.programme import FORGOTTEN
from storage.models.requests import AllyRequest, Match, Offer
from storage.types import utcnow

NAMED = "named"
ANONYMOUS = "anonymous"
KINDS = (NAMED, ANONYMOUS)

OPEN = "open"
MATCHED = "matched"
WITHDRAWN = "withdrawn"
CLOSED = "closed"

DETAILS_MAX = 3000
TIMING_MAX = 200
MAX_OPEN_REQUESTS = 3
ESCALATE = "escalate_request"
MATCH_FOLLOWUPS = "match_followups"
CARD = "post_request_card"


class RequestItem(jobs.Payload):
    """ESCALATE and CARD: the request (None in an item whose payload was emptied; its key
    names the request then)."""

    request_id: int | None = None


class MatchItem(jobs.Payload):
    """MATCH_FOLLOWUPS: the match (None in an emptied payload; its key names the match)."""

    match_id: int | None = None


# The submission posts a named request's card at once; the due item is the safety net for a
# failure (or a crash) there, so it waits a little to avoid running beside the submission.
CARD_GRACE = timedelta(minutes=1)
# A withdrawal's messages (cards redrawn, offering allies told): run at once by the listener,
# finished by the sweep after this if any failed.
WITHDRAWAL = "withdrawal_followups"
WITHDRAWAL_GRACE = timedelta(minutes=1)


class Withdrawal(jobs.Payload):
    """WITHDRAWAL: the request withdrawn, its case if it was a case's ask, the allies to tell."""

    request_id: int
    case_id: int | None = None
    offering: list[str] = []


# The click that made the match runs its follow-ups at once; the due item is the safety net
# for a failure (or a crash) there, so it waits a little to avoid running beside the click.
FOLLOWUPS_GRACE = timedelta(minutes=1)

_NOT_OPEN = {
    MATCHED: "This request already has an ally. Thank you for offering!",
    WITHDRAWN: "This request was withdrawn by the person who asked. Thank you for offering!",
    CLOSED: "This request is closed. Thank you for offering!",
}


class NotAnAlly(NotAllowed):
    """Only allies can offer; the person is invited to sign up."""


@dataclass(frozen=True)
class RequestForm:
    """What the request modal asks for, checked."""

    kind: str
    category: str
    details: str
    timing: str | None = None


def parse_request_form(values: dict[str, Any], content: Content) -> RequestForm:
    """Read the `allyship_request` modal's state.values; raise InvalidInput(message, block_id)."""

    def element(block_id: str) -> dict[str, Any]:
        block = values.get(block_id) or {}
        entry = block.get(block_id)
        return entry if isinstance(entry, dict) else {}

    kind = ((element("kind").get("selected_option") or {}).get("value")) or ""
    if kind not in KINDS:
        raise InvalidInput("Choose whether to ask by name or anonymously.", "kind")
    category = ((element("category").get("selected_option") or {}).get("value")) or ""
    if content.category(category) is None:
        raise InvalidInput("Choose what you would like help with.", "category")
    details = str(element("details").get("value") or "").strip()
    if not details:
        raise InvalidInput("Tell the allies what would help (a sentence is enough).", "details")
    if len(details) > DETAILS_MAX:
        raise InvalidInput(
            f"Please keep this under {DETAILS_MAX} characters "
            f"(it is {len(details)}); the allies will ask for more.",
            "details",
        )
    timing = str(element("timing").get("value") or "").strip() or None
    if timing is not None and len(timing) > TIMING_MAX:
        raise InvalidInput(f"Please keep the timing under {TIMING_MAX} characters.", "timing")
    if not element("consent").get("selected_options"):
        raise InvalidInput(
            "Please confirm you have read what an ally can and cannot help with.", "consent"
        )
    return RequestForm(kind=kind, category=category, details=details, timing=timing)


def check_open_limit(session: Session, *, requester_id: str) -> None:
    """Refuse a new request from someone who already has MAX_OPEN_REQUESTS open."""
    if store.count_open_requests(session, requester_id=requester_id) >= MAX_OPEN_REQUESTS:
        raise InvalidInput(
            f"You already have {MAX_OPEN_REQUESTS} open requests. Withdraw one, or wait "
            "until an ally is found, before asking again.",
            "details",
        )


def create_request(
    session: Session,
    *,
    kind: str,
    category: str,
    details: str,
    timing: str | None,
    requester_id: str | None,
    chooser_id: str | None,
    on_behalf_of: str | None,
    submission_key: str | None = None,
) -> AllyRequest:
    """Record a new open request (a repeated submission_key returns the existing one)."""
    if submission_key is not None:
        existing = store.request_by_submission(session, submission_key=submission_key)
        if existing is not None:
            return existing
    request = AllyRequest(
        kind=kind,
        category=category,
        details=details,
        timing=timing,
        requester_id=requester_id,
        chooser_id=chooser_id,
        on_behalf_of=on_behalf_of,
        submission_key=submission_key,
    )
    session.add(request)
    session.flush()
    return request


def schedule_escalation(session: Session, *, request: AllyRequest, settings: Settings) -> None:
    """Escalate the request to volunteers if it has no offer after ALLYBOT_ESCALATE_AFTER."""
    assert request.id is not None
    jobs.schedule(
        session,
        kind=ESCALATE,
        key=escalation_key(request.id),
        due_at=request.created_at + settings.escalate_after,
        payload=RequestItem(request_id=request.id),
    )


def schedule_card(session: Session, *, request: AllyRequest) -> None:
    """Make the request's card post (and the requester's confirmation) durable: call in the
    unit of work that creates the request, so a failed first post is retried by the sweep."""
    assert request.id is not None
    jobs.schedule(
        session,
        kind=CARD,
        key=card_key(request.id),
        due_at=utcnow() + CARD_GRACE,
        payload=RequestItem(request_id=request.id),
    )


def card_key(request_id: int) -> str:
    """The scheduled-work key of a named request's card post and confirmation."""
    return f"request_card:{request_id}"


def escalation_key(request_id: int) -> str:
    """The scheduled-work key of a request's escalation."""
    return f"escalate:{request_id}"


def needs_escalation(session: Session, *, request_id: int) -> AllyRequest | None:
    """The request, if it is still open, has no offer and was not escalated yet."""
    request = store.get_request(session, request_id=request_id)
    if request is None or request.status != OPEN or request.escalation_ts:
        return None
    if store.active_offers(session, request_id=request_id):
        return None
    return request


@dataclass(frozen=True)
class OfferResult:
    """What an offer changed: `added` is False when the ally had already offered."""

    request: AllyRequest
    added: bool


def _open_request(session: Session, request_id: int) -> AllyRequest:
    # The row lock orders offers against a concurrent choice or withdrawal (PostgreSQL;
    # SQLite's BEGIN IMMEDIATE already serialises writers).
    request = store.get_request(session, request_id=request_id, lock=True)
    if request is None:
        raise NotFound("That request no longer exists.")
    if request.status != OPEN:
        raise Conflict(_NOT_OPEN.get(request.status, _NOT_OPEN[CLOSED]))
    return request


def record_offer(
    session: Session,
    *,
    request_id: int,
    ally_user_id: str,
    source: str,
    privacy: Privacy | None = None,
) -> OfferResult:
    """An ally offers to help (button or reaction): recorded once per ally and request.

    For an ask made on behalf of an anonymous case, `privacy` is required: the anonymous
    requester (known only by keyed marker) may not offer on their own case's ask.
    """
    request = _open_request(session, request_id)
    if ally_user_id in (request.requester_id, request.chooser_id):
        raise NotAllowed("This is your own request: you cannot offer to help with it.")
    if request.on_behalf_of and _is_cases_requester(session, request, ally_user_id, privacy):
        # Said only to the person who offered; it names no case and no one.
        raise NotAllowed(
            "Thank you, but you cannot offer on this ask: it was made for your own request. "
            "Your volunteer is finding an ally for you."
        )
    ally = find_ally(session, user_id=ally_user_id)
    if ally is None:
        raise NotAnAlly(
            "Thank you for wanting to help! Only allies can offer: sign up first, then offer again."
        )
    if not ally.available:
        raise NotAllowed(
            "You are marked as unavailable, so you cannot offer right now. Switch your "
            "availability back on with `/ally join` (or in the bot's Home tab), then offer again."
        )
    added = store.insert_offer(
        session, request_id=request_id, ally_user_id=ally_user_id, source=source
    ) or store.set_offer_active(
        session, request_id=request_id, ally_user_id=ally_user_id, active=True
    )
    return OfferResult(request=request, added=added)


def _is_cases_requester(
    session: Session, request: AllyRequest, user_id: str, privacy: Privacy | None
) -> bool:
    if privacy is None:
        raise TypeError("record_offer needs privacy for an ask made on behalf of a case")
    assert request.id is not None
    case = anonymous_store.case_for_request(session, request_id=request.id)
    marker = case.requester_marker if case is not None else None
    return marker is not None and secrets.compare_digest(marker, privacy.marker(user_id))


def withdraw_offer(session: Session, *, request_id: int, ally_user_id: str) -> bool:
    """An ally takes their offer back (removed reaction); only while nobody is chosen."""
    request = store.get_request(session, request_id=request_id, lock=True)
    if request is None or request.status != OPEN:
        return False
    return store.set_offer_active(
        session, request_id=request_id, ally_user_id=ally_user_id, active=False
    )


def choose_offer(session: Session, *, offer_id: int, chooser_id: str, settings: Settings) -> Match:
    """The chooser picks an offering ally: exactly one match per request, whatever the clicks."""
    offer = store.get_offer(session, offer_id=offer_id)
    if offer is None:
        raise NotFound("That offer no longer exists.")
    request = store.get_request(session, request_id=offer.request_id, lock=True)
    if request is None or request.id is None:
        raise NotFound("That request no longer exists.")
    if request.chooser_id != chooser_id:
        raise NotAllowed("Only the person who asked can choose an ally for this request.")
    if request.status == MATCHED:
        raise Conflict("You have already chosen an ally for this request.")
    if request.status != OPEN:
        raise Conflict("This request is no longer open.")
    # Read again under the request's lock: the ally may have withdrawn, or been forgotten.
    offer = session.get(Offer, offer_id, populate_existing=True)
    if offer is None or offer.ally_user_id == FORGOTTEN:
        raise Conflict("That ally has withdrawn their offer; please choose another.")
    if not offer.active:
        raise Conflict("That ally has withdrawn their offer; please choose another.")
    if not store.change_status(session, request_id=request.id, old=OPEN, new=MATCHED):
        raise Conflict("You have already chosen an ally for this request.")
    match = Match(request_id=request.id, offer_id=offer_id, ally_user_id=offer.ally_user_id)
    try:
        with session.begin_nested():
            session.add(match)
    except IntegrityError:
        raise Conflict("You have already chosen an ally for this request.") from None
    assert match.id is not None
    prompts.schedule_feedback(
        session, match_id=match.id, matched_at=match.created_at, settings=settings
    )
    jobs.schedule(
        session,
        kind=MATCH_FOLLOWUPS,
        key=followups_key(match.id),
        due_at=utcnow() + FOLLOWUPS_GRACE,
        payload=MatchItem(match_id=match.id),
    )
    jobs.cancel(session, key=escalation_key(request.id))
    return match


def followups_key(match_id: int) -> str:
    """The scheduled-work key of a match's follow-ups (introduction, card, thanks)."""
    return f"match:{match_id}"


def withdraw_request(session: Session, *, request_id: int, user_id: str) -> AllyRequest:
    """The person who asked withdraws an open request."""
    request = store.get_request(session, request_id=request_id, lock=True)
    if request is None or request.id is None:
        raise NotFound("That request no longer exists.")
    if user_id not in (request.requester_id, request.chooser_id):
        raise NotAllowed("Only the person who asked can withdraw this request.")
    if request.status == WITHDRAWN:
        raise Conflict("You have already withdrawn this request.")
    if not store.change_status(session, request_id=request.id, old=OPEN, new=WITHDRAWN):
        raise Conflict("This request already has an ally, so it can no longer be withdrawn.")
    jobs.cancel(session, key=escalation_key(request.id))
    if request.on_behalf_of:
        # The case may post a new ask: it forgets this one, and this one gives up its
        # submission key (which would otherwise hand the withdrawn ask back).
        anonymous_store.detach_ask(session, request_id=request.id)
        request.submission_key = None
        session.add(request)
        session.flush()
    session.refresh(request)
    return request


def schedule_withdrawal_followups(
    session: Session, *, request_id: int, case_id: int | None
) -> tuple[str, Withdrawal]:
    """Write, with the withdrawal, what Slack must show of it: the cards to redraw and the
    allies whose offer stood on it, to tell. Returns the item's key and payload."""
    offering = [o.ally_user_id for o in offering_allies(session, request_id=request_id)]
    payload = Withdrawal(request_id=request_id, case_id=case_id, offering=offering)
    key = f"withdrawal:{request_id}"
    jobs.schedule(
        session, kind=WITHDRAWAL, key=key, due_at=utcnow() + WITHDRAWAL_GRACE, payload=payload
    )
    return key, payload


def offering_allies(session: Session, *, request_id: int) -> list[Offer]:
    """The offers standing on a request, oldest first."""
    return store.active_offers(session, request_id=request_id)
