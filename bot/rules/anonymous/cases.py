"""A case's life (SPEC 2.3): opened from a confirmed draft, taken by one volunteer, an ask for
an ally, the reveal, closed and purged. Every race is settled by the database with a
conditional UPDATE or a DELETE whose rowcount says who won; the requester appears only as
sealed tokens and a keyed marker, never as a plain Slack ID.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.privacy import Identity, Privacy
from bot.rules import requests as request_rules
from bot.rules.anonymous.drafts import Draft, redact_draft
from bot.rules.anonymous.relays import (
    RELAY,
    RELAY_GRACE,
    RELAYS_PURGE,
    pending_relays,
    purge_relays,
)
from bot.rules.errors import Conflict, NotAllowed, NotFound
from bot.rules.points import ledger
from storage import requests as request_store
from storage.models.anonymous import AnonymousCase, CasePause
from storage.models.feedback import Feedback
from storage.models.requests import AllyRequest, Match, Offer
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


PURGE = "purge_case"


CARD = "post_case_card"


# The sweep posts a case's card if the attempt right after the confirmation did not.
CARD_GRACE = timedelta(minutes=1)


# A case released because its holder left the volunteers channel: card, channel, requester.
RELEASED = "case_released"


# The requester's introduction to the ally, once they chose to reveal themselves.
REVEAL = "case_reveal"


_HANDLE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def _id(case: AnonymousCase) -> int:
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
        case_id = _id(case)
        jobs.schedule(
            session,
            kind=CARD,
            key=card_key(case_id),
            due_at=utcnow() + CARD_GRACE,
            payload={"case_id": case_id},
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


def record_thread(
    session: Session, privacy: Privacy, *, case_id: int, dm_channel: str, thread_ts: str
) -> bool:
    """Remember the requester's DM thread for the case (sealed channel); False if already set."""
    result = session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.id) == case_id, col(AnonymousCase.thread_ts).is_(None))
        .values(dm_sealed=privacy.seal(dm_channel), thread_ts=thread_ts)
    )
    return rowcount(result) == 1


def requester_of(privacy: Privacy, case: AnonymousCase) -> str:
    """The requester's Slack ID, unsealed only to send them a message."""
    if case.requester_sealed is None:
        raise NotFound("This case's link to the person who asked was deleted.")
    return privacy.unseal(case.requester_sealed)


def dm_of(privacy: Privacy, case: AnonymousCase) -> str | None:
    """The requester's DM channel for the case's thread, if it was opened."""
    return privacy.unseal(case.dm_sealed) if case.dm_sealed else None


def is_requester(privacy: Privacy, case: AnonymousCase, user_id: str) -> bool:
    """Whether this person is the case's requester (compared by keyed marker)."""
    return case.requester_marker is not None and secrets.compare_digest(
        case.requester_marker, privacy.marker(user_id)
    )


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
                payload={"case_id": case_id},
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
        payload={"case_id": case_id},
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
        payload={"case_id": case_id},
    )
    return case


def pause_requester(session: Session, *, marker: str, case_id: int, by: str) -> None:
    """Stop this requester's new anonymous requests (known by marker only); idempotent."""
    if session.get(CasePause, marker) is None:
        try:
            with session.begin_nested():
                session.add(CasePause(requester_marker=marker, case_id=case_id, paused_by=by))
        except IntegrityError:
            pass  # paused by a concurrent close: the same outcome


def unlink_requester(session: Session, case: AnonymousCase) -> None:
    """Cut the case from its requester: sealed link, marker, DM and thread go, and so do
    the comments on its match (free text that may describe them; the answers stay)."""
    case.requester_sealed = None
    case.requester_marker = None
    case.dm_sealed = None
    case.thread_ts = None
    session.add(case)
    if case.ask_request_id is not None:
        session.execute(
            update(Feedback)
            .where(
                col(Feedback.match_id).in_(
                    select(Match.id).where(col(Match.request_id) == case.ask_request_id)
                )
            )
            .values(comment=None)
        )


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
            payload={"case_id": case_id},
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


def case_in_thread(
    session: Session, privacy: Privacy, *, user_id: str, channel: str, thread_ts: str
) -> AnonymousCase | None:
    """The person's case whose DM thread this is, if any."""
    for case in session.exec(
        select(AnonymousCase).where(AnonymousCase.thread_ts == thread_ts)
    ).all():
        if is_requester(privacy, case, user_id) and dm_of(privacy, case) == channel:
            return case
    return None


def cases_of(session: Session, privacy: Privacy, *, user_id: str) -> list[AnonymousCase]:
    """The person's cases that still have their link (newest first)."""
    return list(
        session.exec(
            select(AnonymousCase)
            .where(AnonymousCase.requester_marker == privacy.marker(user_id))
            .order_by(col(AnonymousCase.id).desc())
        ).all()
    )


def closed_before(session: Session, *, when: datetime) -> list[int]:
    """Closed, unpurged cases closed before `when` (a safety net for missed purges)."""
    return [
        _id(c)
        for c in session.exec(
            select(AnonymousCase).where(
                AnonymousCase.status == CLOSED,
                col(AnonymousCase.purged_at).is_(None),
                col(AnonymousCase.closed_at) < when,
            )
        ).all()
    ]


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


def lock_ask_of(session: Session, *, case_id: int) -> None:
    """Lock the case's ask, if it has one: before the case, as forget-me and the case side do
    (a unit of work that changes both, locking the case first, could deadlock with them)."""
    asks = select(AnonymousCase.ask_request_id).where(col(AnonymousCase.id) == case_id)
    session.exec(
        select(AllyRequest.id).where(col(AllyRequest.id).in_(asks)).with_for_update()
    ).all()


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
        payload={"case_id": case_id, "ask_id": withdrawn},
    )
    return key
