"""The Slack surface of feedback: scheduled prompts, reminders and closes; the buttons."""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from functools import partial
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.jobs import once
from bot.jobs.once import Step
from bot.jobs.queue import DueWork
from bot.privacy import Identity
from bot.rules.errors import InvalidInput, UserFacingError
from bot.rules.feedback import answers, comments, prompts
from handlers.anonymous import relay as case_relay
from handlers.anonymous import surface as case_surface
from handlers.common.client import trigger_client
from handlers.common.commands import Routes
from handlers.common.deps import Deps
from handlers.common.listeners import Listeners
from handlers.common.payload import Payload
from handlers.common.permissions import ANYONE
from handlers.common.replies import tell_privately
from messages.render import render, render_blocks
from storage.models.programme import FORGOTTEN


class Ids(StrEnum):
    """The feedback feature's action, block and callback ids."""

    WORKED = "feedback_worked"
    NOT_WORKED = "feedback_not_worked"
    # One public value for the "Add a comment" button, its actions block and the comment
    # modal's callback_id: sent messages carry the button, and a modal open during a
    # deployment is submitted under this callback_id (Bolt tells actions from views apart).
    COMMENT = "feedback_comment"
    COMMENT_BLOCK = "comment"
    PROMPT_BLOCK = "feedback"


logger = logging.getLogger(__name__)

ANSWER_OF = {Ids.WORKED: answers.WORKED, Ids.NOT_WORKED: answers.NOT_WORKED}
PROMPT_TEXT = "How did the allyship go? It worked / It didn't work"
COMMENT_NOT_SAVED = "I could not save your comment just now. Please click *Add a comment* again."


def register(on: Listeners, routes: Routes) -> None:
    """Register the buttons, the comment modal and the scheduled feedback work."""
    # The prompt's own participant: the rules check the person against the prompt's token.
    on.action(Ids.WORKED, allow=ANYONE)(on_feedback_clicked)
    on.action(Ids.NOT_WORKED, allow=ANYONE)(on_feedback_clicked)
    on.action(Ids.COMMENT, allow=ANYONE)(on_comment_clicked)
    on.view(Ids.COMMENT, allow=ANYONE)(on_comment_submitted)
    routes.due[prompts.PROMPT] = on_prompt_due
    routes.due[prompts.REMINDER] = on_reminder_due
    routes.due[prompts.CLOSE] = on_close_due


# scheduled work


def _send(
    client: WebClient, app_deps: Deps, person: prompts.Recipient, blocks: list[dict[str, Any]]
) -> tuple[str | None, str | None]:
    """DM a person (to their own user ID), or reach an anonymous requester through the relay."""
    if person.user_id == FORGOTTEN:
        return None, None  # they asked to be forgotten: nothing is sent, the item moves on
    if person.user_id is None:
        # Where the relay posts is the anonymous requester's DM: it is never recorded here.
        case_relay.relay_to_requester(
            client, app_deps, request_id=person.request_id, text=PROMPT_TEXT, blocks=blocks
        )
        return None, None
    response = client.chat_postMessage(channel=person.user_id, text=PROMPT_TEXT, blocks=blocks)
    return str(response["channel"]), str(response["ts"])


def _blocks(app_deps: Deps, person: prompts.Recipient, *, reminder: bool) -> list[dict[str, Any]]:
    category = app_deps.content.category(person.category)
    partner = person.partner_id
    return render_blocks(
        "feedback/prompt.json.j2",
        role=person.role,
        category=category.label if category else person.category,
        partner_id=None if person.user_id is None or partner == FORGOTTEN else partner,
        case_handle=person.case_handle,
        token=person.token,
        reminder=reminder,
    )


def on_prompt_due(app_deps: Deps, client: WebClient, item: DueWork) -> None:
    """Ask each participant of a match for feedback, once each, then schedule what follows."""
    match_id = item.read(prompts.MatchFeedback).match_id
    with app_deps.db.session() as session:
        prompts.ensure_rows(session, match_id=match_id)
    with app_deps.db.session() as session:
        people = prompts.recipients(session, match_id=match_id)
    for person in people:
        if person.prompted:
            continue  # sent by an earlier try of this item
        channel, ts = _send(client, app_deps, person, _blocks(app_deps, person, reminder=False))
        with app_deps.db.session() as session:
            prompts.mark_prompted(session, token=person.token, channel=channel, ts=ts, now=item.now)
    if not people:
        return
    with app_deps.db.session() as session:
        prompted_at = prompts.first_prompted_at(session, match_id=match_id) or item.now
        prompts.schedule_followups(
            session, match_id=match_id, prompted_at=prompted_at, settings=app_deps.settings
        )


def on_reminder_due(app_deps: Deps, client: WebClient, item: DueWork) -> None:
    """Remind, once, everyone who has not answered yet."""
    match_id = item.read(prompts.MatchFeedback).match_id
    with app_deps.db.session() as session:
        people = prompts.recipients(session, match_id=match_id)
    for person in people:
        if person.answer or person.reminded or not person.prompted:
            continue
        channel, ts = _send(client, app_deps, person, _blocks(app_deps, person, reminder=True))
        with app_deps.db.session() as session:
            prompts.mark_reminded(session, token=person.token, channel=channel, ts=ts, now=item.now)


