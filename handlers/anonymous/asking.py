"""Asking anonymously: the preview, editing, confirming, and the draft's expiry."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.jobs import queue as jobs
from bot.rules.anonymous import cases, drafts
from bot.rules.errors import NotAllowed, NotFound
from bot.rules.requests import ANONYMOUS, RequestForm
from handlers.anonymous.inputs import Metadata
from handlers.anonymous.surface import (
    notice_blocks,
    open_thread,
    post_case_card,
    post_to_requester,
    prefetch_identity,
    preview_view,
    quick_identity,
    requester_names,
)
from handlers.common.client import PRE_ACK_WAIT
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.requests import surface as request_surface
from handlers.requests.ids import Ids  # the request modal's ids: errors go on its kind
from messages.render import render, render_blocks

logger = logging.getLogger(__name__)


def on_anonymous_request_submitted(
    ack: Ack, payload: Payload, client: WebClient, deps: Deps, form: Any
) -> None:
    """Answer a request modal submitted with kind `anonymous` (called by handlers.requests).

    The preview must be redacted with the requester's own names, and the ack must carry the
    finished preview: an ack of a "preparing" view completed later by views.update races with
    Slack applying that ack (a late-applied ack would overwrite the finished preview). The names
    were usually fetched when the modal opened (prefetch_identity). If they were not (another
    replica opened it, or that fetch failed), users.info is called *before* the ack with a tight
    timeout (QUICK_LOOKUP seconds). If that fails too, the preview says so and offers only
    Edit: nothing unredacted can be sent.
    """
    # Whatever fails before the ack, the submission is answered (the error is then reported).
    answer: dict[str, Any] = {
        "response_action": "errors",
        "errors": {Ids.KIND.value: "We could not prepare your preview just now. Please try again."},
    }
    try:
        user_id = payload.user_id
        p = deps.privacy
        with deps.db.read() as session:
            refusal = cases.refusal_for(session, p, user_id=user_id)
        if refusal:
            answer = {"response_action": "errors", "errors": {Ids.KIND.value: refusal}}
            return
        token = secrets.token_urlsafe(32)
        draft = drafts.Draft(category=form.category, details=form.details, timing=form.timing)
        # The sealed draft is the minimum written before the ack: Send and Edit need it at once.
        # On SQLite another writer may hold the lock (through a Web API call): wait only
        # briefly, and rather ask the person to try again than miss the ack.
        with deps.db.session(wait=PRE_ACK_WAIT) as session:
            drafts.save_draft(session, p, token=token, user_id=user_id, draft=draft)
        identity = deps.identities.get(user_id)
        if identity is None:
            identity = quick_identity(client, user_id)
            if identity is not None:
                deps.identities.put(user_id, identity)
        shown = drafts.redact_draft(draft, identity) if identity is not None else None
        answer = {"response_action": "update", "view": preview_view(deps, token, shown)}
    finally:
        ack(**answer)


def on_edit_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Back from the preview to the request modal, with the requester's text kept.

    The names are fetched again once the modal is shown, as when it is first opened.
    """
    ack()
    user_id = payload.user_id
    token = Metadata.parse(payload.private_metadata).draft
    if token is None:
        return
    p = deps.privacy
    with deps.db.session() as session:
        draft = drafts.peek_draft(session, p, token=token, user_id=user_id)
    if draft is None:
        return  # already confirmed, edited or abandoned
    prefill = RequestForm(
        kind=ANONYMOUS, category=draft.category, details=draft.details, timing=draft.timing
    )
    client.views_update(view_id=payload.view_id, view=request_surface.request_modal(deps, prefill))
    with deps.db.session() as session:
        drafts.take_draft(session, p, token=token, user_id=user_id)
    prefetch_identity(client, deps, user_id)


def on_preview_closed(ack: Ack, payload: Payload, deps: Deps) -> None:
    """The requester cancelled: their sealed draft is deleted at once."""
    ack()
    token = Metadata.parse(payload.private_metadata).draft
    if token:
        with deps.db.session() as session:
            drafts.take_draft(session, deps.privacy, token=token, user_id=payload.user_id)


