"""Named requests through the wire: toned reactions, withdrawal from `/ally status`, a card
that could not be posted at once, misuse reported once, long offer lists, the introduction's
feedback delay, and an ally forgotten before the introduction."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from sqlmodel import select

from bot.devkit.fakeslack import Call
from bot.devkit.sandbox import Sandbox
from bot.privacy import privacy
from bot.rules import allies
from bot.rules import requests as rules
from handlers.requests.ids import Ids
from storage.models.programme import ProcessedEvent
from storage.models.requests import AllyRequest, Match
from storage.models.schedule import DueItem
from storage.models.surveys import MisuseReporter
from storage.types import utcnow
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

LATER = timedelta(minutes=5)  # past every follow-up's grace, well before escalation


def _posts_to(box: Sandbox, channel: str) -> list[Call]:
    return [c for c in box.fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def _said_to(box: Sandbox, user: str) -> str:
    """Everything the app showed this person: DMs and ephemerals, as text."""
    return json.dumps(box.fake.dm_messages(user) + box.fake.ephemerals(user))


def _told(box: Sandbox, user: str, words: str) -> list[dict]:
    """The DMs and ephemerals shown to this person whose text has these words."""
    shown = box.fake.dm_messages(user) + box.fake.ephemerals(user)
    return [m for m in shown if words in str(m.get("text"))]


# 1. reactions with a skin tone


def test_a_toned_reaction_offers_and_its_removal_withdraws(sandbox: Sandbox) -> None:
    """`raised_hand::skin-tone-3` is the interest emoji: it offers, and removing it withdraws."""
    box = sandbox
    _make_allies(box)
    amara = box.workspace.allies[0]
    card = _ask(box)
    toned = "raised_hand::skin-tone-3"
    box.slack.reaction_added(amara.id, toned, card["channel"], card["ts"])
    until(lambda: amara.id in json.dumps(_offers_dm(box)))
    assert [o.source for o in _offer_rows(box)] == ["reaction"]
    box.slack.reaction_removed(amara.id, toned, card["channel"], card["ts"])
    until(lambda: amara.id not in json.dumps(_offers_dm(box)))
    assert _offer_rows(box) == []


def test_another_emoji_with_a_tone_is_not_an_offer(sqlite_sandbox: Sandbox) -> None:
    """Only the base name counts: `thumbsup::skin-tone-2` offers nothing."""
    box = sqlite_sandbox
    _make_allies(box)
    amara = box.workspace.allies[0]
    card = _ask(box)
    box.slack.reaction_added(amara.id, "thumbsup::skin-tone-2", card["channel"], card["ts"])
    settle(box)
    assert _offer_rows(box) == [] and _offers_dm(box) == []


# 2. withdrawing from `/ally status`


def _status_reply(box: Sandbox, user: str) -> dict[str, Any]:
    """`/ally status` typed in #general; returns the ephemeral reply listing the requests."""
    shown = len(box.fake.ephemerals(user))
    box.slack.slash("/ally", "status", user_id=user, channel_id=box.workspace.general_channel)
    return until(lambda: box.fake.ephemerals(user)[shown:])[0]


def test_withdrawing_from_ally_status_replaces_the_reply_and_tells_the_allies(
    sandbox: Sandbox,
) -> None:
    """Withdraw in the ephemeral `/ally status` reply: no error, the reply is replaced through
    the response_url, the card is redrawn and the offering ally is told."""
    box = sandbox
    _make_allies(box)
    asker, amara = box.workspace.requester.id, box.workspace.allies[0]
    card = _ask(box)
    box.slack.click(amara.id, Ids.OFFER, message=card)
    until(lambda: _offers_dm(box))
    status = _status_reply(box, asker)
    answer = box.slack.click(asker, Ids.WITHDRAW, message=status)
    assert answer.status == 200
    until(lambda: "was withdrawn" in json.dumps(box.fake.dm_messages(amara.id)))
    until(lambda: "Withdrawn" in json.dumps(_card(box, card)["blocks"]))
    [replaced] = box.fake.wait_for("response_url")
    assert replaced.args.get("replace_original") in (True, "true")
    assert Ids.WITHDRAW not in json.dumps(replaced.args.get("blocks"))
    assert "withdrawn" in json.dumps(replaced.args.get("blocks"))
    [shown] = [e for e in box.fake.ephemerals(asker) if e["message_ts"] == status["message_ts"]]
    assert Ids.WITHDRAW not in json.dumps(shown["blocks"]), "replaced in place"
    settle(box)
    assert "Something went wrong" not in _said_to(box, asker)
    assert not [c for c in box.fake.calls_to("chat.update") if not c.ok]


