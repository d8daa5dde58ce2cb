"""Listeners for requests: the modal, card buttons, reactions, withdrawal and misuse reports.

Each listener parses, checks, calls the rules in bot.rules.requests, renders and sends. Messages
that several clicks may want to post at once (the card, the chooser's offers DM, the
escalation) are posted under a row lock on the request, and their ts stored in the same
unit of work, so a race ends in one post followed by updates. A named request's card has a
due item (rules.CARD) written with the request: if the first post fails, the sweep posts it.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.jobs import once
from bot.rules import requests as rules
from bot.rules.errors import InvalidInput, UserFacingError
from handlers.anonymous import asking as case_asking
from handlers.anonymous import surface as case_surface
from handlers.common.client import trigger_client
from handlers.common.commands import Invocation, Routes
from handlers.common.deps import Deps
from handlers.common.listeners import Listeners
from handlers.common.payload import Payload
from handlers.common.permissions import ANYONE, request_chooser, request_requester
from handlers.common.replies import tell_privately
from handlers.home import STATUS_TEXT, publish_home, status_blocks
from handlers.requests.followups import (
    WITHDRAWAL,
    CardPending,
    WithdrawalPending,
    on_card_due,
    on_escalation_due,
    on_match_followups_due,
    on_withdrawal_due,
    run_match_followups,
    step_ran,
    withdrawal_steps,
)
from handlers.requests.ids import Ids
from handlers.requests.surface import (
    RequestView,
    confirm_once,
    id_of,
    notice_blocks,
    post_card,
    refresh_offers,
    request_modal,
    request_view,
)
from handlers.surveys import misuse as misuse_review
from messages.render import render_blocks
from storage import anonymous as anonymous_store
from storage import requests as store
from storage.models.requests import AllyRequest

logger = logging.getLogger(__name__)


def _button_id(payload: Payload) -> int:
    """The request (or offer) id a card button carries."""
    return payload.action_int()


def register(on: Listeners, routes: Routes) -> None:
    """Register the request modal, card buttons, reactions, escalation and match follow-ups."""
    routes.ally.bare = on_ally_bare_command
    on.shortcut(Ids.SHORTCUT, allow=ANYONE)(on_ask_shortcut)
    on.action(Ids.OPEN_MODAL, allow=ANYONE)(on_open_modal_button)
    on.view(Ids.REQUEST_VIEW, allow=ANYONE)(on_request_submitted)
    # Offers: whether the person is an ally is the rules' (they invite them to sign up).
    on.action(Ids.OFFER, allow=ANYONE)(on_offer_button)
    # Choosing and withdrawing on a case's ask also need current volunteer membership.
    on.action(Ids.CHOOSE, allow=request_chooser(_button_id))(on_choose_button)
    on.action(Ids.WITHDRAW, allow=request_requester(_button_id))(on_withdraw_button)
    on.action(Ids.REPORT, allow=ANYONE)(on_report_button)
    on.event("reaction_added", allow=ANYONE)(on_reaction_added)
    on.event("reaction_removed", allow=ANYONE)(on_reaction_removed)
    routes.due[rules.ESCALATE] = on_escalation_due
    routes.due[rules.MATCH_FOLLOWUPS] = on_match_followups_due
    routes.due[rules.CARD] = on_card_due
    routes.due[rules.WITHDRAWAL] = on_withdrawal_due


def _open_modal(ack: Ack, client: WebClient, d: Deps, trigger_id: str, user_id: str) -> None:
    """Open the request modal with the trigger, ack, then fetch the person's names.

    views.open comes first (the trigger lives 3 s and works once); the names, for an anonymous
    preview's redaction, are fetched after the ack so that the modal never waits for them.
    """
    try:
        trigger_client(client).views_open(trigger_id=trigger_id, view=request_modal(d))
    finally:
        ack()
    case_surface.prefetch_identity(client, d, user_id)


def on_ally_bare_command(call: Invocation) -> None:
    """`/ally` alone opens the request modal (the trigger is used before the ack)."""
    _open_modal(call.ack, call.client, call.deps, call.trigger_id, call.user_id)


def on_ask_shortcut(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The global shortcut "Ask for an ally" opens the request modal."""
    _open_modal(ack, client, deps, payload.trigger_id, payload.user_id)


