"""The misuse review: one card per request with a count, dismiss or pause by a volunteer,
admin pause/unpause, a paused person told kindly and shown the pause in `/ally status`."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.devkit.sandbox import Sandbox
from bot.privacy import privacy
from handlers.requests.ids import Ids as RequestsIds
from handlers.surveys.ids import Ids
from storage.models.anonymous import CasePause
from tests.handlers.flows import _ask, _bot_in_volunteers, _case_ask, _volunteers
from tests.helpers import settle, until

ADMIN = "U0ADMIN"


def _card(box: Sandbox) -> dict:
    [card] = box.fake.messages(box.workspace.volunteers_channel)
    return card


def _report_twice(box: Sandbox) -> dict:
    _bot_in_volunteers(box)
    request_card = _ask(box)
    amara, ben, _ = box.workspace.allies
    box.slack.click(amara.id, RequestsIds.REPORT, message=request_card)
    until(lambda: box.fake.messages(box.workspace.volunteers_channel))
    box.slack.click(ben.id, RequestsIds.REPORT, message=request_card)
    box.fake.wait_for("chat.update", predicate=lambda c: "by 2 people" in json.dumps(c.args))
    settle(box)
    return _card(box)


def _try_to_ask(box: Sandbox) -> dict:
    asker = box.workspace.requester.id
    box.slack.slash("/ally", "", user_id=asker, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(asker))
    answer = box.slack.submit_view(
        asker,
        view,
        {
            RequestsIds.KIND: "named",
            RequestsIds.CATEGORY: "career_advice",
            RequestsIds.DETAILS: "Again",
            RequestsIds.CONSENT: True,
        },
    )
    return answer.json() or {}


def _admin(box: Sandbox, words: str) -> str:
    before = len(box.fake.calls_to("chat.postEphemeral"))
    box.slack.slash("/ally-admin", words, user_id=ADMIN)
    settle(box)
    return json.dumps([c.args for c in box.fake.calls_to("chat.postEphemeral")[before:]])


def test_reports_make_one_card_with_a_count_and_a_volunteer_dismisses_it(
    sandbox: Sandbox,
) -> None:
    """Two reporters: one card saying 2 people, naming neither; Dismiss retires its buttons,
    and a second decision is refused."""
    box = sandbox
    card = _report_twice(box)
    shown = json.dumps(card)
    assert "by 2 people" in shown
    assert all(p.id not in shown for p in box.workspace.allies)
    assert Ids.DISMISS.value in shown and Ids.PAUSE.value in shown
    vera, wale = box.workspace.volunteers
    box.slack.click(vera.id, Ids.DISMISS.value, message=card)
    box.fake.wait_for("chat.update", predicate=lambda c: "Dismissed by" in json.dumps(c.args))
    settle(box)
    after = json.dumps(_card(box))
    assert "Dismissed by" in after and Ids.PAUSE.value not in after
    box.slack.click(wale.id, Ids.PAUSE.value, message=card)
    settle(box)
    assert "already dismissed" in json.dumps(box.fake.ephemerals(wale.id))
    assert _try_to_ask(box).get("response_action") != "errors"


def test_only_volunteers_decide(sandbox: Sandbox) -> None:
    """An ally who is not a volunteer cannot dismiss or pause."""
    box = sandbox
    card = _report_twice(box)
    ally = box.workspace.allies[2]
    box.slack.click(ally.id, Ids.PAUSE.value, message=card)
    settle(box)
    assert "Only the programme's volunteers" in json.dumps(box.fake.ephemerals(ally.id))
    assert Ids.PAUSE.value in json.dumps(_card(box))


def test_pausing_the_requester_stops_their_requests_kindly_until_unpaused(
    sandbox: Sandbox,
) -> None:
    """Pause from the card: the requester's next request is refused kindly in the form, the
    pause shows in `/ally status`; an admin's unpause lets them ask again."""
    box = sandbox
    card = _report_twice(box)
    vera = box.workspace.volunteers[0]
    box.slack.click(vera.id, Ids.PAUSE.value, message=card)
    box.fake.wait_for("chat.update", predicate=lambda c: "was paused by" in json.dumps(c.args))
    answer = _try_to_ask(box)
    assert answer["response_action"] == "errors"
    assert "requests are paused" in json.dumps(answer["errors"])
    asker = box.workspace.requester.id
    box.slack.slash("/ally", "status", user_id=asker, channel_id=box.workspace.general_channel)
    settle(box)
    assert "requests are paused" in json.dumps(box.fake.ephemerals(asker))
    # The request was made by name: its card's pause hides nobody, so admins see and lift it
    # (a pause from an anonymous case is another record, which they never see).
    assert "already paused" in _admin(box, f"pause <@{asker}|priya>")
    assert "no longer paused" in _admin(box, f"unpause <@{asker}>")
    assert "not paused" in _admin(box, f"unpause <@{asker}>")
    assert _try_to_ask(box).get("response_action") != "errors"


