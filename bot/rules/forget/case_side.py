"""Forget-me and anonymous cases (SPEC 2.3, 6): the cases a person asked lose their words and
link at once, but what Slack shows of them changes only hours later, in a separate step
(close_cases_later), so that it cannot be put side by side with the person's named cards;
the open cases they held as a volunteer go back to the channel.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.privacy import Privacy
from bot.rules import requests as rules
from bot.rules.anonymous import cases, relays
from bot.rules.forget.followups import CLOSED_LATER, CaseFollowups, Forgotten
from storage import requests as store
from storage.models.anonymous import AnonymousCase, CaseDraft
from storage.models.programme import FORGOTTEN
from storage.models.requests import AllyRequest
from storage.types import utcnow


def forget_cases_asked(session: Session, marker: str, done: Forgotten) -> None:
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


def close_cases_later(session: Session, *, key: str, case_ids: list[int]) -> CaseFollowups:
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
        return CaseFollowups()
    payload = dict(item.payload or {})
    if CLOSED_LATER in (item.sent or {}):
        return CaseFollowups.model_validate(payload)
    # Closed as withdrawn only by forget-me, and these by this step (their volunteer could
    # close them meanwhile, with an outcome of their own: then there is nothing to tell).
    withdrawn = [c for c in found if c.outcome == cases.WITHDRAWN]
    volunteers = {
        (c.volunteer_id, c.handle) for c in withdrawn if c.volunteer_id not in (None, FORGOTTEN)
    }
    allies = {
        o.ally_user_id
        for c in withdrawn
        if c.ask_request_id is not None and withdrawn_request(session, c.ask_request_id)
        for o in store.active_offers(session, request_id=c.ask_request_id)
        if o.ally_user_id != FORGOTTEN
    }
    told = {(str(v), str(h)) for v, h in payload.get("volunteers_told", [])}
    payload["volunteers_told"] = [list(pair) for pair in sorted(told | volunteers)]
    payload["case_allies_told"] = sorted({*payload.get("case_allies_told", []), *allies})
    item.payload = payload
    session.add(item)
    jobs.record_sent(session, key=key, name=CLOSED_LATER, value=True)
    return CaseFollowups.model_validate(payload)


def withdrawn_request(session: Session, request_id: int) -> bool:
    """Whether the request was withdrawn."""
    request = session.get(AllyRequest, request_id)
    return request is not None and request.status == rules.WITHDRAWN


def forget_cases_held(session: Session, privacy: Privacy, user_id: str, done: Forgotten) -> None:
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
