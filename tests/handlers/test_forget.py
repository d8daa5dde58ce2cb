"""`/ally forget-me` through the wire: confirm, delete everything, tidy Slack, keep the counts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.devkit.sandbox import Sandbox
from bot.privacy import privacy
from bot.rules import forget as forget_rules
from handlers.anonymous.ids import Ids as AnonymousIds
from handlers.feedback import Ids as FeedbackIds
from handlers.requests.ids import Ids as RequestsIds
from storage.models.anonymous import AnonymousCase, CasePause
from storage.models.feedback import Feedback
from storage.models.points import PointsEntry
from storage.models.programme import FORGOTTEN, Ally, Member
from storage.models.requests import AllyRequest, Match
from storage.models.schedule import DueItem
from storage.types import utcnow
from tests.handlers.flows import (
    _ask,
    _card,
    _database_text,
    _forget,
    _make_allies,
    _offers_dm,
    card,
    close,
    eventually,
    find_and_match_ally,
    make_ally,
    open_preview,
    roomy_lookup,  # noqa: F401  (autouse: room for users.info before the preview's ack)
    send,
    take,
    with_bot_in_volunteers,
)
from tests.helpers import settle, until

NAMED_TEXT = "Help me prepare for my promotion panel."


def test_a_requester_is_forgotten_everywhere_and_slack_is_tidied(sandbox: Sandbox) -> None:
    """Named and anonymous asks: text, name and link gone from the database and the cards."""
    box = with_bot_in_volunteers(sandbox)
    ws = box.workspace
    priya, vera, amara = ws.requester, ws.volunteers[0], ws.allies[0]
    _make_allies(box, amara)
    ask_card = _ask(box, NAMED_TEXT)
    box.slack.click(amara.id, RequestsIds.OFFER, message=ask_card)
    until(lambda: _offers_dm(box))
    case_id = send(box, priya, details="quietly-distinctive words about my manager")
    take(box, vera)
    marker = privacy(box.settings).marker(priya.id)
    assert priya.id in _database_text(box) and marker in _database_text(box)

    settle(box)
    before = len(box.fake.calls)
    modal = _forget(box, priya.id)

    # The database holds nothing that leads to Priya: no ID, DM, marker, named text. Her
    # case's redacted text goes hours later with the rest of the case side.
    stored = _database_text(box)
    for trace in (priya.id, box.fake.im_channel(priya.id), marker, NAMED_TEXT):
        assert trace not in stored
    with box.db.session() as s:
        [request] = s.exec(select(AllyRequest).where(AllyRequest.kind == "named")).all()
        assert request.status == "withdrawn" and request.requester_id is None
        case = s.get(AnonymousCase, case_id)
        # Its link is gone; it closes, text deleted, only with the case side, hours later.
        assert case is not None and case.requester_sealed is None and case.details is not None
        assert case.status == "taken" and case.purged_at is None
    # Slack: the allies card names nobody and holds no text; the ally who offered is told.
    until(lambda: "Withdrawn" in json.dumps(_card(box, ask_card)["blocks"]))
    shown = json.dumps(_card(box, ask_card)["blocks"])
    assert priya.id not in shown and NAMED_TEXT not in shown and RequestsIds.OFFER not in shown
    told_amara = box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == amara.id and "withdrawn" in str(c.args),
    )
    # The case side shows only hours later, at a random time: a named card and an anonymous
    # case changing together would tell who asked the case.
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN / 2)
    assert "has been deleted" not in json.dumps(card(box)["blocks"])
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN + forget_rules.CASE_DELAY_SPREAD)
    assert "has been deleted" in json.dumps(card(box)["blocks"])
    assert "quietly-distinctive" not in json.dumps(card(box)["blocks"])
    with box.db.session() as s:
        case = s.get(AnonymousCase, case_id)
        assert case is not None and case.status == "closed" and case.outcome == "withdrawn"
        assert case.purged_at is not None
    assert "quietly-dist" not in _database_text(box)
    told_vera = box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "withdrawn" in str(c.args),
    )
    assert len(told_amara) == 1 and len(told_vera) == 1
    assert "deleted" not in str(told_vera[0].args["text"]).split("withdrawn")[0]
    for call in box.fake.calls[before:]:  # every message to anyone else since
        if call.args.get("channel") not in (None, priya.id, box.fake.im_channel(priya.id)):
            assert priya.id not in json.dumps(call.args, default=str), (call.method, call.args)

    # The same confirmation again (a retry, a double submit) deletes and sends nothing more.
    settle(box)
    sent = len(box.fake.calls_to("chat.postMessage"))
    box.slack.submit_view(priya.id, modal)
    settle(box)  # its work is done
    box.run_due(utcnow() + timedelta(days=1))  # and the safety nets find nothing left to do
    assert len(box.fake.calls_to("chat.postMessage")) == sent
    for person in (amara, vera):
        told = [
            c
            for c in box.fake.calls_to("chat.postMessage")
            if c.args["channel"] == person.id and "withdrawn" in str(c.args)
        ]
        assert len(told) == 1, person
    # Finished follow-ups keep no list of what was whose.
    with box.db.session() as s:
        items = s.exec(select(DueItem).where(col(DueItem.kind).startswith("forget"))).all()
        assert items and all(item.payload == {} for item in items)


def test_two_allies_who_offered_on_one_request_can_both_be_forgotten(sandbox: Sandbox) -> None:
    """Each forget-me succeeds; the requester's list of offers empties."""
    box = sandbox
    amara, ben = box.workspace.allies[:2]
    _make_allies(box, amara, ben)
    ask_card = _ask(box)
    box.slack.click(amara.id, RequestsIds.OFFER, message=ask_card)
    box.slack.click(ben.id, RequestsIds.OFFER, message=ask_card)
    until(lambda: ben.id in json.dumps(_offers_dm(box)) and amara.id in json.dumps(_offers_dm(box)))
    _forget(box, amara.id)
    _forget(box, ben.id)
    stored = _database_text(box)
    assert amara.id not in stored and ben.id not in stored
    until(lambda: "have withdrawn for now" in json.dumps(_offers_dm(box)))