def test_admin_pause_and_bad_input(sandbox: Sandbox) -> None:
    """`pause <@U…|name>` pauses; pausing again says so; a pause without a person is refused."""
    box = sandbox
    person = box.workspace.colleague.id
    assert "is paused" in _admin(box, f"pause <@{person}|tom>")
    assert "already paused" in _admin(box, f"pause <@{person}>")
    assert "Name one person" in _admin(box, "pause tom")


def test_pausing_an_anonymous_requester_works_by_marker_alone(sandbox: Sandbox) -> None:
    """A report on a case's ask, paused from the card: the pause is the case's marker; nobody
    is told who asked; the requester can then ask neither anonymously nor by name."""
    box = sandbox
    vera = box.workspace.volunteers[0].id
    _volunteers(box, vera)
    _, _, ask_card = _case_ask(box)
    reporter = box.workspace.allies[0].id
    box.slack.click(reporter, RequestsIds.REPORT, message=ask_card)
    until(lambda: box.fake.messages(box.workspace.volunteers_channel))
    card = [m for m in box.fake.messages(box.workspace.volunteers_channel) if "dismiss" in str(m)]
    box.slack.click(vera, Ids.PAUSE.value, message=card[-1])
    box.fake.wait_for("chat.update", predicate=lambda c: "was paused by" in json.dumps(c.args))
    settle(box)
    priya = box.workspace.requester.id
    with box.db.session() as session:
        [pause] = session.exec(select(CasePause)).all()
    assert pause.requester_marker == privacy(box.settings).marker(priya)
    everything = json.dumps([c.args for c in box.fake.calls]) + json.dumps(
        box.fake.messages(box.workspace.volunteers_channel)
    )
    assert priya not in everything.replace(f'"user": "{priya}"', "")
    assert "requests are paused" in json.dumps(_try_to_ask(box)["errors"])


def _pause_the_hidden_requester(box: Sandbox) -> str:
    """Priya's anonymous case's ask is reported and paused from the card; returns her ID."""
    vera = box.workspace.volunteers[0].id
    _volunteers(box, vera)
    _, _, ask_card = _case_ask(box)
    box.slack.click(box.workspace.allies[0].id, RequestsIds.REPORT, message=ask_card)
    until(lambda: box.fake.messages(box.workspace.volunteers_channel))
    card = [m for m in box.fake.messages(box.workspace.volunteers_channel) if "dismiss" in str(m)]
    box.slack.click(vera, Ids.PAUSE.value, message=card[-1])
    box.fake.wait_for("chat.update", predicate=lambda c: "was paused by" in json.dumps(c.args))
    settle(box)
    return box.workspace.requester.id


def test_admin_pause_commands_tell_nothing_about_an_anonymous_requesters_pause(
    sandbox: Sandbox,
) -> None:
    """The hidden requester (paused from her case's card) and a colleague nobody paused get
    the same answers to pause, pause again, unpause and unpause again; the admin's unpause
    lifts only the admin's pause, so the case's pause still refuses her."""
    box = sandbox
    priya = _pause_the_hidden_requester(box)
    tom = box.workspace.colleague.id

    def answers(person: str) -> list[str]:
        words = ["pause", "pause", "unpause", "unpause"]
        return [_admin(box, f"{w} <@{person}>").replace(person, "PERSON") for w in words]

    hidden, other = answers(priya), answers(tom)
    assert hidden == other
    assert "is paused" in hidden[0] and "already paused" in hidden[1]
    assert "no longer paused" in hidden[2] and "not paused" in hidden[3]
    assert "requests are paused" in json.dumps(_try_to_ask(box)["errors"])
