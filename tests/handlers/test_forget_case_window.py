"""Forget-me's delayed case side: until it runs, a held case looks no different to anyone."""

from __future__ import annotations

import json
from typing import Any

from bot.devkit.sandbox import Person, Sandbox
from bot.privacy import privacy
from bot.rules import forget as forget_rules
from handlers.anonymous.ids import Ids
from storage.models.anonymous import AnonymousCase
from storage.types import utcnow
from tests.handlers.flows import (
    _database_text,
    _forget,
    card,
    roomy_lookup,  # noqa: F401  (autouse: room for users.info before the preview's ack)
    send,
    take,
    with_bot_in_volunteers,
)
from tests.helpers import settle


def _case(box: Sandbox, case_id: int) -> AnonymousCase:
    with box.db.session() as s:
        case = s.get(AnonymousCase, case_id)
        assert case is not None
        return case


def _open_modal(box: Sandbox, volunteer: Person, action: str) -> dict[str, Any] | None:
    """The volunteer clicks a button of the case card; the modal it opened, if any."""
    settle(box)
    before = len(box.fake.calls)
    box.slack.click(volunteer.id, action, message=card(box))
    settle(box)
    opened = [c for c in box.fake.calls[before:] if c.method == "views.open" and c.ok]
    return box.fake.current_view(volunteer.id) if opened else None


def _said_to(box: Sandbox, person: Person, since: int) -> str:
    """Everything the app showed or sent the person since call number `since`."""
    return json.dumps(
        [
            c.args
            for c in box.fake.calls[since:]
            if c.args.get("channel") == person.id
            or c.args.get("user") == person.id
            or c.method == "response_url"
        ]
    )


def test_a_held_case_behaves_as_open_until_the_case_side_runs(sandbox: Sandbox) -> None:
    """Link and marker go at once; text and state go only with the delayed redraws."""
    box = with_bot_in_volunteers(sandbox)
    ws = box.workspace
    priya, vera = ws.requester, ws.volunteers[0]
    case_id = send(box, priya, details="words of the case only")
    take(box, vera)
    marker = privacy(box.settings).marker(priya.id)
    handle = _case(box, case_id).handle

    _forget(box, priya.id)
    settle(box)

    # At once: nothing links the case to her; its redacted text stays for its redraws.
    assert marker not in _database_text(box)
    case = _case(box, case_id)
    assert case.requester_sealed is None and case.dm_sealed is None
    assert case.details == "words of the case only"
    # But the case looks as it did: held, open, its buttons working for its volunteer.
    assert case.status == "taken" and case.outcome is None and case.purged_at is None
    before = len(box.fake.calls)
    relay = _open_modal(box, vera, Ids.MESSAGE)
    assert relay is not None and relay["callback_id"] == Ids.RELAY_VIEW
    box.slack.submit_view(vera.id, relay, values={Ids.RELAY_INPUT: "Are you still there?"})
    settle(box)
    closing = _open_modal(box, vera, Ids.CLOSE)
    assert closing is not None and closing["callback_id"] == Ids.CLOSE_VIEW
    told = _said_to(box, vera, before)
    assert "is closed" not in told and "withdrawn" not in told
    assert handle in told  # the relay was answered like any other
    assert "Case" in json.dumps(card(box)["blocks"]) and Ids.TAKE not in json.dumps(card(box))
    sent_to_her = [c for c in box.fake.calls[before:] if priya.id in json.dumps(c.args)]
    assert sent_to_her == []

    # Hours later, with the case's cards: closed as withdrawn, and its volunteer told.
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN + forget_rules.CASE_DELAY_SPREAD)
    case = _case(box, case_id)
    assert case.status == "closed" and case.outcome == "withdrawn"
    assert case.purged_at is not None and case.details is None
    assert "words of the case only" not in _database_text(box)
    assert "has been deleted" in json.dumps(card(box)["blocks"])
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "withdrawn" in str(c.args),
    )
    assert Ids.CLOSE not in json.dumps(card(box)["blocks"])


def test_a_case_the_volunteer_closed_meanwhile_keeps_their_outcome(sandbox: Sandbox) -> None:
    """Closed by its volunteer within the hours: the later step only purges and redraws."""
    from tests.handlers.flows import close

    box = with_bot_in_volunteers(sandbox)
    ws = box.workspace
    priya, vera = ws.requester, ws.volunteers[0]
    case_id = send(box, priya, details="another case")
    take(box, vera)
    _forget(box, priya.id)
    settle(box)
    assert close(box, vera, "helped") == {}
    assert _case(box, case_id).outcome == "helped"
    settle(box)
    before = len(box.fake.calls)
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN + forget_rules.CASE_DELAY_SPREAD)
    case = _case(box, case_id)
    assert case.outcome == "helped" and case.purged_at is not None
    assert "withdrawn" not in _said_to(box, vera, before)
