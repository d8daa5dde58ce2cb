"""A case's life in the volunteers channel: taking it, finding an ally, the reveal, closing
and the purge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.rules.anonymous import cases, relays
from bot.rules.errors import Conflict
from handlers.anonymous.ids import Ids
from handlers.anonymous.inputs import case_in_view
from handlers.anonymous.relay import open_case_modal
from handlers.anonymous.relay_sync import sync_now
from handlers.anonymous.surface import notice_blocks, post_to_requester, refresh_card, retire
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.redraw import redraw_or_gone
from handlers.requests import surface as request_surface
from messages.render import render_blocks
from storage import anonymous as anonymous_store
from storage import requests as request_store
from storage.models.anonymous import AnonymousCase
from storage.models.programme import FORGOTTEN
from storage.models.requests import Match

logger = logging.getLogger(__name__)


def on_take_case_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """A volunteer takes the case: one wins; the others are told who has it."""
    ack()
    user_id = payload.user_id
    case_id = payload.action_int()
    with deps.db.session() as session:
        case = cases.take_case(session, case_id=case_id, volunteer_id=user_id, privacy=deps.privacy)
        handle = case.handle
        waiting = relays.pending_relays(session, case_id=case_id)
    logger.info("case %s taken", case_id)
    refresh_card(client, deps, case_id)
    text = f"A volunteer has taken {handle}. They will write to you in this thread."
    post_to_requester(client, deps, case_id, text=text, blocks=notice_blocks(text))
    # Replies written while nobody held the case reach the new holder (the take scheduled
    # their due delivery too).
    for relay_id in waiting:
        sync_now(client, deps, relay_id)


def on_find_ally_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Post an anonymised ask to the allies channel on behalf of the case; the volunteer chooses."""
    ack()
    user_id = payload.user_id
    case_id = payload.action_int()
    with deps.db.session() as session:
        case = cases.get_case(session, case_id=case_id, lock=True)
        case = cases.holder_case(session, case_id=case_id, volunteer_id=user_id)
        handle = case.handle
        if case.ask_request_id is not None:
            ask = request_store.get_request(session, request_id=case.ask_request_id)
            if ask is None or ask.card_ts:
                raise Conflict(f"An ask for {handle} is already in the allies channel.")
            # The ask exists but its card never reached the allies channel: post it now.
            request_id = case.ask_request_id
        else:
            request_id = cases.new_ask(session, case, chooser_id=user_id)
    if not request_surface.post_card(client, deps, request_id):
        raise Conflict(f"An ask for {handle} is already in the allies channel.")
    refresh_card(client, deps, case_id)
    text = (
        f"An ask for {handle} is in the allies channel. Offers come to you by DM; the ally you "
        "choose is introduced to you, never to the person who asked."
    )
    client.chat_postMessage(channel=user_id, text=text, blocks=notice_blocks(text))


def after_case_match(client: WebClient, deps: Deps, *, match_id: int) -> None:
    """Called by handlers.requests after a volunteer chose an ally for a case's ask: the case
    is marked (committed), then the requester told once (bot.jobs.once)."""
    with deps.db.session() as session:
        match = session.get(Match, match_id)
        case = (
            anonymous_store.case_for_request(session, request_id=match.request_id)
            if match is not None
            else None
        )
        if case is None or case.id is None:
            return
        case_id, handle = case.id, case.handle
        cases.mark_ally_found(session, case_id=case_id)
    post_to_requester(
        client,
        deps,
        case_id,
        text=f"An ally has been found for {handle}.",
        blocks=render_blocks("anonymous/ally_found.json.j2", handle=handle, case_id=case_id),
        once_key=f"case:{case_id}/ally_found",
    )


def on_reveal_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The requester (only) confirmed "Reveal me to my ally": introduce them once, recorded.

    The reveal is recorded first, with its due introduction (cases.REVEAL), and committed;
    the introduction is sent after, once, by this click or else by the sweep. A second click
    finds the reveal recorded and introduces nobody again.
    """
    ack()
    p = deps.privacy
    user_id = payload.user_id
    case_id = payload.action_int()
    with deps.db.session() as session:
        case = cases.reveal(session, p, case_id=case_id, user_id=user_id)
        _ally_for_reveal(session, case)  # no ally to introduce: the reveal is rolled back
        handle = case.handle
    logger.info("case %s: the requester chose to reveal themselves to the ally", case_id)
    key = cases.reveal_key(case_id)
    try:
        introduce_revealed(client, deps, key=key)
        text = f"You revealed yourself to your ally for {handle}."
    except (SlackClientError, OSError, once.StepsPending) as error:
        logger.info("case %s introduction not sent yet (%s)", case_id, type(error).__name__)
        text = (
            f"You chose to reveal yourself to your ally for {handle}. The introduction could "
            "not be sent just now; it will follow shortly, once."
        )
    if payload.message_ts and payload.message_channel:
        client.chat_update(
            channel=payload.message_channel,
            ts=payload.message_ts,
            text=text,
            blocks=notice_blocks(text),
        )


def _ally_for_reveal(session: Session, case: AnonymousCase) -> str:
    """The ally the requester is to be introduced to; Conflict if there is none (any more)."""
    match = (
        request_store.match_for(session, request_id=case.ask_request_id)
        if case.ask_request_id is not None
        else None
    )
    if match is None:
        raise Conflict("No ally has been found for this case yet.")
    if match.ally_user_id == FORGOTTEN:
        raise Conflict("Your ally has since left the programme, so nobody can be told.")
    return match.ally_user_id


def on_reveal_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of an introduction the requester chose (sent once, whoever sends it)."""
    introduce_revealed(client, deps, key=item.key)


