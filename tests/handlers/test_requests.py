"""Named requests through the wire: modal, card, offers, the choice, withdrawal, escalation."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.devkit.fakeslack import Call
from bot.devkit.sandbox import Sandbox
from bot.jobs import queue as jobs
from bot.rules import requests as rules
from handlers.allies import Ids as AlliesIds
from handlers.requests.ids import Ids as RequestsIds
from storage.models.requests import AllyRequest, Match
from tests.handlers.flows import (
    CONFIRMATION,
    _ask,
    _bot_in_volunteers,
    _card,
    _make_allies,
    _offer_rows,
    _offers_dm,
)
from tests.helpers import settle, until

HOSTILE = (
    "Help <!channel> <!here> <@U0BOSS> <https://x.example|y> "
    '"quoted" {braces} {{ 7*7 }} & ampersand\nnew line :tada: 🎉'
)


def _to(user: str) -> Callable[[Call], bool]:
    return lambda c: c.args.get("channel") == user


def test_ally_opens_the_modal_with_the_trigger(sqlite_sandbox: Sandbox) -> None:
    """`/ally`, the shortcut and the Home button open `allyship_request` at once."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "", user_id=user, channel_id="C0GENERAL")
    box.slack.shortcut(RequestsIds.SHORTCUT, user)
    box.slack.click_raw(user, RequestsIds.OPEN_MODAL, "home")
    calls = box.fake.wait_for("views.open", count=3)
    for call in calls:
        view = call.args["view"]
        view = json.loads(view) if isinstance(view, str) else view
        assert view["callback_id"] == RequestsIds.REQUEST_VIEW


def test_every_way_to_open_the_modal_fetches_the_names_after_views_open(
    sqlite_sandbox: Sandbox,
) -> None:
    """`/ally`, the shortcut and the button each open the modal, then call users.info."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    opens: list[Callable[[], Any]] = [
        lambda: box.slack.slash("/ally", "", user_id=user, channel_id="C0GENERAL"),
        lambda: box.slack.shortcut(RequestsIds.SHORTCUT, user),
        lambda: box.slack.click_raw(user, RequestsIds.OPEN_MODAL, "home"),
    ]
    for count, open_modal in enumerate(opens, start=1):
        assert open_modal().status == 200
        box.fake.wait_for("users.info", count=count, predicate=lambda c: c.args["user"] == user)
    methods = [c.method for c in box.fake.calls if c.method in ("views.open", "users.info")]
    assert methods == ["views.open", "users.info"] * 3
    until(lambda: box.deps.identities.get(user))


def test_a_failed_lookup_never_stops_the_modal_opening(sqlite_sandbox: Sandbox) -> None:
    """users.info failing after the shortcut: the modal is open and nobody is told of an error."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.fake.fail_next("users.info", status=500, times=3)
    assert box.slack.shortcut(RequestsIds.SHORTCUT, user).status == 200
    box.fake.wait_for("users.info", count=3, ok=False, timeout=15)
    view = box.fake.current_view(user)
    assert view is not None and view["callback_id"] == RequestsIds.REQUEST_VIEW
    settle(box)
    assert box.deps.identities.get(user) is None
    assert not box.fake.calls_to("chat.postEphemeral") and not box.fake.calls_to("chat.postMessage")