def test_an_escalated_request_is_redrawn_for_the_volunteers(sqlite_sandbox: Sandbox) -> None:
    """The volunteers' escalation showed the name and text: it no longer does."""
    box = with_bot_in_volunteers(sqlite_sandbox)
    priya = box.workspace.requester
    _ask(box, NAMED_TEXT)
    box.run_due(utcnow() + box.settings.escalate_after + timedelta(minutes=1))
    [escalation] = box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "no offer" in str(c.args.get("text"))
    )
    where = (escalation.response["channel"], escalation.response["ts"])
    assert priya.id in json.dumps(box.fake.message(*where))
    _forget(box, priya.id)
    until(lambda: NAMED_TEXT not in json.dumps(box.fake.message(*where)))
    assert priya.id not in json.dumps(box.fake.message(*where))


def _matched(box: Sandbox) -> dict[str, Any]:
    """Priya asks, Amara offers, Priya chooses her; returns the allies card."""
    priya, amara = box.workspace.requester, box.workspace.allies[0]
    _make_allies(box, amara)
    ask_card = _ask(box, NAMED_TEXT)
    box.slack.click(amara.id, RequestsIds.OFFER, message=ask_card)
    [dm] = until(lambda: _offers_dm(box))
    choose = next(b["accessory"] for b in dm["blocks"] if b.get("accessory"))
    box.slack.click(priya.id, RequestsIds.CHOOSE, message=dm, value=choose["value"])
    until(lambda: "Matched" in json.dumps(_card(box, ask_card)["blocks"]))
    # The choice's last message: its follow-ups do not overlap what the test does next.
    until(lambda: "You chose" in json.dumps(_offers_dm(box)))
    eventually(box, lambda s: s.exec(select(Match).where(Match.intro_ts != None)).all())  # noqa: E711
    return ask_card


