"""The Slack surface of `/ally forget-me` (SPEC 6): confirm, delete, then tidy Slack up.

The deletion is one transaction (bot.rules.forget). What Slack must then show differently is
written, in that same transaction, as two durable items (bot.rules.forget.schedule_followups):
- `forget_followups`: the person's request cards, escalations, introductions and offers
  DMs, allies to tell, cases a forgetting volunteer held. It runs at once, and the
  scheduler finishes whatever failed.
- `forget_case_followups`: the close of anonymous cases the person asked that were still
  open (their link and text went at once), their cards, their asks to the allies and
  introductions, and the volunteers and allies to tell. It runs hours later at a random
  time, so that nobody watching the channels, or holding such a case, can see a named card
  and an anonymous case change together.
Whoever runs an item (the submission or the scheduler), each message is sent under the
item's row lock and recorded, so it goes once; redraws are idempotent.
"""

from __future__ import annotations

import contextlib
import logging
from enum import StrEnum

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.rules import forget
from handlers.anonymous import surface as case_surface
from handlers.common.client import trigger_client
from handlers.common.commands import Invocation, Routes
from handlers.common.deps import Deps
from handlers.common.listeners import Listeners
from handlers.common.payload import Payload
from handlers.common.permissions import ANYONE
from handlers.common.redraw import redraw_or_gone
from handlers.requests import surface as request_surface
from messages.render import render, render_blocks
from storage import requests as store
from storage.models.programme import FORGOTTEN

logger = logging.getLogger(__name__)

WHAT = "forget-me"  # how its follow-ups are named in the log


class Ids(StrEnum):
    """callback_id of this feature."""

    VIEW = "forget_me"


def register(on: Listeners, routes: Routes) -> None:
    """Add `/ally forget-me`, its confirmation and its scheduled follow-ups."""
    routes.ally.add(
        "forget-me",
        on_forget_me_command,
        "`/ally forget-me`: delete what the programme holds about you (asks to confirm first)",
    )
    # Anyone, about themselves only: the person is whoever submitted the confirmation.
    on.view(Ids.VIEW, allow=ANYONE)(on_forget_me_submitted)
    routes.due[forget.FOLLOWUPS] = on_followups_due
    routes.due[forget.CASE_FOLLOWUPS] = on_case_followups_due


def on_forget_me_command(call: Invocation) -> None:
    """`/ally forget-me` opens the confirmation (the trigger is used before the ack)."""
    try:
        view = render("forget/modal.json.j2")
        assert isinstance(view, dict)
        trigger_client(call.client).views_open(trigger_id=call.trigger_id, view=view)
    finally:
        call.ack()


def on_forget_me_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Confirmed: delete at once, tell the person, then redraw and notify in Slack."""
    ack()
    user_id = payload.user_id
    # The view id is the same on Slack's retry of this submission: one deletion, told once.
    key = forget.followups_key(payload.view_id)
    with deps.db.session() as session:
        if not store.claim_event(session, event_id=key):
            return
        done = forget.forget(session, deps.privacy, user_id=user_id)
        followups = forget.schedule_followups(session, done, key=key)
    deps.identities.discard(user_id)
    logger.info("forget-me: a person's data was deleted")
    client.chat_postMessage(
        channel=user_id,
        text="Your data is deleted.",
        blocks=render_blocks(
            "forget/done.json.j2", requests=done.own_requests, cases=done.own_cases
        ),
    )
    if followups.any():
        # A failed step was logged; the scheduled item finishes the rest.
        with contextlib.suppress(once.StepsPending):
            once.run_steps(
                deps.db, key=key, steps=_request_steps(client, deps, followups), what=WHAT
            )


def on_followups_due(app_deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of the request side: finish whatever the submission could not."""
    steps = _request_steps(client, app_deps, item.read(forget.Followups))
    once.run_due_steps(app_deps.db, key=item.key, steps=steps, what=WHAT)


def on_case_followups_due(app_deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The case side, later: close the cases left open, redraw their cards, tell the
    volunteers who held them."""
    closing = item.read(forget.CaseFollowups).closing
    with app_deps.db.session() as session:
        payload = forget.close_cases_later(session, key=item.key, case_ids=closing)
    steps = [_redraw_case(client, app_deps, c) for c in payload.case_cards]
    steps += [_redraw_request(client, app_deps, r) for r in payload.case_asks]
    for index, (volunteer, handle) in enumerate(payload.volunteers_told):
        text = _WITHDRAWN_FOR_VOLUNTEER.format(handle=handle)
        steps.append(_tell(f"volunteer:{index}", client, volunteer, text))
    for index, ally in enumerate(payload.case_allies_told):
        steps.append(_tell(f"case-ally:{index}", client, ally, _WITHDRAWN_FOR_ALLY))
    once.run_due_steps(app_deps.db, key=item.key, steps=steps, what=WHAT)


_WITHDRAWN_FOR_ALLY = (
    "A request you offered to help with was withdrawn by the person who asked. Thank you!"
)
_WITHDRAWN_FOR_VOLUNTEER = (
    "{handle} was withdrawn by the person who asked. The case is closed and its text has "
    "been deleted. Thank you for looking after it."
)
_RELEASED = (
    "A volunteer has left the programme, so these cases need someone to take them again: {handles}."
)


def _request_steps(client: WebClient, d: Deps, payload: forget.Followups) -> list[Step]:
    steps = [_redraw_request(client, d, r) for r in payload.request_cards]
    steps += [
        _tell(f"ally:{index}", client, ally, _WITHDRAWN_FOR_ALLY)
        for index, ally in enumerate(payload.allies_told)
    ]
    steps += [_redraw_case(client, d, c) for c in payload.held_cards]
    if payload.released:
        steps.append(_announce_released(client, d, payload.released))
    return steps


def _redraw_request(client: WebClient, d: Deps, request_id: int) -> Step:
    def redraw() -> None:
        redraw_or_gone(lambda: request_surface.refresh_card(client, d, request_id))
        redraw_or_gone(lambda: request_surface.refresh_escalation(client, d, request_id=request_id))
        redraw_or_gone(lambda: request_surface.refresh_intro(client, d, request_id=request_id))
        with d.db.session() as session:
            forget.forget_conversation(session, request_id=request_id)
        request_surface.refresh_offers(client, d, request_id)

    return Step(f"request:{request_id}", redraw)


def _redraw_case(client: WebClient, d: Deps, case_id: int) -> Step:
    return Step(
        f"case:{case_id}",
        lambda: redraw_or_gone(lambda: case_surface.refresh_card(client, d, case_id)),
    )


def _announce_released(client: WebClient, d: Deps, case_ids: list[int]) -> Step:
    def announce() -> None:
        with d.db.read() as session:
            handles = forget.handles(session, case_ids=case_ids)
        text = _RELEASED.format(handles=", ".join(handles))
        _tell("released", client, d.settings.volunteers_channel, text).run()

    return Step("released", announce)


def _tell(name: str, client: WebClient, channel: str, text: str) -> Step:
    def tell() -> None:
        if channel == FORGOTTEN:
            return  # they asked to be forgotten since
        client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=render_blocks("requests/notice.json.j2", text=text, join=False),
        )

    return Step(name, tell)
