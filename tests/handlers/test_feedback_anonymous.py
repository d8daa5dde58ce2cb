"""Feedback from an anonymous requester, through the real app: nothing identifying is kept."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.devkit.sandbox import Person, Sandbox
from handlers.feedback import Ids
from storage.models.feedback import Feedback
from storage.types import utcnow
from tests.handlers.flows import (
    find_and_match_ally,
    identity_lookups,
    roomy_lookup,  # noqa: F401  (autouse: room for users.info before the preview's ack)
    send,
    take,
    with_bot_in_volunteers,
)
from tests.helpers import settle

SIGNED = "Thanks - Priya Raman, priya@example.com"


def _prompted_case(box: Sandbox) -> Person:
    """Priya asks anonymously, Vera takes it and matches Amara; the prompts go out."""
    ws = box.workspace
    priya, vera, amara = ws.requester, ws.volunteers[0], ws.allies[0]
    send(box, priya, details="my lead talks over me in meetings")
    take(box, vera)
    find_and_match_ally(box, vera, amara)
    settle(box)
    box.run_due(utcnow() + timedelta(days=30))
    return priya


def _relayed_prompt(box: Sandbox, person: Person) -> dict[str, Any]:
    [prompt] = [m for m in box.fake.dm_messages(person.id) if Ids.WORKED in str(m)]
    return prompt


def _comment_modal(box: Sandbox, person: Person) -> dict[str, Any]:
    """Click "It worked" on the relayed prompt, then "Add a comment"; the modal."""
    prompt = _relayed_prompt(box, person)
    box.slack.click(person.id, Ids.WORKED, message=prompt)
    box.fake.wait_for(
        "chat.update", predicate=lambda c: Ids.COMMENT in json.dumps(c.args.get("blocks"))
    )
    answered = box.fake.message(box.fake.im_channel(person.id), prompt["ts"])
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.click(person.id, Ids.COMMENT, message=answered)
    box.fake.wait_for("views.open", count=opened + 1)
    view = box.fake.current_view(person.id)
    assert view is not None and view["callback_id"] == Ids.COMMENT
    return view


def _requester_comment(box: Sandbox) -> str | None:
    with box.db.session() as s:
        row = s.exec(
            select(Feedback).where(Feedback.role == "requester", Feedback.user_id == None)  # noqa: E711
        ).one()
        return row.comment


def test_an_anonymous_requesters_comment_is_stored_redacted(sandbox: Sandbox) -> None:
    """Their names and contact details are removed before the comment is stored."""
    box = with_bot_in_volunteers(sandbox)
    priya = _prompted_case(box)
    view = _comment_modal(box, priya)
    settle(box)
    box.deps.identities.clear()  # weeks after the request: their names are looked up again
    looked_up = len(identity_lookups(box, priya, ok=True))
    answer = box.slack.submit_view(priya.id, view, {Ids.COMMENT_BLOCK: SIGNED})
    assert answer.status == 200 and answer.json() is None
    settle(box)  # the comment is stored after the ack
    assert len(identity_lookups(box, priya, ok=True)) == looked_up + 1
    stored = _requester_comment(box)
    assert stored is not None and stored.startswith("Thanks")
    for trace in ("Priya", "Raman", "priya", "example.com"):
        assert trace not in stored, stored
    assert "[name removed]" in stored and "[e-mail removed]" in stored
    assert "removed" in json.dumps(view["blocks"]), "the modal said names are removed"


def test_a_failed_name_lookup_stores_nothing_and_asks_again(sandbox: Sandbox) -> None:
    """users.info failing after the ack: no unredacted text is stored; the person is told."""
    box = with_bot_in_volunteers(sandbox)
    priya = _prompted_case(box)
    view = _comment_modal(box, priya)
    settle(box)
    box.deps.identities.clear()
    box.fake.fail_next("users.info", status=500, times=10)
    box.slack.submit_view(priya.id, view, {Ids.COMMENT_BLOCK: SIGNED})
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == priya.id and "could not save" in str(c.args),
    )
    settle(box)
    assert _requester_comment(box) is None
