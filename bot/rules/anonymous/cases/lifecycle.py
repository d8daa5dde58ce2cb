"""A case's life (SPEC 2.3): opened from a confirmed draft, taken by one volunteer, an ask for
an ally, the reveal, closed. Every race is settled by the database with a conditional UPDATE
whose rowcount says who won; the requester appears only as sealed tokens and a keyed marker
(bot.rules.anonymous.cases.requester), never as a plain Slack ID.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.privacy import Identity, Privacy
from bot.rules import requests as request_rules
from bot.rules.anonymous.cases.requester import is_requester, pause_requester
from bot.rules.anonymous.drafts import Draft, redact_draft
from bot.rules.anonymous.relays import RELAY, RELAY_GRACE, RelayItem, pending_relays
from bot.rules.errors import Conflict, NotAllowed, NotFound
from bot.rules.points import ledger
from storage.models.anonymous import AnonymousCase
from storage.models.requests import AllyRequest
from storage.surveys import paused
from storage.types import rowcount, utcnow

OPEN = "open"
TAKEN = "taken"
CLOSED = "closed"

HELPED = "helped"
NOT_HELPED = "not_helped"
MISUSE = "misuse"
OUTCOMES = {HELPED: "helped", NOT_HELPED: "not helped", MISUSE: "misuse"}
# Not a volunteer's choice: the requester asked for their data to be deleted (bot.rules.forget).
WITHDRAWN = "withdrawn"
OUTCOME_LABELS = {**OUTCOMES, WITHDRAWN: "withdrawn by the person who asked"}

MAX_OPEN_CASES = 3

# Due kinds and their timing.
PURGE = "purge_case"
CARD = "post_case_card"
# The sweep posts a case's card if the attempt right after the confirmation did not.
CARD_GRACE = timedelta(minutes=1)
# A case released because its holder left the volunteers channel: card, channel, requester.
RELEASED = "case_released"
# The requester's introduction to the ally, once they chose to reveal themselves.
REVEAL = "case_reveal"


class CaseItem(jobs.Payload):
    """PURGE and CARD: the case (None in an emptied payload; its key names the case then)."""

    case_id: int | None = None


class Reveal(jobs.Payload):
    """REVEAL: the case whose requester is introduced to the ally."""

    case_id: int


class Released(jobs.Payload):
    """RELEASED: the case put back in the channel, and its ask withdrawn with it, if any."""

    case_id: int
    ask_id: int | None = None


_HANDLE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def id_of(case: AnonymousCase) -> int:
    """A stored case's id."""
    assert case.id is not None
    return case.id


def purge_key(case_id: int) -> str:
    """The scheduled-work key of a case's purge."""
    return f"{PURGE}:{case_id}"


def card_key(case_id: int) -> str:
    """The scheduled-work key of a case's card post (the safety net of the first attempt)."""
    return f"case_card:{case_id}"


def reveal_key(case_id: int) -> str:
    """The scheduled-work key of a case's introduction of the requester to the ally."""
    return f"{REVEAL}:{case_id}"


def new_handle() -> str:
    """A random case handle such as `Case K3F9`."""
    return "Case " + "".join(secrets.choice(_HANDLE_ALPHABET) for _ in range(4))


def refusal_for(session: Session, privacy: Privacy, *, user_id: str) -> str | None:
    """Why this person may not send an anonymous request now, or None (read-only)."""
    marker = privacy.marker(user_id)
    if paused(session, marker=marker):
        # Any pause (a case's, or one admins see) stops requests of both kinds
        # (bot.rules.misuse says the same by name).
        return (
            "Your requests are paused for now, so I can't send this one. This happens after a "
            "review; if you think it is a mistake, or you need support, please talk to the "
            "programme's organisers. They will be glad to hear from you."
        )
    open_cases = session.exec(
        select(func.count())
        .select_from(AnonymousCase)
        .where(AnonymousCase.requester_marker == marker, col(AnonymousCase.status) != CLOSED)
    ).one()
    if open_cases >= MAX_OPEN_CASES:
        return (
            f"You already have {MAX_OPEN_CASES} anonymous requests open. Please wait until a "
            "volunteer has closed one before asking again."
        )
    return None