def introduce_revealed(client: WebClient, d: Deps, *, key: str) -> None:
    """Introduce the requester to the ally, then tell the volunteer; each step once.

    The volunteer is told only if the introduction was sent (not if the ally left the
    programme, or the case was purged, before it could be).
    """
    with d.db.read() as session:
        item = jobs.find(session, key=key)
        if item is None or item.status in (jobs.DONE, jobs.CANCELLED):
            return
        case_id = cases.Reveal.model_validate(item.payload or {}).case_id

    def introduce() -> str | None:
        with d.db.read() as session:
            case = cases.get_case(session, case_id=case_id)
            if case.requester_sealed is None:
                return None  # purged (or forgotten) since: nobody to introduce
            try:
                ally = _ally_for_reveal(session, case)
            except Conflict:
                return None  # the ally left the programme since
            handle = case.handle
            # The one place the requester's ID is shown to someone else: by their own choice.
            requester = cases.requester_of(d.privacy, case)
        conversation = client.conversations_open(users=f"{requester},{ally}")
        answer = client.chat_postMessage(
            channel=conversation["channel"]["id"],
            text="An introduction from the allyship programme.",
            blocks=render_blocks(
                "anonymous/reveal_intro.json.j2", requester=requester, ally=ally, handle=handle
            ),
        )
        return str(answer["ts"])

    def tell_volunteer() -> None:
        with d.db.read() as session:
            case = cases.get_case(session, case_id=case_id)
        if case.volunteer_id and case.volunteer_id != FORGOTTEN:
            text = f"The person behind {case.handle} chose to introduce themselves to the ally."
            client.chat_postMessage(
                channel=case.volunteer_id, text=text, blocks=notice_blocks(text)
            )

    introduced = once.send_once(d.db, f"{key}/introduction", introduce, keep=True)  # a ts
    if not introduced.settled:
        raise once.StepsPending("the introduction is being sent elsewhere")
    # The volunteer is told only if someone was introduced (a ts was recorded).
    if (
        isinstance(introduced.value, str)
        and not once.send_once(d.db, f"{key}/volunteer", tell_volunteer).settled
    ):
        raise once.StepsPending("the volunteer is being told elsewhere")
    retire(d, key)


def on_close_case_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The holding volunteer opens the close modal (outcome, and a pause for misuse)."""
    open_case_modal(ack, payload, client, deps, "anonymous/close_modal.json.j2")


def on_close_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Close the case once; the requester is told; misuse may pause them (by marker only)."""
    answer: dict[str, Any] = {}
    try:  # whatever fails before the ack, the submission is answered
        outcome = next(iter(payload.selected(Ids.OUTCOME.value)), "")
        pause = "pause" in payload.selected(Ids.PAUSE.value)
        if outcome not in cases.OUTCOMES:
            answer = {
                "response_action": "errors",
                "errors": {Ids.OUTCOME.value: "Choose how the case ended."},
            }
            return
        if pause and outcome != cases.MISUSE:
            answer = {
                "response_action": "errors",
                "errors": {Ids.PAUSE.value: "Pausing is only for cases closed as misuse."},
            }
            return
    finally:
        ack(**answer)
    case_id = case_in_view(payload)
    user_id = payload.user_id
    with deps.db.session() as session:
        case = cases.close_case(
            session,
            case_id=case_id,
            volunteer_id=user_id,
            outcome=outcome,
            pause=pause,
            retention_days=deps.settings.retention_days,
        )
        handle = case.handle
    logger.info("case %s closed (%s)", case_id, outcome)
    refresh_card(client, deps, case_id)
    text = f"{handle} was closed by your volunteer. Thank you for reaching out."
    post_to_requester(client, deps, case_id, text=text, blocks=notice_blocks(text))
    done = f"You closed {handle} ({cases.OUTCOMES[outcome]})." + (
        " The person who asked can no longer send anonymous requests." if pause else ""
    )
    client.chat_postMessage(channel=user_id, text=done, blocks=notice_blocks(done))


def on_purge_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """Retention: delete the case's text and its link to the requester; counts and outcome stay."""
    case_id = item.read(cases.CaseItem).case_id or int(item.key.rpartition(":")[2])

    with deps.db.session() as session:
        purged = cases.purge_case(session, case_id=case_id)
        ask_id = cases.get_case(session, case_id=case_id).ask_request_id if purged else None
    if not purged:
        return
    logger.info("case %s purged", case_id)
    # The cards in Slack showed the text too: both are redrawn without it. A failure other
    # than a card that is gone raises, so the item is retried (the purge itself is idempotent).
    _redraw_after_purge(case_id, "case card", lambda: refresh_card(client, deps, case_id))
    if ask_id is not None:
        _redraw_after_purge(
            case_id, "ask card", lambda: request_surface.refresh_card(client, deps, ask_id)
        )
        _redraw_after_purge(
            case_id,
            "introduction",
            lambda: request_surface.refresh_intro(client, deps, request_id=ask_id),
        )


def _redraw_after_purge(case_id: int, what: str, redraw: Callable[[], None]) -> None:
    gone = redraw_or_gone(redraw)
    if gone:
        logger.info("case %s %s not updated after purge (%s)", case_id, what, gone)