def test_a_matched_requester_is_forgotten_and_the_introduction_is_cleared(
    sqlite_sandbox: Sandbox,
) -> None:
    """The introduction in the pair's conversation no longer shows the request's text."""
    box = sqlite_sandbox
    _matched(box)
    with box.db.session() as s:
        [match] = s.exec(select(Match)).all()
    assert NAMED_TEXT in json.dumps(box.fake.message(match.conversation_id, match.intro_ts))

    _forget(box, box.workspace.requester.id)

    until(lambda: "cleared" in json.dumps(box.fake.message(match.conversation_id, match.intro_ts)))
    intro = json.dumps(box.fake.message(match.conversation_id, match.intro_ts))
    assert NAMED_TEXT not in intro and box.workspace.requester.id not in intro


def test_an_ally_is_forgotten_but_the_match_and_points_still_count(sandbox: Sandbox) -> None:
    """A matched ally leaves no trace; feedback still reaches the requester, never the void."""
    box = sandbox
    ws = box.workspace
    priya, amara = ws.requester, ws.allies[0]
    _matched(box)

    with box.db.session() as s:
        [before] = s.exec(select(Match)).all()
    where = (before.conversation_id, before.intro_ts)

    _forget(box, amara.id)

    # The introduction named her (and showed the request): it is cleared, then forgotten.
    until(lambda: "cleared" in json.dumps(box.fake.message(*where)))
    eventually(box, lambda s: s.exec(select(Match).where(Match.conversation_id == None)).all())  # noqa: E711
    assert amara.id not in _database_text(box)
    with box.db.session() as s:
        assert s.exec(select(Ally)).all() == [] and s.exec(select(Member)).all() == []
        [match] = s.exec(select(Match)).all()
        assert match.ally_user_id == FORGOTTEN
    box.run_due(utcnow() + box.settings.feedback_after + timedelta(minutes=1))
    prompts = [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if FeedbackIds.WORKED in json.dumps(c.args.get("blocks"))
    ]
    assert [c.args["channel"] for c in prompts] == [priya.id]
    assert "<@" not in json.dumps(prompts[0].args["blocks"]), "the forgotten ally is not named"
    assert all(c.args.get("channel") != FORGOTTEN for c in box.fake.calls)
    # Priya says it worked: the match counts, with no business unit to credit any more.
    with box.db.session() as s:
        [row] = s.exec(select(Feedback).where(Feedback.user_id == priya.id)).all()
    prompt = box.fake.message(prompts[0].response["channel"], prompts[0].response["ts"])
    box.slack.click(priya.id, FeedbackIds.WORKED, message=prompt, value=row.token)
    eventually(box, lambda s: s.exec(select(Match).where(Match.outcome == "worked")).first())
    with box.db.session() as s:
        assert s.exec(select(PointsEntry)).all() == []


def test_a_volunteer_is_forgotten_and_their_open_case_goes_back_to_the_channel(
    sqlite_sandbox: Sandbox,
) -> None:
    """The held case can be taken again; the pause they set stays (it protects others)."""
    box = with_bot_in_volunteers(sqlite_sandbox)
    ws = box.workspace
    priya, vera, victor = ws.requester, ws.volunteers[0], ws.volunteers[1]
    first = send(box, priya, details="first ask")
    take(box, vera)
    close(box, vera, "misuse", pause=True)
    box.slack.submit_view(ws.colleague.id, open_preview(box, ws.colleague, "second ask"))
    second = eventually(box, lambda s: s.get(AnonymousCase, first + 1) and first + 1)
    vol = ws.volunteers_channel
    box.fake.wait_for("chat.postMessage", count=2, predicate=lambda c: c.args["channel"] == vol)
    take(box, vera)

    _forget(box, vera.id)

    assert vera.id not in _database_text(box)
    with box.db.session() as s:
        held = s.get(AnonymousCase, second)
        assert held is not None and held.status == "open" and held.volunteer_id is None
        closed = s.get(AnonymousCase, first)
        assert closed is not None and closed.volunteer_id == FORGOTTEN
        [pause] = s.exec(select(CasePause)).all()
        assert pause.paused_by == FORGOTTEN
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: (
            c.args["channel"] == ws.volunteers_channel and "take them again" in str(c.args)
        ),
    )
    until(lambda: AnonymousIds.TAKE in json.dumps(card(box)["blocks"]))
    take(box, victor)
    with box.db.session() as s:
        again = s.get(AnonymousCase, second)
        assert again is not None and again.volunteer_id == victor.id


