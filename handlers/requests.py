"""The Slack surface of allyship requests (SPEC 2.1, 2.2): modal, card, offers, choice, withdrawal.

Each listener parses, checks, calls the rules in bot.rules.requests, renders and sends. Messages
that several clicks may want to post at once (the card, the chooser's offers DM, the
escalation) are posted under a row lock on the request, and their ts stored in the same
unit of work, so a race ends in one post followed by updates. A named request's card has a
due item (rules.CARD) written with the request: if the first post fails, the sweep posts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.jobs import queue as jobs
from bot.privacy import privacy
from bot.rules import requests as rules
from bot.rules.allies import member_unit
from bot.rules.errors import InvalidInput, NotAllowed, NotFound, UserFacingError
from handlers import anonymous
from handlers.common.client import trigger_client
from handlers.common.commands import Invocation, Routes
from handlers.common.deps import Deps, deps, with_deps
from handlers.common.followups import Step, StepsPending, run_steps
from handlers.common.replies import tell_privately
from handlers.common.roster import VolunteerRoster
from messages.render import render, render_blocks
from storage import anonymous as anonymous_store
from storage import requests as store
from storage.models.programme import FORGOTTEN
from storage.models.requests import AllyRequest

logger = logging.getLogger(__name__)


class Ids(StrEnum):
    """The public callback_id, action_id and block_id strings of this feature (SPEC 5)."""

    REQUEST_VIEW = "allyship_request"
    SHORTCUT = "ask_for_an_ally"
    OPEN_MODAL = "open_request_modal"
    OFFER = "offer_help"
    CHOOSE = "choose_ally"
    WITHDRAW = "withdraw_request"
    REPORT = "report_misuse"
    KIND = "kind"
    CATEGORY = "category"
    DETAILS = "details"
    TIMING = "timing"
    CONSENT = "consent"


@dataclass(frozen=True)
class RequestView:
    """What the templates show of a request."""

    id: int
    status: str
    category_label: str
    # None once the text was purged after the retention period (the card says so).
    details: str | None
    timing: str | None
    requester_id: str | None
    on_behalf_of: str | None


@dataclass(frozen=True)
class OfferView:
    """One offering ally as the chooser sees them."""

    id: int
    ally_user_id: str
    business_unit: str | None


class FollowupsPending(UserFacingError):
    """The match is recorded but a follow-up failed; the scheduled item finishes it."""


class CardPending(UserFacingError):
    """The request is recorded but its card could not be posted; the scheduled item posts it."""


class WithdrawalPending(UserFacingError):
    """The withdrawal is recorded but a message about it could not be updated or sent."""


def register(app: App, routes: Routes) -> None:
    """Register the request modal, card buttons, reactions, escalation and match follow-ups."""
    # Choosing and withdrawing on a case's ask also need current volunteer membership.
    routes.ally.bare = on_ally_bare_command
    app.shortcut(Ids.SHORTCUT.value)(on_ask_shortcut)
    app.action(Ids.OPEN_MODAL.value)(on_open_modal_button)
    app.view(Ids.REQUEST_VIEW.value)(on_request_submitted)
    app.action(Ids.OFFER.value)(on_offer_button)
    app.action(Ids.CHOOSE.value)(with_deps(on_choose_button))
    app.action(Ids.WITHDRAW.value)(with_deps(on_withdraw_button))
    app.action(Ids.REPORT.value)(on_report_button)
    app.event("reaction_added")(on_reaction_added)
    app.event("reaction_removed")(on_reaction_removed)
    routes.due[rules.ESCALATE] = on_escalation_due
    routes.due[rules.MATCH_FOLLOWUPS] = on_match_followups_due
    routes.due[rules.CARD] = on_card_due
    routes.due[rules.WITHDRAWAL] = on_withdrawal_due


# the modal


def request_modal(deps: Deps, prefill: rules.RequestForm | None = None) -> dict[str, Any]:
    """The `allyship_request` view, with the text kept when prefilled."""
    view = render(
        "requests/modal.json.j2",
        categories=deps.content.categories,
        not_for=deps.content.not_for,
        prefill=prefill,
    )
    assert isinstance(view, dict)
    return view


def _open_modal(ack: Ack, client: WebClient, d: Deps, trigger_id: str, user_id: str) -> None:
    """Open the request modal with the trigger, ack, then fetch the person's names.

    views.open comes first (the trigger lives 3 s and works once); the names, for an anonymous
    preview's redaction, are fetched after the ack so that the modal never waits for them.
    """
    try:
        trigger_client(client).views_open(trigger_id=trigger_id, view=request_modal(d))
    finally:
        ack()
    anonymous.prefetch_identity(client, d, user_id)


def on_ally_bare_command(call: Invocation) -> None:
    """`/ally` alone opens the request modal (the trigger is used before the ack)."""
    _open_modal(call.ack, call.client, call.deps, call.command["trigger_id"], call.user_id)


def on_ask_shortcut(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """The global shortcut "Ask for an ally" opens the request modal."""
    _open_modal(ack, client, deps(context), body["trigger_id"], body["user"]["id"])


def on_open_modal_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """The "Ask for an ally" button (App Home, help) opens the request modal."""
    _open_modal(ack, client, deps(context), body["trigger_id"], body["user"]["id"])


def on_request_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Validate before the ack (modal errors); create, post the card and confirm after it.

    The request and its due card post (rules.CARD) are committed together: if the first post
    fails, the asker is told it will follow, and the sweep posts it and confirms (on_card_due).
    """
    d = deps(context)
    user_id = body["user"]["id"]
    view = body["view"]
    try:
        form = rules.parse_request_form(view.get("state", {}).get("values", {}), d.content)
    except InvalidInput as error:
        ack(response_action="errors", errors={error.block_id or Ids.DETAILS: error.message})
        return
    if form.kind == rules.ANONYMOUS:
        anonymous.on_anonymous_request_submitted(ack, body, client, d, form)
        return
    try:
        with d.db.read() as session:  # before the ack: never waits for SQLite's writer
            rules.check_open_limit(session, requester_id=user_id)
    except InvalidInput as error:
        ack(response_action="errors", errors={error.block_id or Ids.DETAILS: error.message})
        return
    ack()
    with d.db.session() as session:
        request = rules.create_request(
            session,
            kind=rules.NAMED,
            category=form.category,
            details=form.details,
            timing=form.timing,
            requester_id=user_id,
            chooser_id=user_id,
            on_behalf_of=None,
            submission_key=str(view["id"]),
        )
        rules.schedule_escalation(session, request=request, settings=d.settings)
        rules.schedule_card(session, request=request)
        request_id = _id(request)
    try:
        post_card(client, d, request_id)
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
        _confirm_once(client, d, request_id)
    except (SlackApiError, OSError) as error:  # the card is up; the sweep confirms later
        logger.warning(
            "request %s confirmation not sent (%s); the sweep will send it",
            request_id,
            type(error).__name__,
        )


