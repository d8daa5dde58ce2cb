"""What must happen once after a match (the introduction, the others thanked, the case
told) or a withdrawal, retried by the due-item sweep until each step is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from slack_sdk import WebClient
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.rules import requests as rules
from bot.rules.errors import UserFacingError
from handlers.anonymous import cases as case_flow
from handlers.anonymous import surface as case_surface
from handlers.common.deps import Deps
from handlers.requests.surface import (
    confirm_once,
    escalation_blocks,
    in_words,
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


def on_card_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of a named request's card: post it if still missing, then confirm."""
    request_id = _request_of(item)
    post_card(client, deps, request_id)
    confirm_once(client, deps, request_id)


def run_match_followups(client: WebClient, d: Deps, *, match_id: int) -> bool:
    """Everything a match sets off, each step once, whoever runs it (the click or the due item).

    Steps are independent: one failing does not hold up the others, and each is made once
    (bot.jobs.once) with no transaction open across Slack. If a step failed, FollowupsPending
    is raised and the `match_followups` item retries later; False when a step is being made
    by another runner just now or cannot be final yet (the item finishes it).
    """
    with d.db.read() as session:
        match = store.get_match(session, match_id=match_id)
        if match is None:
            return True
        request_id = match.request_id
        request = store.get_request(session, request_id=request_id)
        case_ask = request is not None and bool(request.on_behalf_of)
        others = [
            (offer.id, offer.ally_user_id)
            for offer in rules.offering_allies(session, request_id=request_id)
            if offer.ally_user_id != match.ally_user_id
        ]

    def offers() -> None:
        refresh_offers(client, d, request_id)
        if not _introduction_settled(d, match_id):
            raise once.NotYet("the offers DM shows an introduction still to come")

    steps = [
        *introduction_steps(client, d, match_id=match_id),
        Step("card", lambda: refresh_card(client, d, request_id)),
        Step("offers", offers),
        *(
            Step(f"thanks:{offer_id}", partial(tell, client, ally, _THANKS))
            for offer_id, ally in others
        ),
    ]
    if case_ask:
        steps.append(Step("case", lambda: case_flow.after_case_match(client, d, match_id=match_id)))
    try:
        return once.run_steps(d.db, key=rules.followups_key(match_id), steps=steps, what="match")
    except once.StepsPending as pending:
        raise FollowupsPending(
            "Your choice is recorded. I could not finish introducing you and telling the others "
            "just now; I will keep trying, and it will arrive shortly. No need to click again."
        ) from pending


_THANKS = (
    "Thank you for offering to help! The person who asked chose another ally this time. "
    "Your willingness matters: keep an eye on the allies channel."
)


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


def on_match_followups_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of a choice: finish whatever follow-up the click could not."""
    match_id = item.read(rules.MatchItem).match_id or int(item.key.rpartition(":")[2])
    if not run_match_followups(client, deps, match_id=match_id):
        raise once.StepsPending("match follow-ups are not all done")


def introduction_steps(client: WebClient, d: Deps, *, match_id: int) -> list[Step]:
    """Open a group conversation of chooser and ally and post the introduction, once (none
    if they were introduced, or one of the pair asked to be forgotten before)."""
    with d.db.read() as session:
        match = store.get_match(session, match_id=match_id)
        if match is None or match.conversation_id:
            return []
        request = store.get_request(session, request_id=match.request_id)
        assert request is not None
        if FORGOTTEN in (request.chooser_id, match.ally_user_id):
            return []
        users = f"{request.chooser_id},{match.ally_user_id}"
        blocks = render_blocks(
            "requests/intro.json.j2",
            r=request_view(d, request),
            chooser=request.chooser_id,
            ally=match.ally_user_id,
            tips=d.content.tips,
            feedback_in=in_words(d.settings.feedback_after),
        )

    def introduce() -> dict[str, str]:
        channel = client.conversations_open(users=users)["channel"]["id"]
        posted = client.chat_postMessage(
            channel=channel, text="Let me introduce you to each other.", blocks=blocks
        )
        return {"channel": str(channel), "ts": str(posted.get("ts") or "")}

    def record(session: Session, at: dict[str, str]) -> None:
        store.record_introduction(session, match_id=match_id, channel=at["channel"], ts=at["ts"])

    return [Step("introduction", introduce, record=record)]


WITHDRAWAL = "withdrawal"


_WITHDRAWN_FOR_ALLY = (
    "The request you offered to help with was withdrawn by the person who asked. Thank you!"
)


def withdrawal_steps(client: WebClient, d: Deps, payload: rules.Withdrawal) -> list[Step]:
    """The cards redrawn (the case's, which may ask the allies again; the request's; its
    offers DM), then each offering ally told, once."""
    request_id = payload.request_id
    steps = []
    if payload.case_id is not None:
        case_id = payload.case_id
        steps.append(Step("case", lambda: case_surface.refresh_card(client, d, case_id)))
    steps += [
        Step("card", lambda: refresh_card(client, d, request_id)),
        Step("offers", lambda: refresh_offers(client, d, request_id)),
    ]
    for index, ally in enumerate(payload.offering):
        if ally != FORGOTTEN:
            tell_ally = partial(tell, client, ally, _WITHDRAWN_FOR_ALLY)
            steps.append(Step(f"ally:{index}", tell_ally))
    return steps


def on_withdrawal_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of a withdrawal: the messages the listener could not update or send."""
    steps = withdrawal_steps(client, deps, item.read(rules.Withdrawal))
    once.run_due_steps(deps.db, key=str(item.key), steps=steps, what=WITHDRAWAL)


def _request_of(item: jobs.DueWork) -> int:
    """The request an ESCALATE or CARD item names: its payload's, or its key's if emptied."""
    return item.read(rules.RequestItem).request_id or int(item.key.rpartition(":")[2])


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


def on_escalation_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """A named request still open with no offer is shown to the volunteers, once."""
    request_id = _request_of(item)
    with deps.db.read() as session:
        request = rules.needs_escalation(session, request_id=request_id)
        if request is None or request.kind != rules.NAMED or request.on_behalf_of:
            return
        blocks = escalation_blocks(deps, request)

    def post() -> str:
        answer = client.chat_postMessage(
            channel=deps.settings.volunteers_channel,
            text="A request for an ally has had no offer yet.",
            blocks=blocks,
        )
        return str(answer["ts"])

    def record(session: Session, ts: str) -> None:
        store.record_escalation(session, request_id=request_id, ts=ts)

    if not once.send_once(deps.db, f"request:{request_id}/escalation", post, record=record).settled:
        raise once.StepsPending("the escalation is being posted elsewhere")
