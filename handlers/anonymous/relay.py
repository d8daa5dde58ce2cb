"""The relay: a volunteer's messages to the requester and the requester's replies back."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.jobs import once
from bot.rules.anonymous import cases, relays
from handlers.anonymous.ids import Ids
from handlers.anonymous.inputs import Metadata, case_in_button, case_in_view, holder_case
from handlers.anonymous.relay_sync import sync_now
from handlers.anonymous.surface import (
    FILES_NOT_PASSED_ON,
    WAITING_FOR_A_VOLUNTEER,
    notice_blocks,
    post_to_requester,
    tell_requester,
)
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from messages.render import render, render_blocks
from storage import anonymous as anonymous_store
from storage import requests as request_store

logger = logging.getLogger(__name__)


def on_message_requester_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The holding volunteer opens the relay modal (the trigger is used before the ack)."""
    open_case_modal(ack, payload, client, deps, "anonymous/relay_modal.json.j2")


def open_case_modal(ack: Ack, payload: Payload, client: WebClient, d: Deps, template: str) -> None:
    """Open a modal about a case for the volunteer holding it, then ack."""
    try:
        case = holder_case(d, case_id=case_in_button(payload), user_id=payload.user_id)
        client.views_open(
            trigger_id=payload.trigger_id,
            view=render(template, metadata=Metadata(case=case.id).dump(), handle=case.handle),
        )
    finally:
        ack()


def on_relay_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The volunteer's words go to the requester's case thread, once per submission."""
    ack()
    case_id = case_in_view(payload)
    user_id = payload.user_id
    text = payload.value(Ids.RELAY_INPUT.value).strip()
    if not text:
        return
    case = holder_case(deps, case_id=case_id, user_id=user_id)
    sent = once.send_once(
        deps.db,
        f"view:{payload.view_id}"[:200],
        lambda: post_to_requester(
            client,
            deps,
            case_id,
            text=f"Your volunteer for {case.handle} wrote to you.",
            blocks=render_blocks("anonymous/to_requester.json.j2", handle=case.handle, text=text),
        ),
    )
    if not sent.sent:
        return  # a retry of the same submission
    client.chat_postMessage(
        channel=user_id,
        text=f"Your message was passed on to {case.handle}.",
        blocks=notice_blocks(f"Your message was passed on to *{case.handle}*."),
    )


# Messages in the requester's DM that are replies (plain, or "also send to direct message").
_REPLY_SUBTYPES = (None, "file_share", "thread_broadcast")


_EDIT = "message_changed"


_DELETE = "message_deleted"


def is_requester_message(body: dict[str, Any], deps: Deps) -> bool:
    """A person's own message in their DM with the bot, about (or near) an anonymous case."""
    event = Payload.of(body).event
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return False
    if event.get("bot_id") or event.get("subtype") not in _REPLY_SUBTYPES:
        return False
    user_id, channel = event.get("user"), event.get("channel")
    if not user_id or not channel:
        return False
    p = deps.privacy
    # Read-only: this runs on every DM event before its ack and never waits for SQLite's writer.
    with deps.db.read() as session:
        thread_ts = event.get("thread_ts")
        if thread_ts and cases.case_in_thread(
            session, p, user_id=user_id, channel=channel, thread_ts=str(thread_ts)
        ):
            return True
        return bool(cases.cases_of(session, p, user_id=user_id))