def test_named_request_posts_an_escaped_card_and_confirms(sandbox: Sandbox) -> None:
    """Hostile text arrives literal on the card (valid blocks), the asker gets a DM to withdraw."""
    box = sandbox
    card = _ask(box, HOSTILE)
    dumped = json.dumps(card["blocks"], ensure_ascii=False)
    assert "<!channel>" not in dumped and "<@U0BOSS>" not in dumped and "<https" not in dumped
    assert "&lt;!channel&gt;" in dumped and "{{ 7*7 }}" in dumped and "🎉" in dumped
    assert f"<@{box.workspace.requester.id}>" in dumped
    assert "<!channel>" not in card.get("text", "")
    buttons = {
        e["action_id"]: e["value"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }
    with box.db.session() as s:
        request = s.exec(select(AllyRequest)).one()
    assert buttons == {RequestsIds.OFFER: str(request.id), RequestsIds.REPORT: str(request.id)}
    assert (request.card_channel, request.card_ts) == (card["channel"], card["ts"])
    assert request.details == HOSTILE.strip()
    [confirmation] = until(lambda: box.fake.dm_messages(box.workspace.requester.id))
    assert RequestsIds.WITHDRAW in json.dumps(confirmation["blocks"])


def test_modal_errors_for_empty_long_text_and_missing_consent(sqlite_sandbox: Sandbox) -> None:
    """Whitespace, over 3000 characters or no consent: errors keyed by block, nothing posted."""
    box = sqlite_sandbox
    asker = box.workspace.requester.id
    box.slack.shortcut(RequestsIds.SHORTCUT, asker)
    view = until(lambda: box.fake.current_view(asker))
    base = {RequestsIds.KIND: "named", RequestsIds.CATEGORY: "listening", RequestsIds.CONSENT: True}
    for values, block in [
        ({**base, RequestsIds.DETAILS: "   \n  "}, RequestsIds.DETAILS),
        ({**base, RequestsIds.DETAILS: "x" * 3001}, RequestsIds.DETAILS),
        ({**base, RequestsIds.DETAILS: "ok", RequestsIds.CONSENT: False}, RequestsIds.CONSENT),
    ]:
        answer = box.slack.submit_view(asker, view, values).json()
        assert answer["response_action"] == "errors" and block in answer["errors"]
    assert box.fake.messages(box.workspace.allies_channel) == []


def test_open_request_limit_is_a_modal_error(sqlite_sandbox: Sandbox) -> None:
    """A fourth open request is refused in the modal."""
    box = sqlite_sandbox
    for _ in range(3):
        _ask(box)
    asker = box.workspace.requester.id
    box.slack.shortcut(RequestsIds.SHORTCUT, asker)
    view = until(lambda: box.fake.current_view(asker))
    answer = box.slack.submit_view(
        asker,
        view,
        {
            RequestsIds.KIND: "named",
            RequestsIds.CATEGORY: "listening",
            RequestsIds.DETAILS: "x",
            RequestsIds.CONSENT: True,
        },
    ).json()
    assert "3 open requests" in answer["errors"][RequestsIds.DETAILS]


def test_offers_by_button_and_reaction_then_choice_introduces_the_pair(sandbox: Sandbox) -> None:
    """Two offers (button, reaction) make one DM kept up to date; choosing introduces the pair."""
    box = sandbox
    _make_allies(box)
    asker = box.workspace.requester.id
    amara, ben, chen = box.workspace.allies
    card = _ask(box)
    box.slack.click(amara.id, RequestsIds.OFFER, message=card)
    until(lambda: len(_offers_dm(box)) == 1)
    box.slack.reaction_added(ben.id, "raised_hand", card["channel"], card["ts"])
    until(lambda: ben.id in json.dumps(_offers_dm(box)))
    [dm] = _offers_dm(box)
    buttons = [b["accessory"] for b in dm["blocks"] if b.get("accessory")]
    assert [b["action_id"] for b in buttons] == [RequestsIds.CHOOSE, RequestsIds.CHOOSE]
    box.slack.click(asker, RequestsIds.CHOOSE, message=dm, value=buttons[1]["value"])
    [opened] = box.fake.wait_for(
        "conversations.open", predicate=lambda c: "," in str(c.args["users"])
    )
    assert set(str(opened.args["users"]).split(",")) == {asker, ben.id}
    group = opened.response["channel"]["id"]
    [intro] = until(lambda: box.fake.messages(group))
    assert "Tips from the ally handbook" in json.dumps(intro["blocks"])
    until(lambda: "Matched" in json.dumps(_card(box, card)["blocks"]))
    assert RequestsIds.OFFER not in json.dumps(_card(box, card)["blocks"])
    until(lambda: box.fake.dm_messages(amara.id))
    assert "chose another ally" in json.dumps(box.fake.dm_messages(amara.id))
    assert box.fake.dm_messages(chen.id) == []
    until(lambda: "You chose" in json.dumps(_offers_dm(box)))
    with box.db.session() as s:
        [match] = s.exec(select(Match)).all()
        assert match.ally_user_id == ben.id and match.conversation_id == group


def test_who_may_offer(sqlite_sandbox: Sandbox) -> None:
    """A non-ally is invited to join; the asker and an unavailable ally are refused; no offer."""
    box = sqlite_sandbox
    amara = box.workspace.allies[0]
    _make_allies(box, amara, available=False)
    card = _ask(box)
    colleague, asker = box.workspace.colleague.id, box.workspace.requester.id
    box.slack.click(colleague, RequestsIds.OFFER, message=card)
    box.slack.click(asker, RequestsIds.OFFER, message=card)
    box.slack.click(amara.id, RequestsIds.OFFER, message=card)
    invite = until(lambda: box.fake.dm_messages(colleague) or box.fake.ephemerals(colleague))
    assert AlliesIds.JOIN in json.dumps(invite)
    until(
        lambda: (
            "your own request"
            in json.dumps(box.fake.ephemerals(asker) + box.fake.dm_messages(asker))
        )
    )
    until(lambda: "availability" in json.dumps(box.fake.ephemerals(amara.id)))
    assert _offer_rows(box) == []


def test_double_click_and_retried_reaction_make_one_offer(sandbox: Sandbox) -> None:
    """Two clicks at once, then a reaction and its Slack retry: one offer, one offers DM."""
    box = sandbox
    _make_allies(box)
    amara = box.workspace.allies[0]
    card = _ask(box)
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: box.slack.click(amara.id, RequestsIds.OFFER, message=card), range(2))
        )
    assert all(a.status == 200 for a in answers)
    until(lambda: len(box.fake.ephemerals(amara.id)) == 2)
    texts = " | ".join(sorted(e["text"] for e in box.fake.ephemerals(amara.id)))
    assert texts.count("already offered") == 1 and texts.count("may choose you") == 1
    event = box.slack._reaction_event(
        "reaction_added", amara.id, "raised_hand", card["channel"], card["ts"]
    )
    event_id = box.slack.new_event_id()
    box.slack.event(event, event_id=event_id)
    box.slack.event(event, event_id=event_id, retry_num=1)
    until(lambda: len(_offers_dm(box)) == 1)
    settle(box)
    assert len(_offer_rows(box)) == 1
    posts = box.fake.calls_to("chat.postMessage")
    assert (
        len(
            [
                c
                for c in posts
                if c.args.get("channel") == box.workspace.requester.id
                and RequestsIds.CHOOSE in json.dumps(c.args.get("blocks"))
            ]
        )
        == 1
    )