# the card and the messages about a request


def _id(request: AllyRequest) -> int:
    assert request.id is not None
    return request.id


def _view(d: Deps, request: AllyRequest) -> RequestView:
    category = d.content.category(request.category)
    return RequestView(
        id=_id(request),
        status=request.status,
        category_label=category.label if category else request.category,
        details=request.details,
        timing=request.timing,
        requester_id=request.requester_id,
        on_behalf_of=request.on_behalf_of,
    )


def _card(d: Deps, request: AllyRequest) -> list[dict[str, Any]]:
    return render_blocks(
        "requests/card.json.j2", r=_view(d, request), emoji=d.settings.interest_emoji
    )


def _fallback(d: Deps, request: AllyRequest) -> str:
    # Notification text: never the user's words (they are shown escaped in the blocks).
    return f"An allyship request: {_view(d, request).category_label}"


def post_card(client: WebClient, deps: Deps, request_id: int) -> bool:
    """Post the request's card to the allies channel once; False if it was already posted
    (or the request is no longer open: it was withdrawn before its card went up).

    The submission and the scheduled safety net (rules.CARD) both come here: the request row
    is locked while card_ts is checked, the card posted and its ts recorded.
    """
    with deps.db.session() as session:
        request = store.get_request(session, request_id=request_id, lock=True)
        if request is None or request.card_ts or request.status != rules.OPEN:
            return False
        answer = client.chat_postMessage(
            channel=deps.settings.allies_channel,
            text=_fallback(deps, request),
            blocks=_card(deps, request),
        )
        request.card_channel, request.card_ts = answer["channel"], answer["ts"]
        session.add(request)
    return True