def test_a_failed_home_redraw_still_redraws_the_card_and_tells_the_allies(
    sqlite_sandbox: Sandbox,
) -> None:
    """Withdraw in the Home tab while views.publish fails: the rest still happens."""
    box = sqlite_sandbox
    _make_allies(box)
    asker, amara = box.workspace.requester.id, box.workspace.allies[0]
    card = _ask(box)
    box.slack.click(amara.id, Ids.OFFER, message=card)
    until(lambda: _offers_dm(box))
    box.slack.app_home_opened(asker)
    home = until(lambda: box.fake.home_view(asker))
    box.fake.fail_next("views.publish", status=500, times=3)
    box.slack.click(asker, Ids.WITHDRAW, view=home)
    until(lambda: "was withdrawn" in json.dumps(box.fake.dm_messages(amara.id)))
    until(lambda: "Withdrawn" in json.dumps(_card(box, card)["blocks"]))
    with box.db.session() as s:
        assert s.exec(select(AllyRequest)).one().status == rules.WITHDRAWN


def test_an_ally_not_told_of_a_withdrawal_is_told_by_the_sweep_once(sandbox: Sandbox) -> None:
    """The ally's DM fails at the withdrawal: the asker hears some messages lag, and the
    sweep tells the ally later, once, however often it runs."""
    box = sandbox
    _make_allies(box)
    asker, amara = box.workspace.requester.id, box.workspace.allies[0]
    card = _ask(box)
    box.slack.click(amara.id, Ids.OFFER, message=card)
    until(lambda: _offers_dm(box))
    box.slack.app_home_opened(asker)
    home = until(lambda: box.fake.home_view(asker))
    told = lambda: [  # noqa: E731
        m for m in box.fake.dm_messages(amara.id) if "was withdrawn" in json.dumps(m)
    ]
    # Three tries (the client retries a 500 twice): the ally's DM fails for good, for now.
    box.fake.fail_next("chat.postMessage", status=500, times=3, error="internal_error")
    box.slack.click(asker, Ids.WITHDRAW, view=home)
    until(lambda: _told(box, asker, "for a little while"))
    settle(box)
    assert told() == []
    for _ in range(3):
        box.run_due(utcnow() + timedelta(minutes=5))
    assert len(told()) == 1
    assert "Withdrawn" in json.dumps(_card(box, card)["blocks"])


# 3. a card that could not be posted at once


def _submit(box: Sandbox) -> None:
    """Priya submits a named request (the modal opened by `/ally`)."""
    asker = box.workspace.requester.id
    box.slack.slash("/ally", "", user_id=asker, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(asker))
    answer = box.slack.submit_view(
        asker,
        view,
        {Ids.KIND: "named", Ids.CATEGORY: "career_advice", Ids.DETAILS: "Help", Ids.CONSENT: True},
    )
    assert answer.status == 200 and answer.json() is None


def test_a_card_that_fails_to_post_is_posted_by_the_sweep_and_confirmed_once(
    sandbox: Sandbox,
) -> None:
    """Slack fails the card post: the request is kept with a due post, the asker is told it
    will be posted shortly (not to try again); the sweep posts it and confirms, once."""
    box = sandbox
    asker = box.workspace.requester.id
    allies_channel = box.workspace.allies_channel
    box.fake.fail_next("chat.postMessage", status=500, times=3)  # the first try and its retries
    _submit(box)
    until(lambda: "posted shortly" in _said_to(box, asker))
    settle(box)
    told = _said_to(box, asker)
    assert "try again" not in told.lower() and "Something went wrong" not in told
    assert box.fake.messages(allies_channel) == []
    with box.db.session() as s:
        [request] = s.exec(select(AllyRequest)).all()
        assert request.status == rules.OPEN and request.card_ts is None
        assert request.id is not None
        item = s.exec(select(DueItem).where(DueItem.key == rules.card_key(request.id))).one()
        assert item.kind == rules.CARD and item.status == "pending"
    box.run_due(utcnow() + LATER)
    [card] = box.fake.messages(allies_channel)
    with box.db.session() as s:
        assert s.exec(select(AllyRequest)).one().card_ts == card["ts"]
    assert len([c for c in _posts_to(box, asker) if c.args.get("text") == CONFIRMATION]) == 1
    box.run_due(utcnow() + LATER * 2)
    settle(box)
    assert len(box.fake.messages(allies_channel)) == 1
    assert len([c for c in _posts_to(box, asker) if c.args.get("text") == CONFIRMATION]) == 1