def test_click_and_reaction_at_once_make_one_offer(sandbox: Sandbox) -> None:
    """The same ally clicking and reacting at the same moment offers once."""
    box = sandbox
    _make_allies(box)
    amara = box.workspace.allies[0]
    card = _ask(box)
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(box.slack.click, amara.id, RequestsIds.OFFER, message=card)
        b = pool.submit(
            box.slack.reaction_added, amara.id, "raised_hand", card["channel"], card["ts"]
        )
        assert a.result().status == 200 and b.result().status == 200
    until(lambda: len(_offers_dm(box)) == 1)
    until(lambda: box.fake.ephemerals(amara.id))
    settle(box)
    assert len(_offer_rows(box)) == 1


def test_two_allies_at_once_make_one_offers_dm_listing_both(sandbox: Sandbox) -> None:
    """Offers arriving together: one DM posted, then updated in place to list both."""
    box = sandbox
    _make_allies(box)
    amara, ben, _ = box.workspace.allies
    card = _ask(box)
    box.fake.delay("chat.postMessage", 0.3)  # widen the window in which a second post could start
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(lambda p: box.slack.click(p.id, RequestsIds.OFFER, message=card), (amara, ben))
        )
    until(lambda: amara.id in json.dumps(_offers_dm(box)) and ben.id in json.dumps(_offers_dm(box)))
    settle(box)
    assert len(_offers_dm(box)) == 1