def on_preview_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Confirmed: redact again on the server, file the case, post its card, open the thread.

    The case and its due card post are committed together; the card is posted at once, and if
    that fails the sweep posts it (cases.CARD) and the requester is told it is queued. If the
    requester's names cannot be had after the ack, the draft is kept (see _file_draft).
    """
    answer: dict[str, Any] = {}
    try:
        user_id = payload.user_id
        p = deps.privacy
        try:
            token = Metadata.parse(payload.private_metadata).draft
        except NotFound as error:
            # Answered in the ack, not raised: an error raised just after an ack can make
            # Bolt drop that ack.
            token = None
            answer = {
                "response_action": "update",
                "view": render(
                    "anonymous/notice_view.json.j2", title="Not sent", text=error.message
                ),
            }
        if token is None:
            return
        with deps.db.read() as session:
            refusal = cases.refusal_for(session, p, user_id=user_id)
        if refusal:
            answer = {
                "response_action": "update",
                "view": render("anonymous/notice_view.json.j2", title="Not sent", text=refusal),
            }
            return
    finally:
        ack(**answer)
    _file_draft(client, deps, user_id=user_id, token=token)


def on_send_again_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The requester sends again a confirmed request that could not be checked for names."""
    ack()
    p = deps.privacy
    user_id = payload.user_id
    token = payload.action_value
    if not token:
        raise NotFound("That button no longer works.")
    with deps.db.read() as session:
        kept = drafts.peek_draft(session, p, token=token, user_id=user_id) is not None
        refusal = cases.refusal_for(session, p, user_id=user_id)
    if not kept:
        raise NotFound(
            "This request was already sent, or it was kept for more than a day and deleted. "
            "To ask again, use `/ally`."
        )
    if refusal:
        raise NotAllowed(refusal)
    handle = _file_draft(client, deps, user_id=user_id, token=token)
    if handle and payload.message_ts and payload.message_channel:
        text = f"Your anonymous request was sent as {handle}."
        client.chat_update(
            channel=payload.message_channel,
            ts=payload.message_ts,
            text=text,
            blocks=notice_blocks(text),
        )


def _file_draft(client: WebClient, d: Deps, *, user_id: str, token: str) -> str | None:
    """File the person's confirmed draft as a case: card, thread; its handle, or None.

    The names come from users.info, else from those kept since the modal opened. With
    neither, nothing unredacted may be filed: the draft stays (sealed, a day at most) and
    the person is told, with a button to send it again.
    """
    p = d.privacy
    identity = requester_names(client, d, user_id)
    if identity is None:
        with d.db.read() as session:
            kept = drafts.peek_draft(session, p, token=token, user_id=user_id) is not None
        if kept:
            text = (
                "We could not send your anonymous request just now: we could not check it for "
                "your name. Nothing was sent to anyone. Your text is kept, sealed, for a day: "
                "press *Send again* to try again."
            )
            client.chat_postMessage(
                channel=user_id,
                text="Your anonymous request was not sent yet; your text is kept.",
                blocks=render_blocks("anonymous/draft_kept.json.j2", text=text, token=token),
            )
        return None
    with d.db.session() as session:
        draft = drafts.take_draft(session, p, token=token, user_id=user_id)
        if draft is None:
            return None  # a second submission of the same preview
        case = cases.open_case(session, p, user_id=user_id, draft=draft, identity=identity)
        case_id = case.id
        handle = case.handle
    assert case_id is not None
    logger.info("anonymous case %s filed as %s", case_id, handle)
    queued = False
    try:
        post_case_card(client, d, case_id)
    except (SlackApiError, OSError) as error:
        queued = True
        logger.warning(
            "case %s card not posted (%s); the sweep will post it", case_id, type(error).__name__
        )
    with d.db.read() as session:
        queued = queued and cases.get_case(session, case_id=case_id).card_ts is None
    open_thread(client, d, case_id, queued=queued)
    return handle


def on_draft_expiry_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """A draft nobody confirmed, edited or cancelled within a day is deleted."""
    token = item.read(drafts.DraftExpiry).draft
    if token:
        with deps.db.session() as session:
            if drafts.expire_draft(session, token=token):
                logger.info("a stale anonymous draft was deleted")


def on_case_card_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of a case's card: post it if it is still missing, then tell the requester."""
    case_id = item.read(cases.CaseItem).case_id or int(item.key.rpartition(":")[2])
    try:
        posted = post_case_card(client, deps, case_id)
    except NotFound:
        return
    if not posted:
        return
    try:
        with deps.db.read() as session:
            case = cases.get_case(session, case_id=case_id)
        if case.thread_ts is None:
            open_thread(client, deps, case_id)
        else:
            text = f"{case.handle} has reached the volunteers."
            post_to_requester(
                client,
                deps,
                case_id,
                text=text,
                blocks=notice_blocks(text),
                once_key=f"case:{case_id}/reached",
            )
    except (SlackApiError, OSError) as error:  # the card is up; telling them is a courtesy
        logger.info("case %s requester not told of the card (%s)", case_id, type(error).__name__)
