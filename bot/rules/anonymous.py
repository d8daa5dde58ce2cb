"""Anonymous cases brokered by volunteers (SPEC 2.3): the rules, over a database session.

No Slack client and no templates here. Every race (two volunteers taking a case, a double
submission, a retried close) is settled by the database with a conditional UPDATE or a
DELETE whose rowcount says who won. The requester appears only as sealed tokens and a keyed
marker (see bot.privacy); the plain Slack ID is passed in by the handler and never stored.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.privacy import Identity, Privacy, redact
from bot.rules import points
from bot.rules import requests as request_rules
from bot.rules.errors import Conflict, NotAllowed, NotFound
from storage import requests as request_store
from storage.models.anonymous import AnonymousCase, CaseDraft, CasePause, CaseRelay
from storage.models.feedback import Feedback
from storage.models.programme import FORGOTTEN
from storage.models.requests import AllyRequest, Match, Offer
from storage.types import utcnow

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
DRAFT_MAX_AGE = timedelta(days=1)
PURGE = "purge_case"
CARD = "post_case_card"
# The sweep posts a case's card if the attempt right after the confirmation did not.
CARD_GRACE = timedelta(minutes=1)
# A requester's reply (or its edit or deletion) reaching the volunteer's copy; the sweep
# syncs it if the attempt right after the event did not.
RELAY = "case_relay"
RELAY_GRACE = timedelta(minutes=1)
# Relayed copies blanked, then their records deleted: every copy of a case after its purge
# (payload case_id), or the copies sent to a forgotten volunteer (payload relay_ids).
RELAYS_PURGE = "case_relays_purge"
# A case released because its holder left the volunteers channel: card, channel, requester.
RELEASED = "case_released"
# The requester's introduction to the ally, once they chose to reveal themselves.
REVEAL = "case_reveal"
# A draft nobody confirmed, edited or cancelled is deleted once it is a day old.
DRAFT_EXPIRY = "case_draft_expiry"
_HANDLE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


@dataclass(frozen=True)
class Draft:
    """An anonymous request between the modal and its confirmation (the raw text)."""

    category: str
    details: str
    timing: str | None


@dataclass(frozen=True)
class Reply:
    """A requester's reply as written (redacted only as it is sent), and whether it had files."""

    text: str
    files: bool = False


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def _id(case: AnonymousCase) -> int:
    assert case.id is not None
    return case.id


def purge_key(case_id: int) -> str:
    """The scheduled-work key of a case's purge."""
    return f"{PURGE}:{case_id}"


def card_key(case_id: int) -> str:
    """The scheduled-work key of a case's card post (the safety net of the first attempt)."""
    return f"case_card:{case_id}"


def relay_key(relay_id: int, version: int) -> str:
    """The scheduled-work key of one version of a reply's copy (the safety net of its sync)."""
    return f"{RELAY}:{relay_id}:{version}"


def reveal_key(case_id: int) -> str:
    """The scheduled-work key of a case's introduction of the requester to the ally."""
    return f"{REVEAL}:{case_id}"


def draft_key(token: str) -> str:
    """The scheduled-work key of a draft's expiry."""
    return f"{DRAFT_EXPIRY}:{token}"


def new_handle() -> str:
    """A random case handle such as `Case K3F9`."""
    return "Case " + "".join(secrets.choice(_HANDLE_ALPHABET) for _ in range(4))


def redact_draft(draft: Draft, identity: Identity) -> Draft:
    """The draft as volunteers will see it: everything that may identify the requester removed."""
    timing = redact(draft.timing, identity).strip() if draft.timing else None
    return Draft(
        category=draft.category,
        details=redact(draft.details, identity).strip()[:3000],
        timing=(timing or None) and timing[:200],
    )


# who may ask


def refusal_for(session: Session, privacy: Privacy, *, user_id: str) -> str | None:
    """Why this person may not send an anonymous request now, or None (read-only)."""
    marker = privacy.marker(user_id)
    if session.get(CasePause, marker) is not None:
        # A pause stops requests of both kinds (bot.rules.misuse says the same by name).
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


# drafts


def save_draft(
    session: Session, privacy: Privacy, *, token: str, user_id: str, draft: Draft
) -> None:
    """Keep a draft sealed until it is confirmed, edited or abandoned (or a day old)."""
    payload = json.dumps(
        {"category": draft.category, "details": draft.details, "timing": draft.timing}
    )
    session.add(
        CaseDraft(id=token, owner_marker=privacy.marker(user_id), sealed=privacy.seal(payload))
    )
    # Deleted by the sweep if it is still there in a day (a closed tab sends no view_closed).
    jobs.schedule(
        session,
        kind=DRAFT_EXPIRY,
        key=draft_key(token),
        due_at=utcnow() + DRAFT_MAX_AGE,
        payload={"draft": token},
    )


