"""What must happen once after a match (the introduction, the others thanked, the case
told) or a withdrawal, retried by the due-item sweep until each step is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.jobs import queue as jobs
from bot.rules import requests as rules
from bot.rules.errors import UserFacingError
from handlers.anonymous import cases as case_flow
from handlers.anonymous import surface as case_surface
from handlers.common.deps import Deps
from handlers.common.followups import Step, run_steps
from handlers.requests.surface import (
    confirm_once,
    escalation_blocks,
    in_words,
    notice_blocks,
    post_card,
    refresh_card,
    refresh_offers,
    request_view,
    tell,
)
from messages.render import render_blocks
from storage import requests as store
from storage.models.programme import FORGOTTEN

logger = logging.getLogger(__name__)


class FollowupsPending(UserFacingError):
    """The match is recorded but a follow-up failed; the scheduled item finishes it."""


class CardPending(UserFacingError):
    """The request is recorded but its card could not be posted; the scheduled item posts it."""


class WithdrawalPending(UserFacingError):
    """The withdrawal is recorded but a message about it could not be updated or sent."""


def on_card_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of a named request's card: post it if still missing, then confirm."""
    request_id = int((item.payload or {}).get("request_id") or str(item.key).rpartition(":")[2])
    post_card(client, deps, request_id)
    confirm_once(client, deps, request_id)


def run_match_followups(client: WebClient, d: Deps, *, match_id: int) -> None:
    """Everything a match sets off, each step once, whoever runs it (the click or the due item).

    Steps are independent: one failing does not hold up the others. Each records what it did
    (the conversation id, the card and offers updates, each ally thanked, the case told) under
    the match's row lock, so the click and the due item can never double a message. If a step
    failed, FollowupsPending is raised and the `match_followups` item retries later.
    """
    with d.db.read() as session:
        match = store.get_match(session, match_id=match_id)
        if match is None:
            return
        request_id = match.request_id
        request = store.get_request(session, request_id=request_id)
        case_ask = request is not None and bool(request.on_behalf_of)
    key = rules.followups_key(match_id)
    steps: list[tuple[str, Any]] = [
        ("introduction", lambda: introduce(client, d, match_id=match_id)),
        ("card", lambda: _once(d, match_id, "card", lambda: refresh_card(client, d, request_id))),
        (
            "offers",
            lambda: _once(
                d,
                match_id,
                "offers",
                lambda: refresh_offers(client, d, request_id),
                final=lambda: _introduction_settled(d, match_id),
            ),
        ),
        ("thanks", lambda: _thank_others(client, d, match_id=match_id)),
    ]
    if case_ask:
        steps.append(("case", lambda: case_flow.after_case_match(client, d, match_id=match_id)))
    failed: list[Exception] = []
    for name, step in steps:
        try:
            step()
        except Exception as error:  # the other steps still run; the due item retries this one
            logger.warning(
                "match %s: follow-up %s failed (%s); it will be retried",
                match_id,
                name,
                type(error).__name__,
            )
            failed.append(error)
    if failed:
        raise FollowupsPending(
            "Your choice is recorded. I could not finish introducing you and telling the others "
            "just now; I will keep trying, and it will arrive shortly. No need to click again."
        ) from failed[0]
    with d.db.session() as session:
        jobs.cancel(session, key=key)  # all done: the safety net has nothing left to do


def _done(session: Session, match_id: int, name: str) -> bool:
    """Whether a follow-up step was recorded as done (call with the match row locked)."""
    item = jobs.find(session, key=rules.followups_key(match_id))
    return item is not None and name in (item.sent or {})


def _record(session: Session, match_id: int, name: str, value: Any) -> None:
    jobs.record_sent(session, key=rules.followups_key(match_id), name=name, value=value)


def _once(
    d: Deps, match_id: int, name: str, step: Any, final: Callable[[], bool] | None = None
) -> None:
    """Run an idempotent update step unless recorded as done, then record it.

    With `final`, the step is recorded only once what it showed can no longer change (it runs
    again on the next try otherwise).
    """
    with d.db.read() as session:
        if _done(session, match_id, name):
            return
    step()
    if final is not None and not final():
        return
    with d.db.session() as session:
        # The match row lock serialises every write to the item's record of what was sent.
        store.get_match(session, match_id=match_id, lock=True)
        _record(session, match_id, name, True)


def _introduction_settled(d: Deps, match_id: int) -> bool:
    """Whether the pair was introduced, or never will be (one of them was forgotten).

    Until then the offers DM says the conversation is still to come, and is redrawn later.
    """
    with d.db.read() as session:
        match = store.get_match(session, match_id=match_id)
        if match is None or match.conversation_id:
            return True
        request = store.get_request(session, request_id=match.request_id)
        return request is None or FORGOTTEN in (request.chooser_id, match.ally_user_id)