def refresh_card(client: WebClient, d: Deps, request_id: int) -> None:
    """Show the request's current state on its card (no live button once it is not open)."""
    with d.db.session() as session:
        # Locked while it is redrawn: two redraws at once apply in turn, the newer state last.
        request = store.get_request(session, request_id=request_id, lock=True)
        if request is None or not (request.card_channel and request.card_ts):
            return
        client.chat_update(
            channel=request.card_channel,
            ts=request.card_ts,
            text=_fallback(d, request),
            blocks=_card(d, request),
        )


def _confirm_once(client: WebClient, d: Deps, request_id: int) -> None:
    """Tell the requester their card is up, once, then retire the due card post.

    Under the request's row lock, the due item's record says whether it was sent, so the
    submission and the sweep never both confirm. Nothing is sent before the card is up.
    """
    key = rules.card_key(request_id)
    with d.db.session() as session:
        request = store.get_request(session, request_id=request_id, lock=True)
        if request is None or not request.card_ts:
            return
        item = jobs.find(session, key=key)
        if request.requester_id in (None, FORGOTTEN) or (
            item is not None and "confirmation" in (item.sent or {})
        ):
            jobs.cancel(session, key=key)
            return
        answer = client.chat_postMessage(
            channel=request.requester_id,
            text="Your request for an ally was posted.",
            blocks=render_blocks("requests/confirmation.json.j2", r=_view(d, request)),
        )
        jobs.record_sent(session, key=key, name="confirmation", value=str(answer.get("ts") or ""))
        jobs.cancel(session, key=key)


def on_card_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of a named request's card: post it if still missing, then confirm."""
    request_id = int((item.payload or {}).get("request_id") or str(item.key).rpartition(":")[2])
    post_card(client, deps, request_id)
    _confirm_once(client, deps, request_id)


def refresh_offers(client: WebClient, d: Deps, request_id: int) -> None:
    """Post the chooser's offers DM on the first offer, then keep it up to date in place."""
    with d.db.session() as session:
        # Locked: two offers arriving at once make one post, then an update.
        request = store.get_request(session, request_id=request_id, lock=True)
        if request is None or request.chooser_id in (None, FORGOTTEN):
            return
        offers = _offer_views(session, request_id)
        if request.offers_ts is None and not offers:
            return
        match = store.match_for(session, request_id=request_id)
        blocks = render_blocks(
            "requests/offers.json.j2",
            r=_view(d, request),
            offers=offers,
            chosen=match.ally_user_id if match and match.ally_user_id != FORGOTTEN else None,
            introduced=bool(match and match.conversation_id),
        )
        text = f"{len(offers)} ally(s) offered to help with your request"
        if request.offers_ts is None:
            answer = client.chat_postMessage(channel=request.chooser_id, text=text, blocks=blocks)
            request.offers_channel, request.offers_ts = answer["channel"], answer["ts"]
            session.add(request)
        else:
            client.chat_update(
                channel=request.offers_channel or request.chooser_id,
                ts=request.offers_ts,
                text=text,
                blocks=blocks,
            )


def _offer_views(session: Session, request_id: int) -> list[OfferView]:
    views = []
    for offer in rules.offering_allies(session, request_id=request_id):
        unit = member_unit(session, user_id=offer.ally_user_id)
        assert offer.id is not None
        views.append(OfferView(offer.id, offer.ally_user_id, unit.name if unit else None))
    return views


def _notice(text: str, *, join: bool = False) -> list[dict[str, Any]]:
    return render_blocks("requests/notice.json.j2", text=text, join=join)


def _request_id(body: dict[str, Any]) -> int:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise NotFound("That button no longer works.") from None


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id")


# offers


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
                privacy=privacy(d.settings),
            )
    except rules.NotAnAlly as refusal:
        tell_privately(
            client,
            user_id=user_id,
            channel_id=where,
            text=refusal.message,
            blocks=_notice(refusal.message, join=True),
        )
        return
    if source == "button":
        text = (
            "Thank you! The person who asked will see your offer and may choose you."
            if result.added
            else "You have already offered to help with this request. Thank you!"
        )
        tell_privately(client, user_id=user_id, channel_id=where, text=text, blocks=_notice(text))
    if result.added:
        refresh_offers(client, d, request_id)


