"""Stories and events through the wire: forms, cards, conflicts, first decision wins, points."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import col, select

from bot.devkit import factories
from bot.devkit.sandbox import Sandbox
from handlers.yearend.ids import Ids
from storage.models.points import PointsEntry
from storage.models.yearend import AllyshipEvent, AllyshipStory
from tests.handlers.yearend_flows import (
    ALLY,
    REPORTER,
    VOL_OTHER,
    VOL_SAME,
    cards,
    click,
    fresh,
    log_event,
    setup,
    tell_story,
    volunteers,
)
from tests.helpers import settle, until

HOSTILE = "Stood up for me <!channel> <@U0BOSS> <https://x.example|y> & {{ 7*7 }}"


def _points(box: Sandbox) -> list[tuple[int, str, str]]:
    with box.db.session() as s:
        rows = s.execute(select(PointsEntry).order_by(col(PointsEntry.id))).scalars().all()
        return [(r.amount, r.kind, r.source) for r in rows]


def _story(box: Sandbox) -> AllyshipStory:
    with box.db.session() as s:
        story = s.execute(select(AllyshipStory)).scalars().one()
        s.expunge(story)
        return story


def _dms(box: Sandbox, user: str) -> str:
    return str(box.fake.dm_messages(user))


def test_a_story_goes_to_volunteers_as_a_card_naming_the_ally_never_the_reporter(
    sandbox: Sandbox,
) -> None:
    """The card names the ally and their unit, escapes the text, and has the three buttons."""
    box = sandbox
    setup(box)
    card = tell_story(box, HOSTILE)
    text = str(card["blocks"])
    assert f"<@{ALLY}>" in text and "Engineering" in text and REPORTER not in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "&lt;@U0BOSS&gt;" in text
    actions = [
        e["action_id"] for b in card["blocks"] for e in b.get("elements", []) if "action_id" in e
    ]
    assert actions == [Ids.ACCEPT_STORY, Ids.DECLINE_STORY, Ids.MARK_CREATIVE]
    until(lambda: "went to the volunteers" in _dms(box, REPORTER))


def test_accepting_awards_five_points_once_and_tells_reporter_and_ally(sandbox: Sandbox) -> None:
    """Accept: 5 points to the ally's unit, the card shows it, both told by DM; no repeat."""
    box = sandbox
    setup(box)
    card = tell_story(box)
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: "was accepted" in _dms(box, REPORTER))
    until(lambda: "your allyship" in _dms(box, ALLY))
    assert _points(box) == [(5, "story", f"story:{_story(box).id}:ally")]
    shown = fresh(box, card)
    assert "Accepted" in str(shown["blocks"]) and Ids.ACCEPT_STORY not in str(shown["blocks"])
    box.slack.click_raw(
        VOL_OTHER,
        Ids.ACCEPT_STORY,
        f"story:{_story(box).id}",
        channel=box.workspace.volunteers_channel,
    )
    until(lambda: any("first decision stands" in str(e) for e in box.fake.ephemerals(VOL_OTHER)))
    settle(box)
    assert len(_points(box)) == 1


@pytest.mark.parametrize("who", [REPORTER, ALLY, VOL_SAME])
def test_people_in_the_story_cannot_assess_it(sandbox: Sandbox, who: str) -> None:
    """The reporter, the ally and a volunteer of the ally's unit are refused, every time."""
    box = sandbox
    setup(box)
    volunteers(box, [VOL_OTHER, VOL_SAME, REPORTER, ALLY])
    card = tell_story(box)
    for action in (Ids.ACCEPT_STORY, Ids.MARK_CREATIVE, Ids.DECLINE_STORY):
        box.fake.reset_calls()
        click(box, who, card, action)
        box.fake.wait_for("chat.postEphemeral", predicate=lambda c: c.args.get("user") == who)
    settle(box)
    assert _points(box) == [] and _story(box).status == "pending" and not _story(box).creative
    assert box.fake.calls_to("views.open") == []


def test_a_non_volunteer_is_refused(sandbox: Sandbox) -> None:
    """Someone outside the volunteers channel cannot accept, even with a forged click."""
    box = sandbox
    setup(box)
    card = tell_story(box)
    click(box, box.workspace.colleague.id, card, Ids.ACCEPT_STORY)
    [answer] = box.fake.wait_for("response_url")
    assert "Only volunteers" in answer.args["text"]
    settle(box)
    assert _points(box) == [] and _story(box).status == "pending"