def on_match_followups_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of a choice: finish whatever follow-up the click could not."""
    match_id = int((item.payload or {}).get("match_id") or str(item.key).rpartition(":")[2])
    run_match_followups(client, deps, match_id=match_id)


def introduce(client: WebClient, d: Deps, *, match_id: int) -> None:
    """Open a group conversation of chooser and ally and post the introduction, once."""
    with d.db.session() as session:
        # Locked: the click and the due item never open and introduce twice.
        match = store.get_match(session, match_id=match_id, lock=True)
        if match is None or match.conversation_id:
            return
        request = store.get_request(session, request_id=match.request_id)
        assert request is not None
        if FORGOTTEN in (request.chooser_id, match.ally_user_id):
            return  # one of the pair asked to be forgotten before the introduction
        opened = client.conversations_open(users=f"{request.chooser_id},{match.ally_user_id}")
        channel = opened["channel"]["id"]
        posted = client.chat_postMessage(
            channel=channel,
            text="Let me introduce you to each other.",
            blocks=render_blocks(
                "requests/intro.json.j2",
                r=request_view(d, request),
                chooser=request.chooser_id,
                ally=match.ally_user_id,
                tips=d.content.tips,
                feedback_in=in_words(d.settings.feedback_after),
            ),
        )
        match.conversation_id = channel
        match.intro_ts = posted.get("ts")
        session.add(match)


def _thank_others(client: WebClient, d: Deps, *, match_id: int) -> None:
    """Thank each other offering ally once (each thanks recorded as it is sent)."""
    with d.db.read() as session:
        match = store.get_match(session, match_id=match_id)
        assert match is not None
        others = [
            o.ally_user_id
            for o in rules.offering_allies(session, request_id=match.request_id)
            if o.ally_user_id != match.ally_user_id
        ]
    text = (
        "Thank you for offering to help! The person who asked chose another ally this time. "
        "Your willingness matters: keep an eye on the allies channel."
    )
    for user_id in others:
        with d.db.session() as session:
            store.get_match(session, match_id=match_id, lock=True)
            if _done(session, match_id, f"thanked:{user_id}"):
                continue
            answer = client.chat_postMessage(channel=user_id, text=text, blocks=notice_blocks(text))
            _record(session, match_id, f"thanked:{user_id}", str(answer.get("ts") or ""))


WITHDRAWAL = "withdrawal"


_WITHDRAWN_FOR_ALLY = (
    "The request you offered to help with was withdrawn by the person who asked. Thank you!"
)


def withdrawal_steps(client: WebClient, d: Deps, payload: dict[str, Any]) -> list[Step]:
    """The cards redrawn (the case's, which may ask the allies again; the request's; its
    offers DM), then each offering ally told, once."""
    request_id = int(payload["request_id"])
    steps = []
    if payload.get("case_id") is not None:
        case_id = int(payload["case_id"])
        steps.append(Step(lambda: case_surface.refresh_card(client, d, case_id)))
    steps += [
        Step(lambda: refresh_card(client, d, request_id)),
        Step(lambda: refresh_offers(client, d, request_id)),
    ]
    for ally in payload.get("offering", []):
        if ally != FORGOTTEN:
            steps.append(Step(partial(tell, client, str(ally), _WITHDRAWN_FOR_ALLY), alone=True))
    return steps


def on_withdrawal_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of a withdrawal: the messages the listener could not update or send."""
    steps = withdrawal_steps(client, deps, dict(item.payload or {}))
    run_steps(deps, key=str(item.key), steps=steps, what=WITHDRAWAL)


def step_ran(request_id: int, name: str, step: Callable[[], None]) -> bool:
    """Run one step after a withdrawal; False (logged) if it failed."""
    try:
        step()
    except Exception as error:  # the other steps still run
        logger.warning(
            "request %s withdrawn: %s failed (%s)", request_id, name, type(error).__name__
        )
        return False
    return True


def on_escalation_due(deps: Deps, client: WebClient, item: Any) -> None:
    """A named request still open with no offer is shown to the volunteers, once."""
    request_id = int((item.payload or {}).get("request_id") or str(item.key).rpartition(":")[2])
    with deps.db.session() as session:
        request = rules.needs_escalation(session, request_id=request_id)
        if request is None or request.kind != rules.NAMED or request.on_behalf_of:
            return
        answer = client.chat_postMessage(
            channel=deps.settings.volunteers_channel,
            text="A request for an ally has had no offer yet.",
            blocks=escalation_blocks(deps, request),
        )
        request.escalation_ts = answer["ts"]
        session.add(request)