def on_offer_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """ "I can help" on a card: the same offer as a reaction, recorded once per ally."""
    ack()
    _offer(
        client,
        deps(context),
        request_id=_request_id(body),
        user_id=body["user"]["id"],
        source="button",
        where=_channel(body),
    )


def _base_emoji(reaction: object) -> str:
    """The emoji's name without its skin tone (`raised_hand::skin-tone-3` is `raised_hand`)."""
    return str(reaction or "").partition("::")[0]


def _reaction_request(
    session: Session, d: Deps, body: dict[str, Any], event: dict[str, Any]
) -> AllyRequest | None:
    """The request whose card got this reaction, or None (other emoji, other message, retry)."""
    item = event.get("item") or {}
    if _base_emoji(event.get("reaction")) != d.settings.interest_emoji:
        return None
    if item.get("type") != "message":
        return None
    if item.get("channel") != d.settings.allies_channel or not item.get("ts"):
        return None
    if not store.claim_event(session, event_id=str(body.get("event_id") or "")):
        return None
    return store.request_by_card(session, channel=item["channel"], ts=str(item["ts"]))


def on_reaction_added(
    body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
) -> None:
    """Reacting to a card with ALLYBOT_INTEREST_EMOJI offers help, like the button."""
    d = deps(context)
    user_id = str(event.get("user") or "")
    refusal: UserFacingError | None = None
    with d.db.session() as session:
        request = _reaction_request(session, d, body, event)
        if request is None:
            return
        request_id = _id(request)
        try:
            # The event stays marked as handled even when the offer is refused.
            with session.begin_nested():
                result = rules.record_offer(
                    session,
                    request_id=request_id,
                    ally_user_id=user_id,
                    source="reaction",
                    privacy=privacy(d.settings),
                )
        except UserFacingError as error:
            refusal = error
    if refusal is not None:
        join = isinstance(refusal, rules.NotAnAlly)
        tell_privately(
            client,
            user_id=user_id,
            channel_id=d.settings.allies_channel,
            text=refusal.message,
            blocks=_notice(refusal.message, join=join),
        )
    elif result.added:
        refresh_offers(client, d, request_id)


def on_reaction_removed(
    body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
) -> None:
    """Removing the reaction withdraws the offer while nobody is chosen."""
    d = deps(context)
    with d.db.session() as session:
        request = _reaction_request(session, d, body, event)
        if request is None:
            return
        request_id = _id(request)
        changed = rules.withdraw_offer(
            session, request_id=request_id, ally_user_id=str(event.get("user") or "")
        )
    if changed:
        refresh_offers(client, d, request_id)


# the choice


def _on_behalf_of(d: Deps, *, request_id: int | None = None, offer_id: int | None = None) -> bool:
    """Whether the request (or the offer's request) was made on behalf of a case (read-only)."""
    with d.db.read() as session:
        if offer_id is not None:
            offer = store.get_offer(session, offer_id=offer_id)
            request_id = offer.request_id if offer else None
        request = store.get_request(session, request_id=request_id) if request_id else None
        return request is not None and bool(request.on_behalf_of)


def _require_volunteer_for_case(
    client: WebClient, roster: VolunteerRoster, on_behalf_of_case: bool, user_id: str
) -> None:
    """An ask made on behalf of a case is handled only by a current volunteer."""
    if on_behalf_of_case and not roster.is_volunteer(client, user_id):
        raise NotAllowed(
            "Only the programme's volunteers (members of the volunteers channel) can do this."
        )


def on_choose_button(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """The chooser picks an ally: one match, the pair introduced, the others thanked."""
    ack()
    user_id = body["user"]["id"]
    offer_id = _request_id(body)
    _require_volunteer_for_case(client, roster, _on_behalf_of(d, offer_id=offer_id), user_id)
    with d.db.session() as session:
        match = rules.choose_offer(
            session, offer_id=offer_id, chooser_id=user_id, settings=d.settings
        )
        assert match.id is not None
        match_id = match.id
    run_match_followups(client, d, match_id=match_id)


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
        steps.append(("case", lambda: anonymous.after_case_match(client, d, match_id=match_id)))
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
                r=_view(d, request),
                chooser=request.chooser_id,
                ally=match.ally_user_id,
                tips=d.content.tips,
                feedback_in=in_words(d.settings.feedback_after),
            ),
        )
        match.conversation_id = channel
        match.intro_ts = posted.get("ts")
        session.add(match)