def on_requester_message(payload: Payload, client: WebClient, deps: Deps) -> None:
    """The requester's reply in a case thread reaches the volunteer, redacted, once.

    Slack does not retry an event it got an ack for, so the reply is kept instead: sealed,
    with its due delivery, in the unit of work that claims the event. It is sent at once;
    if that fails, the sweep sends it (relays.RELAY), and the copy's ts, recorded under the
    relay's lock, keeps it from being sent twice. While no volunteer holds the case, the
    reply waits for the next one who takes it. The notices to the requester go after that
    unit of work is committed: one that fails is logged and loses nothing.
    """
    p = deps.privacy
    event = payload.event
    user_id, channel = str(event["user"]), str(event["channel"])
    thread_ts = event.get("thread_ts")
    files = bool(event.get("files"))
    words = str(event.get("text") or "").strip()
    notices: list[str] = []
    relay_id: int | None = None
    with deps.db.session() as session:
        if not request_store.claim_event(session, event_id=payload.event_id):
            return
        case = (
            cases.case_in_thread(
                session, p, user_id=user_id, channel=channel, thread_ts=str(thread_ts)
            )
            if thread_ts
            else None
        )
        if case is None:
            handles = [c.handle for c in cases.cases_of(session, p, user_id=user_id)]
        else:
            assert case.id is not None
            case_id, handle, status = case.id, case.handle, case.status
            if files:
                notices.append(FILES_NOT_PASSED_ON)
            if status == cases.CLOSED:
                notices.append(f"{handle} is closed. To ask again, use `/ally`.")
            elif words:
                relay_id = relays.record_reply(
                    session,
                    p,
                    case_id=case_id,
                    ts=str(event["ts"]),
                    reply=relays.Reply(words, files),
                )
                if status == cases.OPEN:
                    notices.append(WAITING_FOR_A_VOLUNTEER.format(handle=handle))
    if case is None:
        text = (
            "To talk to the volunteer about your anonymous request, reply in the thread "
            f"under the message about {', '.join(handles[:3])}."
        )
        try:
            client.chat_postMessage(channel=channel, text=text, blocks=notice_blocks(text))
        except (SlackClientError, OSError) as error:
            logger.warning("help for a requester not sent (%s)", type(error).__name__)
        return
    for text in notices:
        tell_requester(client, deps, case_id, text)
    if relay_id is not None and status == cases.TAKEN:
        sync_now(client, deps, relay_id)


def _changed_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The person's message an edit or deletion event is about (None if it is not one)."""
    subtype = event.get("subtype")
    inner = event.get("message") if subtype == _EDIT else event.get("previous_message")
    if subtype not in (_EDIT, _DELETE) or not isinstance(inner, dict):
        return None
    if inner.get("bot_id") or not inner.get("user") or not inner.get("thread_ts"):
        return None
    return inner


def is_requester_edit(body: dict[str, Any], deps: Deps) -> bool:
    """A person editing or deleting their own message in one of their case threads."""
    event = Payload.of(body).event
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return False
    inner = _changed_message(event)
    if inner is None or not event.get("channel"):
        return False
    with deps.db.read() as session:  # before the ack: never waits for SQLite's writer
        return (
            cases.case_in_thread(
                session,
                deps.privacy,
                user_id=str(inner["user"]),
                channel=str(event["channel"]),
                thread_ts=str(inner["thread_ts"]),
            )
            is not None
        )


def on_requester_edit(payload: Payload, client: WebClient, deps: Deps) -> None:
    """The requester edited or deleted a reply: the volunteer's copy follows, once.

    An edit shows the new words, redacted; a deletion leaves a note without the words. Kept
    as a due item with the change, like the reply itself.
    """
    p = deps.privacy
    event = payload.event
    inner = _changed_message(event)
    if inner is None:
        return
    ts = str(event.get("deleted_ts") or inner.get("ts") or "")
    with deps.db.session() as session:
        if not request_store.claim_event(session, event_id=payload.event_id):
            return
        case = cases.case_in_thread(
            session,
            p,
            user_id=str(inner["user"]),
            channel=str(event["channel"]),
            thread_ts=str(inner["thread_ts"]),
        )
        if case is None or case.id is None or not ts:
            return
        reply: relays.Reply | None = None
        if event.get("subtype") == _EDIT:
            words = str(inner.get("text") or "").strip()
            before = (event.get("previous_message") or {}).get("text")
            if before is not None and str(before).strip() == words:
                return  # not an edit of the words (an unfurl, say)
            reply = relays.Reply(words, bool(inner.get("files"))) if words else None
        relay_id = relays.change_reply(session, p, case_id=case.id, ts=ts, reply=reply)
    if relay_id is not None:
        sync_now(client, deps, relay_id)


def relay_to_requester(
    client: WebClient,
    deps: Deps,
    *,
    request_id: int,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Send a message to an anonymous requester's DM thread for their case (never exposing them).

    `request_id` is the ask a volunteer posted for the case in the allies channel (the request
    whose match feedback is about).
    """
    with deps.db.read() as session:
        case = anonymous_store.case_for_request(session, request_id=request_id)
        case_id = case.id if case is not None else None
    if case_id is None:
        logger.info("request %s is not an anonymous case's ask; nothing relayed", request_id)
        return
    post_to_requester(client, deps, case_id, text=text, blocks=blocks)