def on_open_modal_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The "Ask for an ally" button (App Home, help) opens the request modal."""
    _open_modal(ack, client, deps, payload.trigger_id, payload.user_id)


def on_request_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Validate before the ack (modal errors); create, post the card and confirm after it.

    The request and its due card post (rules.CARD) are committed together: if the first post
    fails, the asker is told it will follow, and the sweep posts it and confirms (on_card_due).
    """
    user_id = payload.user_id
    try:
        form = rules.parse_request_form(payload.values, deps.content)
    except InvalidInput as error:
        ack(response_action="errors", errors={error.block_id or Ids.DETAILS: error.message})
        return
    if form.kind == rules.ANONYMOUS:
        case_asking.on_anonymous_request_submitted(ack, payload, client, deps, form)
        return
    try:
        with deps.db.read() as session:  # before the ack: never waits for SQLite's writer
            misuse_review.refuse_if_paused(session, deps, user_id=user_id)
            rules.check_open_limit(session, requester_id=user_id)
    except InvalidInput as error:
        ack(response_action="errors", errors={error.block_id or Ids.DETAILS: error.message})
        return
    ack()
    with deps.db.session() as session:
        request = rules.create_request(
            session,
            kind=rules.NAMED,
            category=form.category,
            details=form.details,
            timing=form.timing,
            requester_id=user_id,
            chooser_id=user_id,
            on_behalf_of=None,
            submission_key=payload.view_id,
        )
        rules.schedule_escalation(session, request=request, settings=deps.settings)
        rules.schedule_card(session, request=request)
        request_id = id_of(request)
    try:
        post_card(client, deps, request_id)
    except (SlackApiError, OSError) as error:
        logger.warning(
            "request %s card not posted (%s); the sweep will post it",
            request_id,
            type(error).__name__,
        )
        raise CardPending(
            "Your request is saved, but I could not post it to the allies channel just now. "
            "It will be posted shortly, and I will tell you when it is. No need to ask again."
        ) from error
    try:
        confirm_once(client, deps, request_id)
    except (SlackApiError, OSError) as error:  # the card is up; the sweep confirms later
        logger.warning(
            "request %s confirmation not sent (%s); the sweep will send it",
            request_id,
            type(error).__name__,
        )


def _offer(
    client: WebClient, d: Deps, *, request_id: int, user_id: str, source: str, where: str | None
) -> None:
    try:
        with d.db.session() as session:
            result = rules.record_offer(
                session,
                request_id=request_id,
                ally_user_id=user_id,
                source=source,
                privacy=d.privacy,
            )
    except rules.NotAnAlly as refusal:
        tell_privately(
            client,
            user_id=user_id,
            channel_id=where,
            text=refusal.message,
            blocks=notice_blocks(refusal.message, join=True),
        )
        return
    if source == "button":
        text = (
            "Thank you! The person who asked will see your offer and may choose you."
            if result.added
            else "You have already offered to help with this request. Thank you!"
        )
        tell_privately(
            client, user_id=user_id, channel_id=where, text=text, blocks=notice_blocks(text)
        )
    if result.added:
        refresh_offers(client, d, request_id)


def on_offer_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """ "I can help" on a card: the same offer as a reaction, recorded once per ally."""
    ack()
    _offer(
        client,
        deps,
        request_id=payload.action_int(),
        user_id=payload.user_id,
        source="button",
        where=payload.channel_id,
    )


def _base_emoji(reaction: object) -> str:
    """The emoji's name without its skin tone (`raised_hand::skin-tone-3` is `raised_hand`)."""
    return str(reaction or "").partition("::")[0]


def _reaction_request(session: Session, d: Deps, payload: Payload) -> AllyRequest | None:
    """The request whose card got this reaction, or None (other emoji, other message, retry)."""
    event = payload.event
    item = event.get("item")
    if _base_emoji(event.get("reaction")) != d.settings.interest_emoji:
        return None
    if not isinstance(item, dict) or item.get("type") != "message":
        return None
    if item.get("channel") != d.settings.allies_channel or not item.get("ts"):
        return None
    if not store.claim_event(session, event_id=payload.event_id):
        return None
    return store.request_by_card(session, channel=item["channel"], ts=str(item["ts"]))