_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def in_words(duration: timedelta) -> str:
    """A duration as people say it: `in 7 days`, `in 2 hours`, `in 90 minutes`."""
    seconds = max(int(duration.total_seconds()), 1)
    unit, size = next((unit, size) for unit, size in _UNITS if seconds % size == 0)
    count = seconds // size
    return f"in {count} {unit}{'' if count == 1 else 's'}"


def refresh_intro(client: WebClient, d: Deps, *, request_id: int) -> None:
    """Once a request's text is deleted, or one of the pair forgotten, the introduction is
    cleared (it showed the text and named both)."""
    with d.db.read() as session:
        match = store.match_for(session, request_id=request_id)
        request = store.get_request(session, request_id=request_id)
        if match is None or request is None:
            return
        if request.details is not None and FORGOTTEN not in (
            request.chooser_id,
            match.ally_user_id,
        ):
            return
        channel, ts = match.conversation_id, match.intro_ts
    if not (channel and ts):
        return
    text = "The text of this request has been deleted."
    client.chat_update(
        channel=channel,
        ts=ts,
        text=text,
        blocks=render_blocks("requests/intro_deleted.json.j2"),
    )


def refresh_escalation(client: WebClient, d: Deps, *, request_id: int) -> None:
    """Show the request's current state in its escalation to the volunteers, if it had one."""
    with d.db.read() as session:
        request = store.get_request(session, request_id=request_id)
        if request is None or request.escalation_ts is None:
            return
        ts, blocks = request.escalation_ts, _escalation(d, request)
    client.chat_update(
        channel=d.settings.volunteers_channel,
        ts=ts,
        text="A request for an ally has had no offer yet.",
        blocks=blocks,
    )


def _escalation(d: Deps, request: AllyRequest) -> list[dict[str, Any]]:
    return render_blocks("requests/escalation.json.j2", r=_view(d, request))


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
            answer = client.chat_postMessage(channel=user_id, text=text, blocks=_notice(text))
            _record(session, match_id, f"thanked:{user_id}", str(answer.get("ts") or ""))


# withdrawal and misuse


