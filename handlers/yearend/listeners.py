"""Listeners of the year-end programme: the story and event forms, and assessing them.

Every listener acks first except those that open a modal, which use the trigger at once.
Permissions are checked on the server on every click: the volunteer roster (Slack), declared
where the listeners are registered (handlers.yearend), then the conflicts
(bot.rules.yearend.assessment); a refusal is a private message, never an action.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.privacy import privacy
from bot.rules.allies import business_units
from bot.rules.errors import InvalidInput, NotFound, UserFacingError
from bot.rules.yearend import assessment, events, stories
from handlers.common.client import trigger_client
from handlers.common.commands import Invocation
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.permissions import Permission, volunteers
from handlers.common.replies import tell_privately
from handlers.common.units import choose_units, resolve_typed, unknown_unit
from handlers.yearend import surface
from handlers.yearend.ids import Ids, parse_item_value
from messages.render import render, render_blocks
from storage.types import utcnow

logger = logging.getLogger(__name__)

NOT_A_VOLUNTEER = (
    "Only volunteers (members of the volunteers channel) can assess stories and events."
)


def _today(d: Deps) -> date:
    return utcnow().astimezone(d.settings.zone).date()


def _notice(text: str) -> list[dict[str, Any]]:
    return render_blocks("yearend/notice.json.j2", text=text)


def only_volunteers() -> Permission:
    """Who may assess: members of the volunteers channel (told NOT_A_VOLUNTEER otherwise)."""
    return volunteers(NOT_A_VOLUNTEER, blocks=_notice(NOT_A_VOLUNTEER))


def _say(client: WebClient, payload: Payload, text: str) -> None:
    tell_privately(
        client,
        user_id=payload.user_id,
        channel_id=payload.channel_id,
        text=text,
        blocks=_notice(text),
    )


CARD_LATER = (
    "Thank you! It is saved, but I could not post it to the volunteers just now: it will be "
    "posted shortly, and you will hear what they decide. No need to send it again."
)


def _post_card(client: WebClient, d: Deps, *, kind: str, item_id: int) -> bool:
    """Post the card now; False when Slack failed (the scheduled safety net posts it)."""
    try:
        surface.post_card(client, d, kind=kind, item_id=item_id)
    except (SlackApiError, OSError) as error:
        logger.warning(
            "a %s card was not posted (%s); the sweep posts it", kind, type(error).__name__
        )
        return False
    return True


# the forms


def story_modal() -> dict[str, Any]:
    """The `allyship_story` view."""
    view = render("yearend/story_modal.json.j2")
    assert isinstance(view, dict)
    return view


def _open(ack: Ack, client: WebClient, trigger_id: str, view: dict[str, Any]) -> None:
    try:
        trigger_client(client).views_open(trigger_id=trigger_id, view=view)
    finally:
        ack()


def on_story_command(call: Invocation) -> None:
    """`/ally story` opens the story form."""
    _open(call.ack, call.client, call.trigger_id, story_modal())


def on_open_story_button(ack: Ack, payload: Payload, client: WebClient) -> None:
    """The call for stories' button opens the story form."""
    _open(ack, client, payload.trigger_id, story_modal())


def on_event_command(call: Invocation) -> None:
    """`/ally event` opens the event form (units read before the trigger: one quick read)."""
    with call.deps.db.read() as session:
        units = [unit.name for unit in business_units(session)]
    view = render("yearend/event_modal.json.j2", choice=choose_units(units))
    _open(call.ack, call.client, call.trigger_id, view)


def _errors(ack: Ack, error: InvalidInput, default: str) -> None:
    ack(response_action="errors", errors={error.block_id or default: error.message})


# Slack could not tell who the ally is (a 5xx, a 429 after the retries, no connection):
# nothing is recorded without the check, and the reporter gets their words back to resend.
LOOKUP_FAILED = (
    "Slack did not answer when I checked who the ally is. Please send it again in a few minutes."
)


def _ally_refusal(client: WebClient, ally_id: str) -> InvalidInput | None:
    """Why the person named cannot be a story's ally (a bot, deactivated, unknown), if so; a
    lookup Slack could not answer is a refusal to retry (the caller sends the words back)."""
    try:
        info = client.users_info(user=ally_id).get("user") or {}
    except SlackApiError as error:
        if error.response.get("error") != "user_not_found":
            logger.warning("users.info failed for a story's ally (%s)", error.response.get("error"))
            return InvalidInput(LOOKUP_FAILED, Ids.ALLY)
        info = {}
    except OSError as error:
        logger.warning("users.info failed for a story's ally (%s)", type(error).__name__)
        return InvalidInput(LOOKUP_FAILED, Ids.ALLY)
    try:
        stories.check_ally(
            is_bot=bool(info.get("is_bot")) or info.get("id") == "USLACKBOT",
            deleted=bool(info.get("deleted")),
            found=bool(info),
        )
    except InvalidInput as refusal:
        return refusal
    return None