def expire_draft(session: Session, *, token: str) -> bool:
    """Delete a draft that is still there (its day is up); True if one was deleted."""
    return _rowcount(session.execute(delete(CaseDraft).where(col(CaseDraft.id) == token))) == 1


def _load_draft(privacy: Privacy, row: CaseDraft) -> Draft:
    data = json.loads(privacy.unseal(row.sealed))
    return Draft(category=data["category"], details=data["details"], timing=data.get("timing"))


def peek_draft(session: Session, privacy: Privacy, *, token: str, user_id: str) -> Draft | None:
    """The person's draft, if it still exists and is theirs."""
    row = session.get(CaseDraft, token)
    if row is None or row.owner_marker != privacy.marker(user_id):
        return None
    return _load_draft(privacy, row)


def take_draft(session: Session, privacy: Privacy, *, token: str, user_id: str) -> Draft | None:
    """Claim and delete the person's draft; None if gone (a double submission) or not theirs."""
    row = session.get(CaseDraft, token)
    if row is None or row.owner_marker != privacy.marker(user_id):
        return None
    draft = _load_draft(privacy, row)
    claimed = session.execute(
        delete(CaseDraft).where(
            col(CaseDraft.id) == token, col(CaseDraft.owner_marker) == row.owner_marker
        )
    )
    if _rowcount(claimed) != 1:
        return None
    jobs.cancel(session, key=draft_key(token))
    return draft


# the case


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
    return _rowcount(result) == 1


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
    if _rowcount(result) == 1:
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
    return _rowcount(result) == 1


def mark_ally_found(session: Session, *, case_id: int) -> bool:
    """Record that an ally was chosen for the case; False if already recorded."""
    result = session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.id) == case_id, col(AnonymousCase.ally_found_at).is_(None))
        .values(ally_found_at=utcnow())
    )
    return _rowcount(result) == 1


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
    if _rowcount(result) != 1:
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
    if _rowcount(result) != 1:
        raise Conflict(f"{case.handle} is already closed.")
    session.refresh(case)
    if pause and outcome == MISUSE and case.requester_marker:
        pause_requester(session, marker=case.requester_marker, case_id=case_id, by=volunteer_id)
    if outcome == HELPED:
        points.award_case(session, case_id=case_id, volunteer_id=volunteer_id, now=now)
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


# replies relayed to the volunteer (the requester's message known by a keyed hash only)


def _source_marker(privacy: Privacy, *, case_id: int, ts: str) -> str:
    # Keyed like the requester marker, and scoped: a message ts alone would point into a DM.
    return privacy.marker(f"case-relay:{case_id}:{ts}")


def _seal_reply(privacy: Privacy, reply: Reply) -> str:
    return privacy.seal(json.dumps({"text": reply.text, "files": reply.files}))


def pending_reply(privacy: Privacy, relay: CaseRelay) -> Reply | None:
    """The words the relay's copy must show next, or None if it shows them already."""
    if relay.pending_sealed is None:
        return None
    data = json.loads(privacy.unseal(relay.pending_sealed))
    return Reply(text=str(data["text"]), files=bool(data.get("files")))


def _schedule_sync(session: Session, relay: CaseRelay) -> None:
    relay_id = relay.id
    assert relay_id is not None
    jobs.schedule(
        session,
        kind=RELAY,
        key=relay_key(relay_id, relay.version),
        due_at=utcnow() + RELAY_GRACE,
        payload={"relay_id": relay_id},
    )


def record_reply(
    session: Session, privacy: Privacy, *, case_id: int, ts: str, reply: Reply
) -> int | None:
    """Keep a new reply (sealed) until its copy is sent, with the sync's due safety net.

    None if this message was already kept (the same message delivered twice).
    """
    relay = CaseRelay(
        case_id=case_id,
        source_marker=_source_marker(privacy, case_id=case_id, ts=ts),
        pending_sealed=_seal_reply(privacy, reply),
    )
    try:
        with session.begin_nested():
            session.add(relay)
    except IntegrityError:
        return None
    _schedule_sync(session, relay)
    return relay.id


def change_reply(
    session: Session, privacy: Privacy, *, case_id: int, ts: str, reply: Reply | None
) -> int | None:
    """The requester edited (`reply`) or deleted (None) a kept reply: its copy must follow.

    Returns the relay to sync, or None if the message was never relayed.
    """
    marker = _source_marker(privacy, case_id=case_id, ts=ts)
    relay = session.exec(
        select(CaseRelay).where(CaseRelay.source_marker == marker).with_for_update()
    ).first()
    if relay is None or relay.withdrawn:
        return None
    if reply is None:
        relay.withdrawn = True
        relay.pending_sealed = None
    else:
        relay.pending_sealed = _seal_reply(privacy, reply)
    relay.version += 1
    session.add(relay)
    session.flush()
    _schedule_sync(session, relay)
    return relay.id