def open_case(
    session: Session, privacy: Privacy, *, user_id: str, draft: Draft, identity: Identity
) -> AnonymousCase:
    """Record a new case from a confirmed draft, redacted again here (never trust a preview)."""
    shown = redact_draft(draft, identity)
    for _ in range(20):
        case = AnonymousCase(
            handle=new_handle(),
            category=shown.category,
            details=shown.details,
            timing=shown.timing,
            requester_sealed=privacy.seal(user_id),
            requester_marker=privacy.marker(user_id),
        )
        try:
            with session.begin_nested():
                session.add(case)
        except IntegrityError:  # the handle exists already: draw another
            continue
        # In the same unit of work: the card reaches the volunteers even if its first post fails.
        case_id = id_of(case)
        jobs.schedule(
            session,
            kind=CARD,
            key=card_key(case_id),
            due_at=utcnow() + CARD_GRACE,
            payload=CaseItem(case_id=case_id),
        )
        return case
    raise Conflict("We could not file your request just now. Please try again.")


def get_case(session: Session, *, case_id: int, lock: bool = False) -> AnonymousCase:
    """One case, or NotFound."""
    statement = select(AnonymousCase).where(AnonymousCase.id == case_id)
    if lock:
        statement = statement.with_for_update()
    case = session.exec(statement).first()
    if case is None:
        raise NotFound("That case no longer exists.")
    return case


def record_card(session: Session, *, case_id: int, channel: str, ts: str) -> None:
    """Remember where the case's card is in the volunteers channel (its due post is cancelled)."""
    case = get_case(session, case_id=case_id)
    case.card_channel, case.card_ts = channel, ts
    session.add(case)
    jobs.cancel(session, key=card_key(case_id))


def take_case(
    session: Session, *, case_id: int, volunteer_id: str, privacy: Privacy | None = None
) -> AnonymousCase:
    """A volunteer takes an open case: exactly one wins, whatever the clicks.

    With `privacy` (the app always passes it), the case's own requester is refused: a
    volunteer who asked anonymously cannot broker, and earn points on, their own case. The
    refusal goes to them alone, so it tells nobody else anything. Replies kept while the case
    waited get their due delivery to the new holder in the same unit of work.
    """
    if privacy is not None and is_requester(
        privacy, get_case(session, case_id=case_id), volunteer_id
    ):
        raise NotAllowed(
            "You cannot take this case: it is one you asked yourself. Another volunteer will."
        )
    result = session.execute(
        update(AnonymousCase)
        .where(
            col(AnonymousCase.id) == case_id,
            col(AnonymousCase.volunteer_id).is_(None),
            col(AnonymousCase.status) == OPEN,
        )
        .values(volunteer_id=volunteer_id, status=TAKEN, taken_at=utcnow())
    )
    case = get_case(session, case_id=case_id)
    session.refresh(case)
    if rowcount(result) == 1:
        if pending_relays(session, case_id=case_id):
            # One item per take (the key must be new each time; only the winner gets here).
            jobs.schedule(
                session,
                kind=RELAY,
                key=f"{RELAY}:case:{case_id}:{secrets.token_hex(6)}",
                due_at=utcnow() + RELAY_GRACE,
                payload=RelayItem(case_id=case_id),
            )
        return case
    if case.volunteer_id == volunteer_id:
        raise Conflict(f"You have already taken {case.handle}.")
    if case.volunteer_id:
        raise Conflict(f"<@{case.volunteer_id}> has already taken {case.handle}.")
    raise Conflict(f"{case.handle} is closed.")


def holder_case(session: Session, *, case_id: int, volunteer_id: str) -> AnonymousCase:
    """The case, if this volunteer holds it and it is not closed; else a refusal."""
    case = get_case(session, case_id=case_id)
    if case.volunteer_id != volunteer_id:
        raise NotAllowed(f"Only the volunteer who took {case.handle} can do this.")
    if case.status == CLOSED:
        raise Conflict(f"{case.handle} is closed.")
    return case