def on_withdraw_button(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """The asker withdraws an open request; the card says so, offering allies are told.

    Once the withdrawal is committed, each message about it is a separate step: one failing
    (the button's own message, say) never keeps the card or the offering allies from hearing.
    """
    ack()
    request_id = _request_id(body)
    user_id = body["user"]["id"]
    _require_volunteer_for_case(client, roster, _on_behalf_of(d, request_id=request_id), user_id)
    with d.db.session() as session:
        case = anonymous_store.case_for_request(session, request_id=request_id)
        request = rules.withdraw_request(session, request_id=request_id, user_id=user_id)
        view = _view(d, request)
        key, payload = rules.schedule_withdrawal_followups(
            session, request_id=request_id, case_id=case.id if case is not None else None
        )
    shown = _step_ran(
        request_id, "button's message", lambda: _show_withdrawn(client, d, body, view)
    )
    try:
        run_steps(d, key=key, steps=_withdrawal_steps(client, d, payload), what=_WITHDRAWAL)
    except StepsPending:
        shown = False
    if not shown:
        raise WithdrawalPending(
            "Your request is withdrawn. I could not update every message about it just now, "
            "so some may show it as open for a little while."
        )


_WITHDRAWAL = "withdrawal"
_WITHDRAWN_FOR_ALLY = (
    "The request you offered to help with was withdrawn by the person who asked. Thank you!"
)


def _withdrawal_steps(client: WebClient, d: Deps, payload: dict[str, Any]) -> list[Step]:
    """The cards redrawn (the case's, which may ask the allies again; the request's; its
    offers DM), then each offering ally told, once."""
    request_id = int(payload["request_id"])
    steps = []
    if payload.get("case_id") is not None:
        case_id = int(payload["case_id"])
        steps.append(Step(lambda: anonymous.refresh_card(client, d, case_id)))
    steps += [
        Step(lambda: refresh_card(client, d, request_id)),
        Step(lambda: refresh_offers(client, d, request_id)),
    ]
    for ally in payload.get("offering", []):
        if ally != FORGOTTEN:
            steps.append(Step(partial(_tell, client, str(ally), _WITHDRAWN_FOR_ALLY), alone=True))
    return steps


def on_withdrawal_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of a withdrawal: the messages the listener could not update or send."""
    steps = _withdrawal_steps(client, deps, dict(item.payload or {}))
    run_steps(deps, key=str(item.key), steps=steps, what=_WITHDRAWAL)


def _tell(client: WebClient, channel: str, text: str) -> None:
    client.chat_postMessage(channel=channel, text=text, blocks=_notice(text))


def _step_ran(request_id: int, name: str, step: Callable[[], None]) -> bool:
    """Run one step after a withdrawal; False (logged) if it failed."""
    try:
        step()
    except Exception as error:  # the other steps still run
        logger.warning(
            "request %s withdrawn: %s failed (%s)", request_id, name, type(error).__name__
        )
        return False
    return True


def _show_withdrawn(client: WebClient, d: Deps, body: dict[str, Any], view: RequestView) -> None:
    """Redraw what the Withdraw button was on: a message, an ephemeral reply, or the Home tab.

    chat.update cannot edit an ephemeral message (the `/ally status` reply): that one is
    replaced through the action's response_url, with the person's status as it is now.
    """
    from handlers.home import STATUS_TEXT, publish_home, status_blocks

    user_id = body["user"]["id"]
    container = body.get("container") or {}
    if container.get("type") == "message" and container.get("is_ephemeral"):
        response_url = body.get("response_url")
        if not response_url:
            text = "You withdrew this request."
            tell_privately(client, user_id=user_id, text=text, blocks=_notice(text))
            return
        answer = WebhookClient(response_url).send(
            replace_original=True, text=STATUS_TEXT, blocks=status_blocks(d, user_id)
        )
        if answer.status_code != 200:
            raise OSError(f"response_url answered {answer.status_code}")
    elif container.get("type") == "message" and container.get("message_ts"):
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text="You withdrew this request.",
            blocks=render_blocks("requests/confirmation.json.j2", r=view),
        )
    else:
        publish_home(client, d, user_id=user_id)


def _misuse_key(d: Deps, *, request_id: int, user_id: str) -> str:
    """The processed-event key of one person's report on one request: a keyed hash of both,
    within the column's 64 characters. Not the reporter's own marker, which anonymous cases
    carry: the note in the volunteers channel names the reporter, so that would tie them."""
    return f"misuse:{privacy(d.settings).marker(f'misuse:{request_id}:{user_id}')[:56]}"


def on_report_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """ "Report misuse": tell the volunteers once per request and reporter; thank privately.

    The report is claimed (a processed event) and the note posted in one unit of work: a
    double click or a retry posts once, and a failed post leaves nothing claimed.
    """
    ack()
    d = deps(context)
    request_id = _request_id(body)
    user_id = body["user"]["id"]
    with d.db.session() as session:
        request = store.get_request(session, request_id=request_id)
        if request is None:
            raise NotFound("That request no longer exists.")
        key = _misuse_key(d, request_id=request_id, user_id=user_id)
        reported = store.claim_event(session, event_id=key)
        if reported:
            client.chat_postMessage(
                channel=d.settings.volunteers_channel,
                text=f"Request #{request_id} was reported as possible misuse.",
                blocks=render_blocks(
                    "requests/misuse_note.json.j2",
                    reporter=user_id,
                    request_id=request_id,
                    category_label=_view(d, request).category_label,
                ),
            )
    text = (
        "Thank you for telling us. The programme's volunteers will review this request."
        if reported
        else "You have already reported this request. Thank you: it is with the volunteers."
    )
    tell_privately(
        client, user_id=user_id, channel_id=_channel(body), text=text, blocks=_notice(text)
    )


# escalation


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
            blocks=_escalation(deps, request),
        )
        request.escalation_ts = answer["ts"]
        session.add(request)