def get_relay(session: Session, *, relay_id: int, lock: bool = False) -> CaseRelay | None:
    """One relay record; with lock=True it is locked until the unit of work ends."""
    statement = select(CaseRelay).where(CaseRelay.id == relay_id)
    if lock:
        statement = statement.with_for_update()
    relay = session.exec(statement).first()
    if relay is not None:
        session.refresh(relay)
    return relay


def _holder_marker(privacy: Privacy, volunteer_id: str) -> str:
    # Scoped, unlike the requester marker: the same marker in both would tie a volunteer,
    # named on the cases they hold, to the cases they asked.
    return privacy.marker(f"case-copy-holder:{volunteer_id}")


def holds_copy(privacy: Privacy, relay: CaseRelay, volunteer_id: str | None) -> bool:
    """Whether the relay's copy was sent to this volunteer (compared by keyed marker)."""
    return (
        volunteer_id is not None
        and relay.holder_marker is not None
        and secrets.compare_digest(relay.holder_marker, _holder_marker(privacy, volunteer_id))
    )


def record_copy(
    session: Session, privacy: Privacy, *, relay_id: int, channel: str, ts: str, holder: str
) -> None:
    """The copy now shows the relay's words in `holder`'s DM: remember where and whose it is
    (their marker, never their ID); the sealed words go."""
    relay = get_relay(session, relay_id=relay_id)
    if relay is None:
        return
    relay.copy_channel, relay.copy_ts = channel, ts
    relay.holder_marker = _holder_marker(privacy, holder)
    relay.pending_sealed = None
    session.add(relay)
    jobs.cancel(session, key=relay_key(relay_id, relay.version))


def forget_copy(session: Session, *, relay_id: int) -> None:
    """The relay's copy was blanked (its holder no longer holds the case): where it was goes;
    the words still to show stay, for the case's holder."""
    relay = get_relay(session, relay_id=relay_id)
    if relay is None:
        return
    relay.copy_channel = relay.copy_ts = relay.holder_marker = None
    session.add(relay)


def drop_relay(session: Session, *, relay_id: int) -> None:
    """Delete a relay record (its copy was blanked, or never sent); its due sync goes too."""
    relay = get_relay(session, relay_id=relay_id)
    if relay is None:
        return
    jobs.cancel(session, key=relay_key(relay_id, relay.version))
    session.delete(relay)


def pending_relays(session: Session, *, case_id: int) -> list[int]:
    """The case's replies still waiting for a copy (or for their copy to change), oldest first."""
    return [
        r.id
        for r in session.exec(
            select(CaseRelay)
            .where(
                CaseRelay.case_id == case_id,
                or_(col(CaseRelay.pending_sealed).is_not(None), col(CaseRelay.withdrawn)),
            )
            .order_by(col(CaseRelay.id))
        ).all()
        if r.id is not None
    ]


def relays_of(session: Session, *, case_id: int) -> list[int]:
    """Every relay record of the case, oldest first."""
    return [
        r.id
        for r in session.exec(
            select(CaseRelay).where(CaseRelay.case_id == case_id).order_by(col(CaseRelay.id))
        ).all()
        if r.id is not None
    ]


def blank_copies_of(
    session: Session, privacy: Privacy, *, volunteer_id: str, held: list[int]
) -> None:
    """Every copy sent to a volunteer who is forgotten, on any case, is blanked (and its
    record deleted) by a due item; other volunteers' copies stay. Their marker goes at once.

    `held` are the cases they held: copies recorded before copies knew their holder count
    as theirs there. Replies still waiting for a copy stay, for the case's next holder.
    """
    theirs = select(CaseRelay).where(
        col(CaseRelay.copy_ts).is_not(None),
        or_(
            col(CaseRelay.holder_marker) == _holder_marker(privacy, volunteer_id),
            and_(col(CaseRelay.holder_marker).is_(None), col(CaseRelay.case_id).in_(held)),
        ),
    )
    relays = list(session.exec(theirs.order_by(col(CaseRelay.id)).with_for_update()).all())
    for relay in relays:
        relay.holder_marker = FORGOTTEN  # no one's: an edit meanwhile blanks it too
        session.add(relay)
    if relays:
        jobs.schedule(
            session,
            kind=RELAYS_PURGE,
            key=f"{RELAYS_PURGE}:copies:{secrets.token_hex(6)}",
            due_at=utcnow(),
            payload={"relay_ids": [r.id for r in relays]},
        )


def purge_relays(session: Session, *, case_id: int) -> bool:
    """The case's replies lose their words now; those never copied go. True if copies remain."""
    session.execute(
        update(CaseRelay).where(col(CaseRelay.case_id) == case_id).values(pending_sealed=None)
    )
    session.execute(
        delete(CaseRelay).where(col(CaseRelay.case_id) == case_id, col(CaseRelay.copy_ts).is_(None))
    )
    return bool(relays_of(session, case_id=case_id))


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