def test_a_case_asker_is_forgotten_and_the_allies_side_changes_only_later(
    sandbox: Sandbox,
) -> None:
    """The case's ask and its introduction lose the text, hours later with the case card."""
    box = with_bot_in_volunteers(sandbox)
    ws = box.workspace
    priya, vera, amara = ws.requester, ws.volunteers[0], ws.allies[0]
    send(box, priya, details="words of the case only")
    take(box, vera)
    find_and_match_ally(box, vera, amara)
    [match] = eventually(box, lambda s: s.exec(select(Match).where(Match.intro_ts != None)).all())  # noqa: E711
    with box.db.session() as s:
        ask = s.get(AllyRequest, match.request_id)
        assert ask is not None and ask.card_channel and ask.card_ts
        ask_card = (ask.card_channel, ask.card_ts)
    intro = (match.conversation_id, match.intro_ts)

    def shows_text() -> list[bool]:
        return [
            "words of the case only" in json.dumps(box.fake.message(*where))
            for where in (ask_card, intro)
        ]

    assert shows_text() == [True, True]
    settle(box)  # the match's own card updates are done before counting
    updates = len(box.fake.calls_to("chat.update"))
    _forget(box, priya.id)
    settle(box)  # whatever the confirmation does at once is done
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN / 2)
    assert shows_text() == [True, True], "nothing on the allies' side changes with her forget"
    assert len(box.fake.calls_to("chat.update")) == updates
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN + forget_rules.CASE_DELAY_SPREAD)
    assert shows_text() == [False, False]


def test_a_released_case_can_ask_the_allies_again(sqlite_sandbox: Sandbox) -> None:
    """A forgotten volunteer's open ask is withdrawn; the next holder can post a new one."""
    box = with_bot_in_volunteers(sqlite_sandbox)
    ws = box.workspace
    vera, victor = ws.volunteers
    send(box, ws.requester, details="an ask to pass on")
    take(box, vera)
    box.slack.click(vera.id, AnonymousIds.FIND_ALLY, message=card(box))
    asks = lambda: [  # noqa: E731
        c for c in box.fake.calls_to("chat.postMessage") if c.args["channel"] == ws.allies_channel
    ]
    until(lambda: len(asks()) == 1)
    # Vera hears of the ask last: the click no longer redraws the card under the forget's.
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "allies channel" in str(c.args),
    )
    _forget(box, vera.id)
    until(lambda: AnonymousIds.TAKE in json.dumps(card(box)["blocks"]))
    take(box, victor)
    box.slack.click(victor.id, AnonymousIds.FIND_ALLY, message=card(box))
    until(lambda: len(asks()) == 2)


def test_forget_me_is_in_help_and_needs_confirmation(sqlite_sandbox: Sandbox) -> None:
    """Help lists it; closing the modal deletes nothing."""
    box = sqlite_sandbox
    make_ally(box, box.workspace.allies[0])
    ally = box.workspace.allies[0].id
    box.slack.slash("/ally", "help", user_id=ally, channel_id="C0GENERAL")
    [helped] = box.fake.wait_for("chat.postEphemeral")
    assert "forget-me" in json.dumps(helped.args)
    box.slack.slash("/ally", "forget-me", user_id=ally, channel_id="C0GENERAL")
    box.fake.wait_for("views.open")
    modal = box.fake.current_view(ally)
    assert modal is not None
    box.slack.close_view(ally, modal)
    settle(box)
    with box.db.session() as s:
        assert s.exec(select(Ally).where(Ally.user_id == ally)).first() is not None