def test_double_clicks_and_two_volunteers_make_one_decision(sandbox: Sandbox) -> None:
    """Many accepts at once from two volunteers: one decision, 5 points once, one DM each."""
    box = sandbox
    setup(box)
    factories.member(box.db, "U0VOL2", "People")
    card = tell_story(box)
    shown = fresh(box, card)
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: box.slack.click(
                    [VOL_OTHER, VOL_SAME][i % 2],
                    Ids.ACCEPT_STORY,
                    message=shown,
                    channel=box.workspace.volunteers_channel,
                ),
                range(8),
            )
        )
    until(lambda: "was accepted" in _dms(box, REPORTER))
    settle(box)
    assert len(_points(box)) == 1
    told = [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == REPORTER and "accepted" in str(c.args.get("text"))
    ]
    assert len(told) == 1


def test_declining_asks_why_and_tells_the_reporter_in_those_words(sandbox: Sandbox) -> None:
    """decline_story opens assessment_decline; the reporter reads the volunteer's words, escaped."""
    box = sandbox
    setup(box)
    card = tell_story(box)
    click(box, VOL_OTHER, card, Ids.DECLINE_STORY)
    view = until(lambda: box.fake.current_view(VOL_OTHER))
    assert view["callback_id"] == Ids.DECLINE_VIEW
    empty = box.slack.submit_view(VOL_OTHER, view, {Ids.REASON: "   "})
    assert empty.json()["response_action"] == "errors"
    view = box.fake.current_view(VOL_OTHER)
    assert view is not None
    answer = box.slack.submit_view(
        VOL_OTHER, view, {Ids.REASON: "This was part of the programme <!here>"}
    )
    assert answer.json() is None
    until(lambda: "part of the programme" in _dms(box, REPORTER))
    assert "&lt;!here&gt;" in _dms(box, REPORTER)
    settle(box)
    assert _points(box) == [] and _story(box).status == "declined"
    assert "Declined" in str(fresh(box, card)["blocks"])
    assert ALLY not in [c.args.get("channel") for c in box.fake.calls_to("chat.postMessage")]


def test_creative_mark_toggles_and_survives_the_decision(sandbox: Sandbox) -> None:
    """mark_creative flips the mark, before and after acceptance."""
    box = sandbox
    setup(box)
    card = tell_story(box)
    click(box, VOL_OTHER, card, Ids.MARK_CREATIVE)
    until(lambda: "marked creative" in str(fresh(box, card)["blocks"]))
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: _story(box).status == "accepted")
    settle(box)
    assert _story(box).creative
    click(box, VOL_OTHER, card, Ids.MARK_CREATIVE)
    until(lambda: not _story(box).creative)


def test_an_ally_without_a_unit_waits(sandbox: Sandbox) -> None:
    """A story about someone not yet in the programme waits: accepting is refused until their
    unit is known, then it earns for that unit."""
    box = sandbox
    setup(box)
    stranger = box.workspace.allies[1].id
    card = tell_story(box, ally=stranger)
    assert "not known yet" in str(card["blocks"])
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: any("waits" in str(e) for e in box.fake.ephemerals(VOL_OTHER)))
    settle(box)
    assert _points(box) == [] and _story(box).status == "pending"
    factories.member(box.db, stranger, "Finance")
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: _points(box))
    assert _story(box).ally_unit_id is not None


def test_a_story_about_oneself_earns_nothing(sandbox: Sandbox) -> None:
    """The reporter naming themselves: accepted, counted, no points."""
    box = sandbox
    setup(box)
    card = tell_story(box, reporter=ALLY, ally=ALLY)
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: "earns no points" in _dms(box, ALLY))
    assert _points(box) == []


