"""Asks on behalf of anonymous cases, and durable follow-ups of a choice, through the wire."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.devkit.sandbox import Sandbox
from bot.jobs.queue import find
from handlers.requests.ids import Ids
from storage.models.anonymous import AnonymousCase
from storage.models.requests import AllyRequest, Match, Offer
from storage.types import utcnow
from tests.handlers.flows import (
    HANDLE,
    _ask,
    _card,
    _case_ask,
    _make_allies,
    _offers_dm,
    _volunteers,
)
from tests.helpers import settle, until


def _said_to(box: Sandbox, user: str, words: str) -> int:
    """How many private messages to `user` (ephemeral, DM or response_url) contain `words`."""
    said = [
        c.args
        for c in box.fake.calls
        if c.method == "response_url"
        or (c.method == "chat.postEphemeral" and c.args.get("user") == user)
        or (c.method == "chat.postMessage" and c.args.get("channel") == user)
    ]
    return sum(words in json.dumps(args) for args in said)


def test_a_removed_volunteer_can_neither_choose_nor_withdraw(sandbox: Sandbox) -> None:
    """Membership of the volunteers channel is checked for a case's ask, not only chooser_id."""
    box = sandbox
    _make_allies(box)
    vera, amara = box.workspace.volunteers[0].id, box.workspace.allies[0].id
    _volunteers(box)  # Vera has left the volunteers channel
    _, request_id, card = _case_ask(box)
    box.slack.click(amara, Ids.OFFER, message=card)
    [offer] = until(lambda: _offer_rows(box))
    box.slack.click_raw(vera, Ids.CHOOSE, str(offer.id), channel=box.workspace.allies_channel)
    until(lambda: _said_to(box, vera, "Only the programme"))
    box.slack.click_raw(vera, Ids.WITHDRAW, str(request_id))
    until(lambda: _said_to(box, vera, "Only the programme") >= 2)
    with box.db.session() as s:
        assert s.exec(select(Match)).all() == []
        ask = s.get(AllyRequest, request_id)
        assert ask is not None and ask.status == "open"
    group = [c for c in box.fake.calls_to("conversations.open") if "," in str(c.args["users"])]
    assert group == []


def _offer_rows(box: Sandbox) -> list[Offer]:
    with box.db.session() as s:
        return list(s.exec(select(Offer)))


def test_a_volunteer_withdraws_a_cases_ask_and_the_case_can_ask_again(sandbox: Sandbox) -> None:
    """The card says withdrawn and the case forgets the ask, so a new one can be posted."""
    box = sandbox
    vera = box.workspace.volunteers[0].id
    _volunteers(box, vera)
    case_id, request_id, card = _case_ask(box)
    box.slack.click_raw(vera, Ids.WITHDRAW, str(request_id))
    until(lambda: "Withdrawn" in json.dumps(_card(box, card)["blocks"]))
    with box.db.session() as s:
        case = s.get(AnonymousCase, case_id)
        assert case is not None and case.ask_request_id is None


def test_the_anonymous_requester_cannot_offer_on_their_cases_ask(sandbox: Sandbox) -> None:
    """Priya (an ally too) is refused privately, by button and by reaction; nothing recorded."""
    box = sandbox
    _make_allies(box, box.workspace.requester)
    priya, vera = box.workspace.requester.id, box.workspace.volunteers[0].id
    _volunteers(box, vera)
    _, _, card = _case_ask(box)
    settle(box)
    before = len(box.fake.calls)
    box.slack.click(priya, Ids.OFFER, message=card)
    box.slack.reaction_added(priya, "raised_hand", card["channel"], card["ts"])
    until(lambda: _said_to(box, priya, "cannot offer") >= 2)
    assert _offer_rows(box) == []
    assert box.fake.dm_messages(vera) == []
    for call in box.fake.calls[before:]:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            assert priya in (call.args.get("user"), call.args.get("channel")), call.method
        assert HANDLE not in json.dumps(call.args)