def attach_ask(session: Session, *, case_id: int, request_id: int) -> bool:
    """Link the case to its ask in the allies channel, once."""
    result = session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.id) == case_id, col(AnonymousCase.ask_request_id).is_(None))
        .values(ask_request_id=request_id)
    )
    return rowcount(result) == 1


def new_ask(session: Session, case: AnonymousCase, *, chooser_id: str) -> int:
    """Create the case's ask (on behalf of its handle) and link it to the case, once."""
    case_id = case.id
    assert case_id is not None
    request = request_rules.create_request(
        session,
        kind=request_rules.ANONYMOUS,
        category=case.category,
        details=case.details or "",
        timing=case.timing,
        requester_id=None,
        chooser_id=chooser_id,
        on_behalf_of=case.handle,
        submission_key=f"case:{case_id}",
    )
    assert request.id is not None
    if not attach_ask(session, case_id=case_id, request_id=request.id):
        raise Conflict(f"An ask for {case.handle} is already in the allies channel.")
    return request.id


def mark_ally_found(session: Session, *, case_id: int) -> bool:
    """Record that an ally was chosen for the case; False if already recorded."""
    result = session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.id) == case_id, col(AnonymousCase.ally_found_at).is_(None))
        .values(ally_found_at=utcnow())
    )
    return rowcount(result) == 1


def reveal(session: Session, privacy: Privacy, *, case_id: int, user_id: str) -> AnonymousCase:
    """The requester chooses to reveal themselves to the ally: only they can, once."""
    case = get_case(session, case_id=case_id)
    if not is_requester(privacy, case, user_id):
        raise NotAllowed("Only the person who asked can do this.")
    if case.ally_found_at is None:
        raise Conflict("No ally has been found for this case yet.")
    result = session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.id) == case_id, col(AnonymousCase.revealed_at).is_(None))
        .values(revealed_at=utcnow())
    )
    if rowcount(result) != 1:
        raise Conflict("You have already been introduced to your ally.")
    # Recorded with its due introduction: sent after the commit, by whoever comes first.
    jobs.schedule(
        session,
        kind=REVEAL,
        key=reveal_key(case_id),
        due_at=utcnow() + RELAY_GRACE,
        payload=Reveal(case_id=case_id),
    )
    session.refresh(case)
    return case


def close_case(
    session: Session,
    *,
    case_id: int,
    volunteer_id: str,
    outcome: str,
    pause: bool,
    retention_days: int,
) -> AnonymousCase:
    """The holding volunteer closes the case; the purge is scheduled; misuse may pause."""
    if outcome not in OUTCOMES:
        raise NotAllowed("Choose how the case ended.")
    case = holder_case(session, case_id=case_id, volunteer_id=volunteer_id)
    now = utcnow()
    result = session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.id) == case_id, col(AnonymousCase.status) != CLOSED)
        .values(status=CLOSED, outcome=outcome, closed_at=now)
    )
    if rowcount(result) != 1:
        raise Conflict(f"{case.handle} is already closed.")
    session.refresh(case)
    if pause and outcome == MISUSE and case.requester_marker:
        pause_requester(session, marker=case.requester_marker, case_id=case_id, by=volunteer_id)
    if outcome == HELPED:
        ledger.award_case(session, case_id=case_id, volunteer_id=volunteer_id, now=now)
    jobs.schedule(
        session,
        kind=PURGE,
        key=purge_key(case_id),
        due_at=now + timedelta(days=retention_days),
        payload=CaseItem(case_id=case_id),
    )
    return case


def lock_ask_of(session: Session, *, case_id: int) -> None:
    """Lock the case's ask, if it has one: before the case, as forget-me and the case side do
    (a unit of work that changes both, locking the case first, could deadlock with them)."""
    asks = select(AnonymousCase.ask_request_id).where(col(AnonymousCase.id) == case_id)
    session.exec(
        select(AllyRequest.id).where(col(AllyRequest.id).in_(asks)).with_for_update()
    ).all()