def on_story_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Check the form (modal errors), ack, then check the ally with Slack, record the story and
    post its card.

    Whether the ally is a person (not a bot, not deactivated) needs users.info, a Web API call,
    so it comes after the ack (SPEC 6): a refusal then arrives by DM with the reporter's own
    words, so that nothing they wrote is lost, and nothing is recorded.
    """
    reporter = payload.user_id
    try:
        form = stories.parse_story_form(payload.values, today=_today(deps))
    except InvalidInput as error:
        _errors(ack, error, Ids.WHAT)
        return
    ack()
    refusal = _ally_refusal(client, form.ally_id)
    if refusal is not None:
        client.chat_postMessage(
            channel=reporter,
            text=f"Your story was not recorded: {refusal.message}",
            blocks=render_blocks(
                "yearend/story_refused.json.j2", reason=refusal.message, what=form.what
            ),
        )
        return
    with deps.db.session() as session:
        story, created = stories.create_story(
            session,
            form=form,
            reporter_id=reporter,
            submission_key=payload.view_id,
            privacy=privacy(deps.settings),
        )
        story_id = int(story.id or 0)
        if created:
            surface.schedule_card(session, kind=assessment.STORY, item_id=story_id)
    if not created:
        return
    text = (
        "Thank you! Your story went to the volunteers, who will assess it. "
        "I will tell you what they decide."
    )
    if not _post_card(client, deps, kind=assessment.STORY, item_id=story_id):
        text = CARD_LATER
    client.chat_postMessage(channel=reporter, text=text, blocks=_notice(text))


def on_event_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Check the event (modal errors), then record it and post its card after the ack."""
    user = payload.user_id
    try:
        form = events.parse_event_form(payload.values, today=_today(deps))
        with deps.db.read() as session:
            names = [unit.name for unit in business_units(session)]
        # A typed name (too many units to list) is matched ignoring case.
        found = resolve_typed(form.business_unit, names)
        if found is None:
            raise InvalidInput(unknown_unit(form.business_unit), Ids.BUSINESS_UNIT)
        form = replace(form, business_unit=found)
    except InvalidInput as error:
        _errors(ack, error, Ids.WHAT)
        return
    ack()
    with deps.db.session() as session:
        event, created = events.create_event(
            session, form=form, logged_by=user, submission_key=payload.view_id
        )
        event_id = int(event.id or 0)
        if created:
            surface.schedule_card(session, kind=assessment.EVENT, item_id=event_id)
    if not created:
        return
    text = "Thank you! The event went to the volunteers, who will assess it."
    if not _post_card(client, deps, kind=assessment.EVENT, item_id=event_id):
        text = CARD_LATER
    client.chat_postMessage(channel=user, text=text, blocks=_notice(text))


# assessing


def _item(payload: Payload) -> tuple[str, int]:
    parsed = parse_item_value(payload.action_value)
    if parsed is None:
        raise NotFound("That button no longer works.")
    return parsed


def on_accept_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Accept a story or event: the first decision wins; points once; then the follow-ups."""
    ack()
    kind, item_id = _item(payload)
    user = payload.user_id
    with deps.db.session() as session:
        decision = assessment.accept(session, kind=kind, item_id=item_id, user_id=user)
        awarded = surface.awarded_points(decision.award)
        if decision.decided:
            surface.schedule_decided(
                session,
                kind=kind,
                item_id=item_id,
                points_awarded=awarded,
                retention_days=deps.settings.retention_days,
            )
    if not decision.decided:
        _say(client, payload, f"This was already {decision.status}. The first decision stands.")
        return
    surface.run_decision(client, deps, kind=kind, item_id=item_id, points_awarded=awarded)


def on_decline_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Open `assessment_decline` (conflicts and state read from the database before the
    trigger; whether the person is a volunteer, a Web API call, is checked at the submission,
    after its ack)."""
    refused: UserFacingError | None = None
    try:
        kind, item_id = _item(payload)
        user = payload.user_id
        with deps.db.read() as session:
            assessment.check_can_decide(session, kind=kind, item_id=item_id, user_id=user)
        metadata = json.dumps({"k": kind, "i": item_id}, separators=(",", ":"))
        trigger_client(client).views_open(
            trigger_id=payload.trigger_id,
            view=render(
                "yearend/decline_modal.json.j2",
                metadata=metadata,
                kind="story" if kind == assessment.STORY else "event",
            ),
        )
    except UserFacingError as error:
        refused = error
    finally:
        ack()
    if refused is not None:
        _say(client, payload, refused.message)


def on_decline_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Decline with the volunteer's words: the form and the conflicts are checked before the
    ack (modal errors), the volunteer roster after it (declared); then the follow-ups."""
    user = payload.user_id
    meta = payload.metadata
    try:
        kind, item_id = str(meta["k"]), int(meta["i"])
        if kind not in assessment.KINDS:
            raise ValueError(kind)
    except (ValueError, KeyError, TypeError):
        ack(response_action="errors", errors={Ids.REASON.value: "This form has expired."})
        return
    reason = payload.value(Ids.REASON)
    try:
        assessment.check_reason(reason)
        with deps.db.read() as session:
            assessment.check_can_decide(session, kind=kind, item_id=item_id, user_id=user)
    except UserFacingError as error:
        ack(response_action="errors", errors={Ids.REASON.value: error.message})
        return
    ack()
    with deps.db.session() as session:
        decision = assessment.decline(
            session, kind=kind, item_id=item_id, user_id=user, reason=reason
        )
        if decision.decided:
            surface.schedule_decided(
                session,
                kind=kind,
                item_id=item_id,
                points_awarded=0,
                retention_days=deps.settings.retention_days,
            )
    if not decision.decided:
        text = f"This was already {decision.status}. The first decision stands."
        client.chat_postMessage(channel=user, text=text, blocks=_notice(text))
        return
    surface.run_decision(client, deps, kind=kind, item_id=item_id, points_awarded=0)


def on_creative_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Toggle the creative mark (before or after the decision), then redraw the card."""
    ack()
    kind, item_id = _item(payload)
    user = payload.user_id
    with deps.db.session() as session:
        assessment.toggle_creative(session, kind=kind, item_id=item_id, user_id=user)
    surface.redraw_card(client, deps, kind=kind, item_id=item_id)