def test_two_choices_at_once_make_exactly_one_match(sandbox: Sandbox) -> None:
    """Two quick clicks on different allies: one match, one introduction, one refusal."""
    box = sandbox
    _make_allies(box)
    asker = box.workspace.requester.id
    amara, ben, _ = box.workspace.allies
    card = _ask(box)
    box.slack.click(amara.id, RequestsIds.OFFER, message=card)
    box.slack.click(ben.id, RequestsIds.OFFER, message=card)
    # Both clicks are acked before their work runs, so either offer may be listed first.
    until(lambda: all(a.id in json.dumps(_offers_dm(box)) for a in (amara, ben)))
    [dm] = _offers_dm(box)
    values = [b["accessory"]["value"] for b in dm["blocks"] if b.get("accessory")]
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda v: box.slack.click(asker, RequestsIds.CHOOSE, message=dm, value=v), values
            )
        )
    box.fake.wait_for("conversations.open", predicate=lambda c: "," in str(c.args["users"]))
    until(
        lambda: (
            "already chosen" in json.dumps(box.fake.ephemerals(asker) + box.fake.dm_messages(asker))
        )
    )
    settle(box)
    with box.db.session() as s:
        assert len(s.exec(select(Match)).all()) == 1
    groups = [c for c in box.fake.calls_to("conversations.open") if "," in str(c.args["users"])]
    assert len(groups) == 1


def test_forged_choice_and_old_buttons_are_refused(sqlite_sandbox: Sandbox) -> None:
    """Someone else's choose_ally, and an offer on a matched request, change nothing."""
    box = sqlite_sandbox
    _make_allies(box)
    asker = box.workspace.requester.id
    amara, ben, chen = box.workspace.allies
    card = _ask(box)
    box.slack.click(amara.id, RequestsIds.OFFER, message=card)
    until(lambda: _offers_dm(box))
    [offer] = _offer_rows(box)
    box.slack.click_raw(
        ben.id, RequestsIds.CHOOSE, str(offer.id), channel=box.workspace.allies_channel
    )
    until(
        lambda: (
            "Only the person who asked"
            in json.dumps(box.fake.ephemerals(ben.id) + box.fake.dm_messages(ben.id))
        )
    )
    box.slack.click_raw(asker, RequestsIds.CHOOSE, "not-a-number")
    until(
        lambda: (
            "no longer works"
            in json.dumps(box.fake.ephemerals(asker) + box.fake.dm_messages(asker))
        )
    )
    with box.db.session() as s:
        assert s.exec(select(Match)).all() == []
    [dm] = _offers_dm(box)
    box.slack.click(asker, RequestsIds.CHOOSE, message=dm)
    box.fake.wait_for("conversations.open", predicate=lambda c: "," in str(c.args["users"]))
    box.slack.click_raw(
        chen.id, RequestsIds.OFFER, str(offer.request_id), channel=box.workspace.allies_channel
    )
    until(lambda: "already has an ally" in json.dumps(box.fake.ephemerals(chen.id)))
    assert len(_offer_rows(box)) == 1


