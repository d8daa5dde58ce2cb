"""What a request shows in Slack, posted once and redrawn in place: the request modal,
the card in the allies channel, the chooser's offers DM, the introduction and the escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.rules import requests as rules
from bot.rules.allies import member_unit
from handlers.common.deps import Deps
from handlers.common.redraw import Drawing, Read, post_once, redraw
from messages.render import render, render_blocks
from storage import requests as store
from storage.models.programme import FORGOTTEN
from storage.models.requests import AllyRequest


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


def id_of(request: AllyRequest) -> int:
    assert request.id is not None
    return request.id


def request_view(d: Deps, request: AllyRequest) -> RequestView:
    category = d.content.category(request.category)
    return RequestView(
        id=id_of(request),
        status=request.status,
        category_label=category.label if category else request.category,
        details=request.details,
        timing=request.timing,
        requester_id=request.requester_id,
        on_behalf_of=request.on_behalf_of,
    )


def _card(d: Deps, request: AllyRequest) -> list[dict[str, Any]]:
    return render_blocks(
        "requests/card.json.j2", r=request_view(d, request), emoji=d.settings.interest_emoji
    )


def _fallback(d: Deps, request: AllyRequest) -> str:
    # Notification text: never the user's words (they are shown escaped in the blocks).
    return f"An allyship request: {request_view(d, request).category_label}"


def card_key(request_id: int) -> str:
    """The send of a request's card (bot.jobs.once)."""
    return f"request:{request_id}/card"


def post_card(client: WebClient, deps: Deps, request_id: int) -> bool:
    """Post the request's card to the allies channel once; False if it was already posted
    (or the request is no longer open: it was withdrawn before its card went up).

    The submission and the scheduled safety net (rules.CARD) both come here; the post is made
    once (bot.jobs.once) with its ts recorded on the request, and redrawn at once if the
    request changed while it was being posted.
    """
    with deps.db.read() as session:
        request = store.get_request(session, request_id=request_id)
        if request is None or request.card_ts or request.status != rules.OPEN:
            return False
        text, blocks = _fallback(deps, request), _card(deps, request)

    return post_once(
        client,
        deps.db,
        card_key(request_id),
        channel=deps.settings.allies_channel,
        text=text,
        blocks=blocks,
        record=lambda session, channel, ts: store.record_card(
            session, request_id=request_id, channel=channel, ts=ts
        ),
        read=_card_read(deps, request_id),
    ).sent


def refresh_card(client: WebClient, d: Deps, request_id: int) -> None:
    """Show the request's current state on its card (no live button once it is not open)."""
    redraw(client, d.db, _card_read(d, request_id))


def _card_read(d: Deps, request_id: int) -> Read:
    def read(session: Session) -> Drawing | None:
        request = store.get_request(session, request_id=request_id)
        if request is None or not (request.card_channel and request.card_ts):
            return None
        return Drawing(
            request.card_channel, request.card_ts, _fallback(d, request), _card(d, request)
        )

    return read


def confirm_once(client: WebClient, d: Deps, request_id: int) -> None:
    """Tell the requester their card is up, once, then retire the due card post.

    Nothing is sent before the card is up; the submission and the sweep make one message
    between them (bot.jobs.once).
    """
    with d.db.read() as session:
        request = store.get_request(session, request_id=request_id)
        if request is None or not request.card_ts:
            return
        requester = request.requester_id
        blocks = render_blocks("requests/confirmation.json.j2", r=request_view(d, request))

    def send() -> str:
        assert requester is not None
        answer = client.chat_postMessage(
            channel=requester, text="Your request for an ally was posted.", blocks=blocks
        )
        return str(answer.get("ts") or "")

    key = f"request:{request_id}/confirmation"
    if requester not in (None, FORGOTTEN) and not once.send_once(d.db, key, send).settled:
        return  # being sent elsewhere: the due card post stays as its safety net
    with d.db.session() as session:
        jobs.cancel(session, key=rules.card_key(request_id))


def refresh_offers(client: WebClient, d: Deps, request_id: int) -> None:
    """Post the chooser's offers DM on the first offer, then keep it up to date in place.

    Two offers at once make one post (bot.jobs.once): the one that finds the post under way
    leaves it to the poster, who redraws after recording the post if an offer came meanwhile.
    """
    with d.db.read() as session:
        request = store.get_request(session, request_id=request_id)
        if request is None or request.chooser_id in (None, FORGOTTEN):
            return
        first = request.offers_ts is None
        text, blocks = _offers_message(d, session, request)
        chooser = request.chooser_id
        if first and not rules.offering_allies(session, request_id=request_id):
            return
    read = _offers_read(d, request_id)
    if first:
        posted = post_once(
            client,
            d.db,
            f"request:{request_id}/offers",
            channel=str(chooser),
            text=text,
            blocks=blocks,
            record=lambda session, channel, ts: store.record_offers(
                session, request_id=request_id, channel=channel, ts=ts
            ),
            read=read,
        )
        if posted.sent or not posted.settled:
            return  # posted and drawn; or being posted by another, which draws after
    redraw(client, d.db, read)


def _offers_read(d: Deps, request_id: int) -> Read:
    def read(session: Session) -> Drawing | None:
        request = store.get_request(session, request_id=request_id)
        if request is None or request.offers_ts is None or request.chooser_id == FORGOTTEN:
            return None
        channel = request.offers_channel or str(request.chooser_id)
        return Drawing(channel, request.offers_ts, *_offers_message(d, session, request))

    return read


def _offers_message(
    d: Deps, session: Session, request: AllyRequest
) -> tuple[str, list[dict[str, Any]]]:
    """The offers DM's text and blocks for the request as it is now."""
    assert request.id is not None
    offers = _offer_views(session, request.id)
    match = store.match_for(session, request_id=request.id)
    blocks = render_blocks(
        "requests/offers.json.j2",
        r=request_view(d, request),
        offers=offers,
        chosen=match.ally_user_id if match and match.ally_user_id != FORGOTTEN else None,
        introduced=bool(match and match.conversation_id),
    )
    return f"{len(offers)} ally(s) offered to help with your request", blocks


def _offer_views(session: Session, request_id: int) -> list[OfferView]:
    views = []
    for offer in rules.offering_allies(session, request_id=request_id):
        unit = member_unit(session, user_id=offer.ally_user_id)
        assert offer.id is not None
        views.append(OfferView(offer.id, offer.ally_user_id, unit.name if unit else None))
    return views


def notice_blocks(text: str, *, join: bool = False) -> list[dict[str, Any]]:
    return render_blocks("requests/notice.json.j2", text=text, join=join)


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
        ts, blocks = request.escalation_ts, escalation_blocks(d, request)
    client.chat_update(
        channel=d.settings.volunteers_channel,
        ts=ts,
        text="A request for an ally has had no offer yet.",
        blocks=blocks,
    )


def escalation_blocks(d: Deps, request: AllyRequest) -> list[dict[str, Any]]:
    return render_blocks("requests/escalation.json.j2", r=request_view(d, request))


def tell(client: WebClient, channel: str, text: str) -> None:
    client.chat_postMessage(channel=channel, text=text, blocks=notice_blocks(text))