def test_a_failed_introduction_is_finished_later_and_nothing_doubles(sandbox: Sandbox) -> None:
    """conversations.open fails (500) beyond retries: the rest happens at once, the intro later."""
    box = sandbox
    _make_allies(box)
    asker = box.workspace.requester.id
    amara, ben, _ = box.workspace.allies
    card = _ask(box)
    box.slack.click(amara.id, Ids.OFFER, message=card)
    box.slack.click(ben.id, Ids.OFFER, message=card)
    # Both clicks are acked before their work runs, so either offer may be listed first.
    until(lambda: all(a.id in json.dumps(_offers_dm(box)) for a in (amara, ben)))
    [dm] = _offers_dm(box)
    [chosen] = [
        b["accessory"]["value"]
        for b in dm["blocks"]
        if b.get("accessory") and ben.id in b["text"]["text"]
    ]
    box.fake.fail_next("conversations.open", status=500, times=10)
    box.slack.click(asker, Ids.CHOOSE, message=dm, value=chosen)
    # The client retries with backoff (up to ~3.5 s) before the introduction counts as failed.
    box.fake.wait_for("conversations.open", count=3, ok=False, timeout=30)
    # Independent steps are not held up by the failed introduction.
    until(lambda: "Matched" in json.dumps(_card(box, card)["blocks"]))
    until(lambda: "You chose" in json.dumps(_offers_dm(box)))
    until(lambda: "chose another ally" in json.dumps(box.fake.dm_messages(amara.id)))
    # The asker is told last (the offers DM says "introduce" too): the click's work is done.
    until(lambda: _said_to(box, asker, "could not finish introducing"))
    with box.db.session() as s:
        [match] = s.exec(select(Match)).all()
        assert match.conversation_id is None
    later = utcnow()
    for hour in range(1, 8):
        box.run_due(later + timedelta(hours=hour))
    with box.db.session() as s:
        [match] = s.exec(select(Match)).all()
        assert match.conversation_id
        assert find(s, key=f"match:{match.id}") is not None
    assert len(box.fake.messages(match.conversation_id)) == 1
    assert len(box.fake.dm_messages(amara.id)) == 1
    assert box.fake.dm_messages(ben.id) == []
    assert len(_offers_dm(box)) == 1
    assert Ids.OFFER not in json.dumps(_card(box, card)["blocks"])
    intros = [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args.get("text") == "Let me introduce you to each other."
    ]
    assert len(intros) == 1


def test_a_failed_choice_for_a_case_still_tells_the_requester_once(sandbox: Sandbox) -> None:
    """For a case's ask, the requester hears an ally was found even if the intro fails first."""
    box = sandbox
    _make_allies(box)
    vera, amara = box.workspace.volunteers[0].id, box.workspace.allies[0].id
    _volunteers(box, vera)
    case_id, _, card = _case_ask(box)
    box.slack.click(amara, Ids.OFFER, message=card)
    [offer] = until(lambda: _offer_rows(box))
    until(lambda: box.fake.dm_messages(vera))
    box.fake.fail_next("conversations.open", status=500, times=10)
    box.slack.click_raw(vera, Ids.CHOOSE, str(offer.id))
    until(lambda: "Matched" in json.dumps(_card(box, card)["blocks"]), timeout=30)
    # The click's own tries (the introduction, then the case's thread, each retried with
    # backoff) end in telling Vera; only then do the sweeps take over, one at a time.
    until(lambda: _said_to(box, vera, "could not finish introducing"), timeout=30)
    later = utcnow()
    for hour in range(1, 8):
        box.run_due(later + timedelta(hours=hour))
    with box.db.session() as s:
        case = s.get(AnonymousCase, case_id)
        assert case is not None and case.ally_found_at is not None and case.thread_ts
        [match] = s.exec(select(Match)).all()
        assert match.conversation_id
    found = [
        c for c in box.fake.calls_to("chat.postMessage") if "An ally has been found" in str(c.args)
    ]
    assert len(found) == 1
    assert len(box.fake.messages(match.conversation_id)) == 1