def test_a_card_posted_at_once_leaves_the_sweep_nothing_to_do(sandbox: Sandbox) -> None:
    """The normal path: one card, one confirmation, and the due post is retired."""
    box = sandbox
    asker = box.workspace.requester.id
    _ask(box)
    settle(box)
    with box.db.session() as s:
        request = s.exec(select(AllyRequest)).one()
        assert request.id is not None
        item = s.exec(select(DueItem).where(DueItem.key == rules.card_key(request.id))).one()
        assert item.status == "cancelled"
    box.run_due(utcnow() + LATER)
    settle(box)
    assert len(box.fake.messages(box.workspace.allies_channel)) == 1
    assert len([c for c in _posts_to(box, asker) if c.args.get("text") == CONFIRMATION]) == 1


def test_a_request_withdrawn_before_its_card_is_never_posted(sqlite_sandbox: Sandbox) -> None:
    """The card failed, the asker withdrew from the Home tab: the sweep posts nothing."""
    box = sqlite_sandbox
    asker = box.workspace.requester.id
    box.fake.fail_next("chat.postMessage", status=500, times=3)
    _submit(box)
    until(lambda: "posted shortly" in _said_to(box, asker))
    box.slack.app_home_opened(asker)
    home = until(lambda: box.fake.home_view(asker))
    box.slack.click(asker, Ids.WITHDRAW, view=home)
    until(lambda: "withdrawn" in json.dumps(box.fake.home_view(asker)))
    box.run_due(utcnow() + LATER)
    settle(box)
    assert box.fake.messages(box.workspace.allies_channel) == []
    assert not [c for c in _posts_to(box, asker) if c.args.get("text") == CONFIRMATION]


# 4. misuse reported once per request and reporter


def test_report_misuse_twice_posts_once(sandbox: Sandbox) -> None:
    """Two clicks at once, then a third, by one ally: one card; the others hear it was
    already reported. Another ally's report updates the same card's count."""
    box = sandbox
    _bot_in_volunteers(box)
    card = _ask(box)
    amara, ben, _ = box.workspace.allies
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: box.slack.click(amara.id, Ids.REPORT, message=card), "ab"))
    until(lambda: len(_told(box, amara.id, "already reported")) == 1)
    box.slack.click(amara.id, Ids.REPORT, message=card)
    until(lambda: len(_told(box, amara.id, "already reported")) == 2)
    settle(box)
    assert len(box.fake.messages(box.workspace.volunteers_channel)) == 1
    assert len(_told(box, amara.id, "volunteers will review")) == 1
    box.slack.click(ben.id, Ids.REPORT, message=card)
    box.fake.wait_for("chat.update", predicate=lambda c: "by 2 people" in json.dumps(c.args))
    settle(box)
    [review] = box.fake.messages(box.workspace.volunteers_channel)
    assert "by 2 people" in json.dumps(review) and amara.id not in json.dumps(review)
    assert ben.id not in json.dumps(review)
    with box.db.session() as s:
        keys = " ".join(s.exec(select(ProcessedEvent.event_id)).all())
        keys += " ".join(s.exec(select(MisuseReporter.marker)).all())
    assert amara.id not in keys and ben.id not in keys
    # Nor the reporters' own markers, which their anonymous cases would carry.
    markers = [privacy(box.settings).marker(p.id)[:12] for p in (amara, ben)]
    assert not [m for m in markers if m in keys]


def test_a_failed_misuse_note_can_be_reported_again(sqlite_sandbox: Sandbox) -> None:
    """The note to the volunteers failed: nothing is remembered, and a second click posts it."""
    box = sqlite_sandbox
    _bot_in_volunteers(box)
    card = _ask(box)
    amara = box.workspace.allies[0]
    box.fake.fail_next("chat.postMessage", status=500, times=3)
    box.slack.click(amara.id, Ids.REPORT, message=card)
    until(lambda: "Something went wrong" in _said_to(box, amara.id))
    settle(box)
    assert box.fake.messages(box.workspace.volunteers_channel) == []
    box.slack.click(amara.id, Ids.REPORT, message=card)
    until(lambda: box.fake.messages(box.workspace.volunteers_channel))
    until(lambda: "volunteers will review" in _said_to(box, amara.id))


# 5. a long list of offers


def test_the_offers_dm_says_how_many_more_offered(sandbox: Sandbox) -> None:
    """200 offers and one more: 40 listed, "and 161 more offered", within Block Kit limits."""
    box = sandbox
    _make_allies(box)
    amara = box.workspace.allies[0]
    card = _ask(box)
    with box.db.session() as s:
        request_id = s.exec(select(AllyRequest)).one().id
        assert request_id is not None
        for n in range(200):
            user = f"U0MANY{n:03d}"
            allies.join(s, user_id=user, business_unit="Sales", available=True)
            rules.record_offer(s, request_id=request_id, ally_user_id=user, source="button")
    box.slack.click(amara.id, Ids.OFFER, message=card)
    [dm] = until(lambda: _offers_dm(box))
    assert "and 161 more offered" in json.dumps(dm["blocks"])
    assert len(dm["blocks"]) <= 50
    for block in dm["blocks"]:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    choices = [b for b in dm["blocks"] if (b.get("accessory") or {}).get("action_id")]
    assert len(choices) == 40