def test_reaction_removed_withdraws_the_offer(sqlite_sandbox: Sandbox) -> None:
    """Removing the reaction takes the ally off the offers DM."""
    box = sqlite_sandbox
    _make_allies(box)
    amara = box.workspace.allies[0]
    card = _ask(box)
    box.slack.reaction_added(amara.id, "raised_hand", card["channel"], card["ts"])
    until(lambda: amara.id in json.dumps(_offers_dm(box)))
    box.slack.reaction_removed(amara.id, "raised_hand", card["channel"], card["ts"])
    until(lambda: amara.id not in json.dumps(_offers_dm(box)))
    assert _offer_rows(box) == []


def test_withdraw_updates_card_and_tells_offering_allies(sqlite_sandbox: Sandbox) -> None:
    """Only the asker withdraws; the card says so with no button; offering allies are told."""
    box = sqlite_sandbox
    _make_allies(box)
    asker = box.workspace.requester.id
    amara = box.workspace.allies[0]
    card = _ask(box)
    box.slack.click(amara.id, RequestsIds.OFFER, message=card)
    until(lambda: _offers_dm(box))
    [confirmation] = [m for m in box.fake.dm_messages(asker) if m.get("text") == CONFIRMATION]
    box.slack.click(amara.id, RequestsIds.WITHDRAW, message=confirmation)
    until(
        lambda: (
            "Only the person who asked"
            in json.dumps(box.fake.ephemerals(amara.id) + box.fake.dm_messages(amara.id))
        )
    )
    box.slack.click(asker, RequestsIds.WITHDRAW, message=confirmation)
    until(lambda: "Withdrawn" in json.dumps(_card(box, card)["blocks"]))
    assert RequestsIds.OFFER not in json.dumps(_card(box, card)["blocks"])
    until(lambda: "was withdrawn" in json.dumps(box.fake.dm_messages(amara.id)))
    until(
        lambda: (
            RequestsIds.WITHDRAW
            not in json.dumps(box.fake.message(confirmation["channel"], confirmation["ts"]))
        )
    )


def test_report_misuse_thanks_and_tells_volunteers(sqlite_sandbox: Sandbox) -> None:
    """Report misuse: a private thank-you and a note in the volunteers channel."""
    box = sqlite_sandbox
    _bot_in_volunteers(box)
    card = _ask(box)
    ally = box.workspace.allies[0]
    box.slack.click(ally.id, RequestsIds.REPORT, message=card)
    until(lambda: box.fake.messages(box.workspace.volunteers_channel))
    until(lambda: "volunteers will review" in json.dumps(box.fake.ephemerals(ally.id)))


def _due(request_id: int | None, due_at: datetime) -> jobs.DueWork:
    """An escalation as the sweep hands it to its handler."""
    assert request_id is not None
    return jobs.DueWork(
        id=0,
        kind=rules.ESCALATE,
        key=rules.escalation_key(request_id),
        due_at=due_at,
        payload=rules.RequestItem(request_id=request_id).model_dump(mode="json"),
        attempts=0,
    )


def test_escalation_posts_once_only_while_open_without_offers(sandbox: Sandbox) -> None:
    """The due handler posts the request to volunteers once; not after an offer."""
    box = sandbox
    _bot_in_volunteers(box)
    card = _ask(box)
    with box.db.session() as s:
        request = s.exec(select(AllyRequest)).one()
    assert request.id is not None
    item = _due(request.id, request.created_at)
    handler = box.deps.due_handlers["escalate_request"]
    handler(box.deps, box.client, item)
    handler(box.deps, box.client, item)
    [note] = box.fake.messages(box.workspace.volunteers_channel)
    assert box.workspace.requester.id in json.dumps(note["blocks"])
    second = _ask(box)
    _make_allies(box)
    box.slack.click(box.workspace.allies[0].id, RequestsIds.OFFER, message=second)
    until(lambda: _offers_dm(box))
    with box.db.session() as s:
        other = s.exec(select(AllyRequest).where(AllyRequest.card_ts == second["ts"])).one()
    handler(
        box.deps,
        box.client,
        _due(other.id, other.created_at),
    )
    assert len(box.fake.messages(box.workspace.volunteers_channel)) == 1
    assert card