@pytest.mark.parametrize(
    ("values", "block", "words"),
    [
        ({Ids.WHAT: "   "}, Ids.WHAT, "Write what happened"),
        ({Ids.WHAT: "x" * 3001}, Ids.WHAT, "3000"),
        ({Ids.WHAT: "ok", Ids.WHEN: "2999-01-01"}, Ids.WHEN, "future"),
    ],
)
def test_bad_stories_get_a_modal_error_and_change_nothing(
    sqlite_sandbox: Sandbox, values: dict, block: str, words: str
) -> None:
    """Empty, over-long, future-dated: each a clear modal error."""
    box = sqlite_sandbox
    setup(box)
    box.fake.add_user("U0ROBOT", "robot", is_bot=True)
    box.slack.slash("/ally", "story", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    answer = box.slack.submit_view(REPORTER, view, {Ids.ALLY: ALLY, **values})
    body = answer.json()
    assert body["response_action"] == "errors" and words in body["errors"][block]
    settle(box)
    assert cards(box) == []
    with box.db.session() as s:
        assert s.execute(select(AllyshipStory)).first() is None


def test_a_resubmitted_form_records_one_story(sandbox: Sandbox) -> None:
    """Slack retrying a submission (same view id) records one story and posts one card."""
    box = sandbox
    setup(box)
    box.slack.slash("/ally", "story", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    values: dict[str, object] = {Ids.ALLY: ALLY, Ids.WHAT: "Twice"}
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: box.slack.submit_view(REPORTER, view, values), range(2)))
    until(lambda: cards(box))
    settle(box)
    assert len(cards(box)) == 1


def test_an_event_earns_fifteen_points_for_its_unit_once(sandbox: Sandbox) -> None:
    """Events: the organising unit's volunteer is refused; another accepts; 15 points once."""
    box = sandbox
    setup(box)
    card = log_event(box)
    assert "Engineering" in str(card["blocks"]) and REPORTER not in str(card["blocks"])
    click(box, VOL_SAME, card, Ids.ACCEPT_EVENT)
    until(lambda: any("organised this event" in str(e) for e in box.fake.ephemerals(VOL_SAME)))
    click(box, REPORTER, card, Ids.ACCEPT_EVENT)  # the logger, not a volunteer either
    shown = fresh(box, card)
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda _: box.slack.click(
                    VOL_OTHER,
                    Ids.ACCEPT_EVENT,
                    message=shown,
                    channel=box.workspace.volunteers_channel,
                ),
                range(4),
            )
        )
    until(lambda: "was accepted" in _dms(box, REPORTER))
    settle(box)
    with box.db.session() as s:
        event = s.execute(select(AllyshipEvent)).scalars().one()
        assert event.status == "accepted" and event.decided_by == VOL_OTHER
    assert [(a, k) for a, k, _ in _points(box)] == [(15, "event")]