def on_reaction_added(payload: Payload, client: WebClient, deps: Deps) -> None:
    """Reacting to a card with ALLYBOT_INTEREST_EMOJI offers help, like the button."""
    user_id = str(payload.event.get("user") or "")
    refusal: UserFacingError | None = None
    with deps.db.session() as session:
        request = _reaction_request(session, deps, payload)
        if request is None:
            return
        request_id = id_of(request)
        try:
            # The event stays marked as handled even when the offer is refused.
            with session.begin_nested():
                result = rules.record_offer(
                    session,
                    request_id=request_id,
                    ally_user_id=user_id,
                    source="reaction",
                    privacy=deps.privacy,
                )
        except UserFacingError as error:
            refusal = error
    if refusal is not None:
        join = isinstance(refusal, rules.NotAnAlly)
        tell_privately(
            client,
            user_id=user_id,
            channel_id=deps.settings.allies_channel,
            text=refusal.message,
            blocks=notice_blocks(refusal.message, join=join),
        )
    elif result.added:
        refresh_offers(client, deps, request_id)


def on_reaction_removed(payload: Payload, client: WebClient, deps: Deps) -> None:
    """Removing the reaction withdraws the offer while nobody is chosen."""
    with deps.db.session() as session:
        request = _reaction_request(session, deps, payload)
        if request is None:
            return
        request_id = id_of(request)
        changed = rules.withdraw_offer(
            session, request_id=request_id, ally_user_id=str(payload.event.get("user") or "")
        )
    if changed:
        refresh_offers(client, deps, request_id)


def on_choose_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The chooser picks an ally: one match, the pair introduced, the others thanked."""
    ack()
    user_id = payload.user_id
    offer_id = payload.action_int()
    with deps.db.session() as session:
        match = rules.choose_offer(
            session, offer_id=offer_id, chooser_id=user_id, settings=deps.settings
        )
        assert match.id is not None
        match_id = match.id
    run_match_followups(client, deps, match_id=match_id)


def on_withdraw_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The asker withdraws an open request; the card says so, offering allies are told.

    Once the withdrawal is committed, each message about it is a separate step: one failing
    (the button's own message, say) never keeps the card or the offering allies from hearing.
    """
    ack()
    request_id = payload.action_int()
    user_id = payload.user_id
    with deps.db.session() as session:
        case = anonymous_store.case_for_request(session, request_id=request_id)
        request = rules.withdraw_request(session, request_id=request_id, user_id=user_id)
        view = request_view(deps, request)
        key, followups = rules.schedule_withdrawal_followups(
            session, request_id=request_id, case_id=case.id if case is not None else None
        )
    shown = step_ran(
        request_id, "button's message", lambda: _show_withdrawn(client, deps, payload, view)
    )
    try:
        once.run_steps(
            deps.db, key=key, steps=withdrawal_steps(client, deps, followups), what=WITHDRAWAL
        )
    except once.StepsPending:
        shown = False
    if not shown:
        raise WithdrawalPending(
            "Your request is withdrawn. I could not update every message about it just now, "
            "so some may show it as open for a little while."
        )


def _show_withdrawn(client: WebClient, d: Deps, payload: Payload, view: RequestView) -> None:
    """Redraw what the Withdraw button was on: a message, an ephemeral reply, or the Home tab.

    chat.update cannot edit an ephemeral message (the `/ally status` reply): that one is
    replaced through the action's response_url, with the person's status as it is now.
    """
    user_id = payload.user_id
    if payload.on_ephemeral:
        response_url = payload.response_url
        if not response_url:
            text = "You withdrew this request."
            tell_privately(client, user_id=user_id, text=text, blocks=notice_blocks(text))
            return
        answer = WebhookClient(response_url).send(
            replace_original=True, text=STATUS_TEXT, blocks=status_blocks(d, user_id)
        )
        if answer.status_code != 200:
            raise OSError(f"response_url answered {answer.status_code}")
    elif payload.message_ts and payload.message_channel:
        client.chat_update(
            channel=payload.message_channel,
            ts=payload.message_ts,
            text="You withdrew this request.",
            blocks=render_blocks("requests/confirmation.json.j2", r=view),
        )
    else:
        publish_home(client, d, user_id=user_id)


def on_report_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """ "Report misuse": one review card per request, with a count (handlers.surveys.misuse)."""
    misuse_review.on_report_clicked(ack, payload, client, deps)