# 6. the introduction names the real feedback delay


@pytest.fixture
def two_hour_sandbox(tmp_path: Path, sqlite_template: Path) -> Iterator[Sandbox]:
    """The sandbox on SQLite with ALLYBOT_FEEDBACK_AFTER=2h."""
    path = tmp_path / "allybot.db"
    shutil.copy(sqlite_template, path)
    with Sandbox(f"sqlite:///{path}", ALLYBOT_FEEDBACK_AFTER="2h") as box:
        yield box
        box.db.dispose()


def _choose_first(box: Sandbox) -> dict[str, Any]:
    """Amara offers, Priya chooses her; returns the offers DM (before the choice)."""
    card = _ask(box)
    box.slack.click(box.workspace.allies[0].id, Ids.OFFER, message=card)
    [dm] = until(lambda: _offers_dm(box))
    box.slack.click(box.workspace.requester.id, Ids.CHOOSE, message=dm)
    return dm


def _introduction(box: Sandbox) -> str:
    [opened] = box.fake.wait_for(
        "conversations.open", predicate=lambda c: "," in str(c.args["users"])
    )
    [intro] = until(lambda: box.fake.messages(opened.response["channel"]["id"]))
    return json.dumps(intro["blocks"])


def test_the_introduction_names_the_configured_feedback_delay(two_hour_sandbox: Sandbox) -> None:
    """ALLYBOT_FEEDBACK_AFTER=2h: "In 2 hours I will ask you both", not "In a week"."""
    box = two_hour_sandbox
    _make_allies(box)
    _choose_first(box)
    intro = _introduction(box)
    assert "In 2 hours I will ask you both" in intro and "week" not in intro


def test_the_introduction_says_seven_days_by_default(sqlite_sandbox: Sandbox) -> None:
    """The default delay (7 days) in words."""
    box = sqlite_sandbox
    _make_allies(box)
    _choose_first(box)
    assert "In 7 days I will ask you both" in _introduction(box)


# 7. the offers DM claims a conversation only once there is one


def _offers_texts(box: Sandbox) -> list[str]:
    """Every version of the asker's offers DM the app sent (posts and updates)."""
    calls = box.fake.calls_to("chat.postMessage") + box.fake.calls_to("chat.update")
    texts = [json.dumps(c.args.get("blocks")) for c in calls]
    return [t for t in texts if "Allies offered" in t]


def _forget(box: Sandbox, user_id: str) -> None:
    """`/ally forget-me`, confirmed."""
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.slash("/ally", "forget-me", user_id=user_id, channel_id="C0GENERAL")
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view(user_id)
    assert modal is not None
    assert box.slack.submit_view(user_id, modal).status == 200
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == user_id and "data is deleted" in str(c.args),
    )
    settle(box)


def test_an_ally_forgotten_before_the_introduction_is_never_said_to_be_introduced(
    sandbox: Sandbox,
) -> None:
    """The introduction fails, then the chosen ally is forgotten: the offers DM never says a
    conversation was opened, and ends saying the ally has left."""
    box = sandbox
    _make_allies(box)
    asker, amara = box.workspace.requester.id, box.workspace.allies[0]
    box.fake.fail_next("conversations.open", status=500, times=3)
    _choose_first(box)
    until(lambda: "Your choice is recorded" in _said_to(box, asker))
    settle(box)
    _forget(box, amara.id)
    box.run_due(utcnow() + LATER)
    settle(box)
    with box.db.session() as s:
        match = s.exec(select(Match)).one()
        assert match.conversation_id is None
    texts = _offers_texts(box)
    assert texts and not any("I have opened a conversation" in t for t in texts)
    [dm] = _offers_dm(box)
    assert "has since left" in json.dumps(dm["blocks"])
    assert not [
        c for c in box.fake.calls_to("conversations.open") if c.ok and "," in str(c.args["users"])
    ]


def test_the_offers_dm_says_the_conversation_is_open_once_it_is(sqlite_sandbox: Sandbox) -> None:
    """The introduction fails at first: the DM says it is coming; after the retry, it is open."""
    box = sqlite_sandbox
    _make_allies(box)
    asker = box.workspace.requester.id
    box.fake.fail_next("conversations.open", status=500, times=3)
    _choose_first(box)
    until(lambda: "Your choice is recorded" in _said_to(box, asker))
    settle(box)
    assert not any("I have opened a conversation" in t for t in _offers_texts(box))
    box.run_due(utcnow() + LATER)
    settle(box)
    [dm] = _offers_dm(box)
    assert "I have opened a conversation" in json.dumps(dm["blocks"])