def test_an_event_form_refuses_bad_input(sqlite_sandbox: Sandbox) -> None:
    """A future date and an empty title are modal errors."""
    box = sqlite_sandbox
    setup(box)
    box.slack.slash("/ally", "event", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    answer = box.slack.submit_view(
        REPORTER,
        view,
        {Ids.TITLE: " ", Ids.WHAT: "x", Ids.DATE: "2999-01-01", Ids.BUSINESS_UNIT: "Sales"},
    )
    assert answer.json()["response_action"] == "errors"
    view = box.fake.current_view(REPORTER)
    assert view is not None
    answer = box.slack.submit_view(
        REPORTER,
        view,
        {Ids.TITLE: "t", Ids.WHAT: "x", Ids.DATE: "2999-01-01", Ids.BUSINESS_UNIT: "Sales"},
    )
    assert "future" in answer.json()["errors"][Ids.DATE]


def test_a_deactivated_ally_is_refused(
    sqlite_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A story naming a deactivated account gets a modal error on the ally field."""
    from bot.devkit.fakeslack.state import User

    box = sqlite_sandbox
    setup(box)
    shown = User.to_api

    def deactivated(self: User) -> dict:
        answer = shown(self)
        if self.id == ALLY:
            answer["deleted"] = True
        return answer

    monkeypatch.setattr(User, "to_api", deactivated)
    box.slack.slash("/ally", "story", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    answer = box.slack.submit_view(REPORTER, view, {Ids.ALLY: ALLY, Ids.WHAT: "kind <words>"})
    assert answer.json() is None
    until(lambda: "deactivated" in _dms(box, REPORTER))
    assert "kind &lt;words&gt;" in _dms(box, REPORTER)
    settle(box)
    assert cards(box) == []


def test_an_event_for_an_unknown_unit_is_refused(sandbox: Sandbox) -> None:
    """A forged unit name (not among the options) records nothing."""
    from datetime import date

    from bot.rules.errors import InvalidInput
    from bot.rules.yearend import events

    form = events.EventForm("t", "w", date(2026, 1, 1), "Marketing")
    with pytest.raises(InvalidInput, match="not in the programme"), sandbox.db.session() as s:
        events.create_event(s, form=form, logged_by=REPORTER, submission_key="k")
    with sandbox.db.session() as s:
        assert s.execute(select(AllyshipEvent)).first() is None


def test_an_accept_and_a_decline_at_once_make_one_decision(sandbox: Sandbox) -> None:
    """Two volunteers, one accepting and one declining at the same moment: one decision wins,
    and points exist only if it was the acceptance."""
    box = sandbox
    setup(box)
    factories.member(box.db, VOL_SAME, "People")
    card = tell_story(box)
    click(box, VOL_SAME, card, Ids.DECLINE_STORY)
    view = until(lambda: box.fake.current_view(VOL_SAME))
    shown = fresh(box, card)
    with ThreadPoolExecutor(2) as pool:
        accept = pool.submit(
            box.slack.click,
            VOL_OTHER,
            Ids.ACCEPT_STORY,
            message=shown,
            channel=box.workspace.volunteers_channel,
        )
        decline = pool.submit(box.slack.submit_view, VOL_SAME, view, {Ids.REASON: "Not outside"})
        accept.result()
        decline.result()
    until(lambda: _story(box).status != "pending")
    settle(box)
    status = _story(box).status
    assert (status == "accepted") == (len(_points(box)) == 1)
    assert len(_points(box)) <= 1


@pytest.mark.parametrize(("ally", "words"), [("U0NOBODY", "cannot find"), ("U0ROBOT", "bot")])
def test_a_story_about_a_bot_or_nobody_is_not_recorded(
    sqlite_sandbox: Sandbox, ally: str, words: str
) -> None:
    """Who the ally is needs Slack, so it is checked after the ack: the reporter is told why
    by DM, with their own words to send again; nothing is recorded or posted."""
    box = sqlite_sandbox
    setup(box)
    box.fake.add_user("U0ROBOT", "robot", is_bot=True)
    box.slack.slash("/ally", "story", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    box.slack.submit_view(REPORTER, view, {Ids.ALLY: ally, Ids.WHAT: "They helped"})
    until(lambda: words in _dms(box, REPORTER))
    assert "They helped" in _dms(box, REPORTER)
    settle(box)
    assert cards(box) == []
    with box.db.session() as s:
        assert s.execute(select(AllyshipStory)).first() is None


def test_a_card_slack_refused_is_posted_by_the_sweep_once(sqlite_sandbox: Sandbox) -> None:
    """Slack failing the card post: the reporter is told it follows; the sweep posts it once."""
    from datetime import timedelta

    from storage.types import utcnow

    box = sqlite_sandbox
    setup(box)
    box.fake.fail_next("chat.postMessage", status=500, times=3)
    box.slack.slash("/ally", "story", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    box.slack.submit_view(REPORTER, view, {Ids.ALLY: ALLY, Ids.WHAT: "Kind"})
    until(lambda: "will be posted shortly" in _dms(box, REPORTER))
    settle(box)
    assert cards(box) == []
    box.run_due(utcnow() + timedelta(minutes=11))
    box.run_due(utcnow() + timedelta(minutes=30))
    assert len(cards(box)) == 1


@pytest.mark.parametrize("status", [500, 429])
def test_a_story_is_not_lost_when_slack_cannot_say_who_the_ally_is(
    sqlite_sandbox: Sandbox, status: int
) -> None:
    """users.info failing (5xx, or 429 past the retries): the reporter gets their own words
    back with a clear message to send it again; nothing half-checked is recorded; a resend
    once Slack answers goes through."""
    box = sqlite_sandbox
    setup(box)
    box.fake.fail_next("users.info", status=status, times=10, retry_after=0)
    box.slack.slash("/ally", "story", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    answer = box.slack.submit_view(REPORTER, view, {Ids.ALLY: ALLY, Ids.WHAT: "They spoke up <3"})
    assert answer.json() is None
    until(lambda: "send it again" in _dms(box, REPORTER))
    assert "They spoke up &lt;3" in _dms(box, REPORTER)
    assert "Something went wrong" not in _dms(box, REPORTER)
    settle(box)
    assert cards(box) == []
    with box.db.session() as s:
        assert s.execute(select(AllyshipStory)).first() is None


def test_a_story_naming_a_forgotten_person_is_refused(sqlite_sandbox: Sandbox) -> None:
    """The forget-me marker (or anything that is not a Slack user ID) as the ally: a clear
    modal error on the ally field, nothing recorded, Slack not even asked."""
    box = sqlite_sandbox
    setup(box)
    box.slack.slash("/ally", "story", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    box.fake.reset_calls()
    answer = box.slack.submit_view(REPORTER, view, {Ids.ALLY: "forgotten", Ids.WHAT: "Kind"})
    body = answer.json()
    assert body["response_action"] == "errors"
    assert "asked the programme to forget them" in body["errors"][Ids.ALLY]
    answer = box.slack.submit_view(REPORTER, view, {Ids.ALLY: "story:1", Ids.WHAT: "Kind"})
    assert "from the list of people" in answer.json()["errors"][Ids.ALLY]
    settle(box)
    assert box.fake.calls_to("users.info") == []
    assert cards(box) == []
    with box.db.session() as s:
        assert s.execute(select(AllyshipStory)).first() is None


def test_the_event_form_lets_every_unit_be_chosen(
    sqlite_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 units: the form lists every one in option groups (Slack takes 100 options a group),
    and one past the first hundred can be chosen. Too many units for a view's size: the name
    is typed and matched ignoring case; an unknown name is a clear modal error."""
    from bot.devkit.fakeslack.payloads import all_options
    from handlers.common import units as unit_choice

    box = sqlite_sandbox
    setup(box)
    for n in range(150):
        factories.business_unit(box.db, f"Unit {n:03}")
    box.slack.slash("/ally", "event", user_id=REPORTER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(REPORTER))
    [chooser] = [b["element"] for b in view["blocks"] if b.get("block_id") == Ids.BUSINESS_UNIT]
    assert "option_groups" in chooser
    assert all(len(g["options"]) <= 100 for g in chooser["option_groups"])
    assert {o["value"] for o in all_options(chooser)} >= {f"Unit {n:03}" for n in range(150)}
    card = log_event(box, unit="Unit 149")
    assert "Unit 149" in str(card["blocks"])

    monkeypatch.setattr(unit_choice, "OPTIONS_BUDGET", 100)
    box.slack.slash("/ally", "event", user_id=VOL_OTHER, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(VOL_OTHER))
    [typed] = [b["element"] for b in view["blocks"] if b.get("block_id") == Ids.BUSINESS_UNIT]
    assert typed["type"] == "plain_text_input"
    form = {Ids.TITLE: "t", Ids.WHAT: "w", Ids.DATE: "2026-10-10"}
    answer = box.slack.submit_view(VOL_OTHER, view, {**form, Ids.BUSINESS_UNIT: "Marketing"})
    assert "no business unit called" in answer.json()["errors"][Ids.BUSINESS_UNIT]
    before = len(cards(box))
    answer = box.slack.submit_view(VOL_OTHER, view, {**form, Ids.BUSINESS_UNIT: " unit 007 "})
    assert answer.json() is None
    until(lambda: len(cards(box)) > before)
    with box.db.session() as s:
        units = [e.business_unit_id for e in s.execute(select(AllyshipEvent)).scalars()]
    assert units == [
        factories.business_unit(box.db, "Unit 149"),
        factories.business_unit(box.db, "Unit 007"),
    ]


def test_no_connection_to_slack_is_a_lookup_to_retry_not_an_error() -> None:
    """users.info without a connection (an OSError, as urllib raises it): the reporter is asked
    to send it again, like a 5xx; it does not escape as "Something went wrong"."""
    from typing import cast
    from urllib.error import URLError

    from slack_sdk import WebClient

    from handlers.yearend import listeners

    class Offline:
        def users_info(self, user: str) -> None:
            raise URLError("connection refused")

    refusal = listeners._ally_refusal(cast(WebClient, Offline()), ALLY)
    assert refusal is not None and refusal.message == listeners.LOOKUP_FAILED
