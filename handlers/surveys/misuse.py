"""The misuse review's Slack surface: the report card, its two buttons, admin pause commands."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session

from bot.rules import misuse
from bot.rules.errors import InvalidInput
from handlers.common.commands import Invocation
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.redraw import Drawing, post_once, redraw
from handlers.common.replies import tell_privately
from handlers.requests.surface import notice_blocks, request_view
from handlers.surveys.ids import Ids
from messages.render import render_blocks
from storage import requests as store
from storage.types import utcnow

logger = logging.getLogger(__name__)

PERSON = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
PAUSE_USAGE = "`/ally-admin pause @person` / `unpause @person`: stop or allow their requests"
# What someone who is not a volunteer is told (the decision buttons are declared for them).
ONLY_VOLUNTEERS = "Only the programme's volunteers can review misuse reports."


def card_blocks(d: Deps, state: misuse.ReportState, category_label: str) -> list[dict[str, Any]]:
    """The report card for its current count and decision."""
    return render_blocks(
        "surveys/misuse_card.json.j2",
        report_id=state.id,
        request_id=state.request_id,
        category_label=category_label,
        reports=state.reports,
        status=state.status,
        decided_by=state.decided_by,
    )


def _card_text(state: misuse.ReportState) -> str:
    return f"Request #{state.request_id} was reported as possible misuse ({state.reports})."


def on_report_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """ "Report misuse": one card per request with a count; the reporter is thanked privately.

    The count is committed, then the card posted once or redrawn (no transaction open while
    Slack answers); a failed post takes the count back, so the person can report again. A
    second report by the same person changes nothing.
    """
    ack()
    request_id = payload.action_int()
    user_id = payload.user_id
    marker = misuse.reporter_marker(deps.privacy, request_id=request_id, user_id=user_id)
    with deps.db.session() as session:
        state = misuse.report(session, request_id=request_id, marker=marker)
    if state.counted:
        try:
            show_card(client, deps, report_id=state.id)
        except Exception:
            with deps.db.session() as session:
                shown = misuse.get(session, report_id=state.id)
                if shown is not None and shown.card_ts is None:  # no card: nobody was told
                    misuse.withdraw_report(session, report_id=state.id, marker=marker)
            raise
    text = (
        "Thank you for telling us. The programme's volunteers will review this request."
        if state.counted
        else "You have already reported this request. Thank you: it is with the volunteers."
    )
    where = payload.channel_id
    tell_privately(client, user_id=user_id, channel_id=where, text=text, blocks=notice_blocks(text))


def on_decision_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """`dismiss_report` or `pause_requester`, by a volunteer; the first decision wins."""
    ack()
    user_id = payload.user_id
    report_id = payload.action_int()
    decision = misuse.PAUSED if payload.action_id == Ids.PAUSE.value else misuse.DISMISSED
    with deps.db.session() as session:
        state = misuse.decide(
            session,
            report_id=report_id,
            decision=decision,
            by=user_id,
            privacy=deps.privacy,
            now=utcnow(),
        )
    show_card(client, deps, report_id=state.id)


def show_card(client: WebClient, d: Deps, *, report_id: int) -> None:
    """Post the report's card once (bot.jobs.once), or redraw it with the count and decision
    as they are now. A report counted while another click posts the card is shown by that
    click's redraw, which reads after the post is recorded."""

    def read(session: Session) -> tuple[misuse.ReportState, str, list[dict[str, Any]]] | None:
        state = misuse.get(session, report_id=report_id)
        if state is None:
            return None
        request = store.get_request(session, request_id=state.request_id)
        label = request_view(d, request).category_label if request else "request"
        return state, _card_text(state), card_blocks(d, state, label)

    def drawing(session: Session) -> Drawing | None:
        found = read(session)
        if found is None or not (found[0].card_channel and found[0].card_ts):
            return None
        state, text, blocks = found
        return Drawing(str(state.card_channel), str(state.card_ts), text, blocks)

    with d.db.read() as session:
        found = read(session)
    if found is None:
        return
    state, text, blocks = found
    if not state.card_ts:
        posted = post_once(
            client,
            d.db,
            f"misuse:{report_id}/card",
            channel=d.settings.volunteers_channel,
            text=text,
            blocks=blocks,
            record=lambda session, channel, ts: misuse.record_card(
                session, report_id=report_id, channel=channel, ts=ts
            ),
            read=drawing,
        )
        if posted.sent or not posted.settled:
            return  # posted and drawn; or being posted by another click, which draws after
    redraw(client, d.db, drawing)


def _person(args: str) -> str:
    found = PERSON.match(args.strip())
    if not found:
        raise InvalidInput("Name one person, e.g. `/ally-admin pause @someone`.")
    return found.group(1)


def on_pause_command(call: Invocation) -> None:
    """`/ally-admin pause @person`: they can make no request until unpaused."""
    call.ack()
    user_id = _person(call.args)
    with call.deps.db.session() as session:
        misuse.pause(session, marker=call.deps.privacy.marker(user_id))
    call.reply(f"<@{user_id}> is paused: they can make no request until you unpause them.")


def on_unpause_command(call: Invocation) -> None:
    """`/ally-admin unpause @person`: lift the pause admins see (never an anonymous case's)."""
    call.ack()
    user_id = _person(call.args)
    with call.deps.db.session() as session:
        misuse.unpause(session, marker=call.deps.privacy.marker(user_id))
    call.reply(f"<@{user_id}> is no longer paused.")


def paused_line(d: Deps, user_id: str) -> str | None:
    """What `/ally status` says about a pause, if any."""
    with d.db.read() as session:
        paused = misuse.is_paused(session, marker=d.privacy.marker(user_id))
    return misuse.PAUSED_TEXT if paused else None


def refuse_if_paused(session: Session, d: Deps, *, user_id: str) -> None:
    """A paused person's request is refused kindly, in the request form (InvalidInput)."""
    if misuse.is_paused(session, marker=d.privacy.marker(user_id)):
        raise InvalidInput(misuse.PAUSED_TEXT)