_CLOSED = "Feedback has closed."


def _retire(client: WebClient, channel: str, ts: str, blocks: list[dict[str, Any]]) -> None:
    client.chat_update(channel=channel, ts=ts, text=_CLOSED, blocks=blocks)


def on_close_due(app_deps: Deps, client: WebClient, item: DueWork) -> None:
    """Close a match the requester did not answer as "no feedback"; retire its buttons.

    Each message updated is recorded (bot.jobs.once), so a retry after a failed update (the
    match is closed by then) updates the rest, and none twice.
    """
    match_id = item.read(prompts.MatchFeedback).match_id
    with app_deps.db.session() as session:
        prompts.close_without_feedback(session, match_id=match_id, now=item.now)
        shown = prompts.prompts_to_retire(session, match_id=match_id)
    blocks = render_blocks("feedback/closed.json.j2")
    steps = [
        Step(name, partial(_retire, client, channel, ts, blocks)) for name, channel, ts in shown
    ]
    once.run_due_steps(app_deps.db, key=item.key, steps=steps, what="feedback close")


# buttons and the comment modal


def on_feedback_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Record the answer at once (once, by its owner), then show it with a comment button."""
    ack()
    answer = ANSWER_OF[Ids(payload.action_id)]
    token = payload.action_value
    user_id = payload.user_id
    with deps.db.session() as session:
        result = answers.record_answer(
            session, token=token, user_id=user_id, answer=answer, settings=deps.settings
        )
    channel, ts = payload.message_channel, payload.message_ts
    if not result.recorded:
        said = "It worked" if result.answer == answers.WORKED else "It didn't work"
        tell_privately(
            client,
            user_id=user_id,
            channel_id=channel,
            text=f"Your answer is already recorded: {said}.",
        )
        return
    blocks = render_blocks(
        "feedback/answered.json.j2", answer=answer, token=token, can_comment=True, commented=False
    )
    targets = {(channel, ts), *result.refs}
    for target_channel, target_ts in targets:
        if target_channel and target_ts:
            client.chat_update(
                channel=target_channel,
                ts=target_ts,
                text="Thank you for your answer.",
                blocks=blocks,
            )


def on_comment_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Open the optional comment modal (the trigger first, then the ack, whatever happens).

    private_metadata carries the opaque token only: where the prompts are is read from the
    feedback row on submission (an anonymous requester's DM channel never leaves the server).
    """
    failed: Exception | None = None
    try:
        token = payload.action_value
        metadata = json.dumps({"t": token}, separators=(",", ":"))
        # Read-only (before views.open and the ack): never waits for SQLite's writer.
        with deps.db.read() as session:
            anonymous = comments.is_anonymous_requester(session, token=token)
        trigger_client(client).views_open(
            trigger_id=payload.trigger_id,
            view=render("feedback/comment_modal.json.j2", metadata=metadata, anonymous=anonymous),
        )
    except (SlackApiError, OSError) as error:
        # Not re-raised: Bolt drops the ack's response when the listener raises right after it.
        failed = error
    finally:
        ack()
    if failed is not None:
        logger.info("feedback comment modal not opened (%s)", type(failed).__name__)
        tell_privately(
            client,
            user_id=payload.user_id,
            channel_id=payload.message_channel,
            text="I could not open the comment form just now. Please click the button again.",
        )


def on_comment_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Store the comment (only its owner's; an anonymous requester's redacted).

    Refusals show in the modal; the comment is stored after the ack, once an anonymous
    requester's names are known (users.info is never called before the ack).
    """
    try:
        token = str(payload.metadata["t"])
    except KeyError:
        ack(response_action="errors", errors={Ids.COMMENT_BLOCK.value: "This form has expired."})
        return
    text = payload.value(Ids.COMMENT_BLOCK.value, Ids.COMMENT_BLOCK.value)
    user_id = payload.user_id
    try:
        # Before the ack, read-only, so that its refusals show in the modal.
        with deps.db.read() as session:
            asker_unnamed = comments.check_comment(
                session, token=token, user_id=user_id, comment=text
            )
    except UserFacingError as error:
        block = getattr(error, "block_id", None) if isinstance(error, InvalidInput) else None
        ack(response_action="errors", errors={block or Ids.COMMENT_BLOCK.value: error.message})
        return
    ack()
    identity: Identity | None = None
    if asker_unnamed:
        # Their names, for the redaction: looked up only now, after the ack.
        identity = case_surface.requester_names(client, deps, user_id)
        if identity is None:
            tell_privately(client, user_id=user_id, text=COMMENT_NOT_SAVED)
            return
    with deps.db.session() as session:
        comments.record_comment(
            session, token=token, user_id=user_id, comment=text, identity=identity
        )
    with deps.db.session() as session:
        answer, refs = answers.answer_and_refs(session, token=token)
    blocks = render_blocks(
        "feedback/answered.json.j2", answer=answer, token=token, can_comment=False, commented=True
    )
    for channel, ts in refs:
        if channel and ts:
            client.chat_update(
                channel=str(channel), ts=str(ts), text="Thank you for your comment.", blocks=blocks
            )
