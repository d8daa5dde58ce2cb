"""Permissions declared where listeners are registered: each refuses the wrong person, through
the wire, with the words they were always told, and records nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.devkit.sandbox import Person, Sandbox
from handlers import register_on
from handlers.allies import Ids as AlliesIds
from handlers.anonymous.ids import Ids as CaseIds
from handlers.common.listeners import Listeners
from handlers.common.permissions import Permission
from handlers.mentoring.ids import Ids as MentoringIds
from handlers.requests.ids import Ids as RequestIds
from handlers.yearend.ids import Ids as YearendIds
from storage.models.anonymous import AnonymousCase
from storage.models.requests import AllyRequest, Match
from tests.handlers.flows import (
    _ask,
    _make_allies,
    _offer_rows,
    _offers_dm,
    card,
    send,
    take,
    with_bot_in_volunteers,
)
from tests.helpers import settle, until


class _NoteApp:
    """Stands in for Bolt's App: every registration method takes the listener and keeps it."""

    def __getattr__(self, name: str) -> Callable[..., Callable[[Any], Any]]:
        return lambda *args, **kwargs: lambda listener: listener


def _declared() -> dict[str, str]:
    """Each registered listener's constraint and its permission's name."""
    on = Listeners(_NoteApp())  # type: ignore[arg-type]
    register_on(on)
    return {f"{r.kind}:{r.constraint}": r.permission.name for r in on.registered}


def test_every_registered_listener_declares_a_permission(sqlite_sandbox: Sandbox) -> None:
    """Nothing reaches Bolt except through the registrar, with a permission (even `anyone`)."""
    listeners = sqlite_sandbox.app._listeners
    undeclared = [
        getattr(listener.ack_function, "__name__", repr(listener))
        for listener in listeners
        if not isinstance(getattr(listener.ack_function, "permission", None), Permission)
    ]
    assert len(listeners) > 40
    assert undeclared == []


def test_who_may_do_what_is_declared_at_registration() -> None:
    """Volunteer, holder, requester, chooser and admin listeners say so where registered; the
    others are declared open to anyone (the rules check what is the person's own)."""
    declared = _declared()
    restricted = {
        "command:/ally-admin": "admins",
        f"action:{CaseIds.TAKE}": "volunteers",
        f"action:{CaseIds.MESSAGE}": "case holder",
        f"action:{CaseIds.CLOSE}": "case holder",
        f"action:{CaseIds.FIND_ALLY}": "case holder",
        f"view:{CaseIds.RELAY_VIEW}": "case holder",
        f"view:{CaseIds.CLOSE_VIEW}": "case holder",
        f"action:{CaseIds.REVEAL}": "case requester",
        f"action:{RequestIds.CHOOSE}": "request chooser",
        f"action:{RequestIds.WITHDRAW}": "request requester",
        f"action:{YearendIds.ACCEPT_STORY}": "volunteers",
        f"action:{YearendIds.ACCEPT_EVENT}": "volunteers",
        f"action:{YearendIds.MARK_CREATIVE}": "volunteers",
        f"view:{YearendIds.DECLINE_VIEW}": "volunteers",
        f"action:{YearendIds.CONFIRM_AWARDS}": "admins",
        f"action:{YearendIds.SEND_NUDGES}": "admins",
        "action:dismiss_report": "volunteers",
        "action:pause_requester": "volunteers",
        f"action:{MentoringIds.CONFIRM}": "admins",
        f"view:{AlliesIds.IMPORT_VIEW}": "admins",
    }
    assert {k: v for k, v in declared.items() if v != "anyone"} == restricted
    assert declared["command:/ally"] == "anyone"


def _told(box: Sandbox, user: str, words: str) -> bool:
    """Whether the person was told `words` privately (ephemeral, DM, or a response_url)."""
    said = box.fake.ephemerals(user) + box.fake.dm_messages(user)
    said += [c.args for c in box.fake.calls_to("response_url")]
    return words in json.dumps(said)


def _taken_case(box: Sandbox) -> tuple[Person, Person, int]:
    """A case Vera holds; returns (Vera, Wale: a volunteer who does not hold it, the case)."""
    with_bot_in_volunteers(box)
    vera, wale = box.workspace.volunteers
    case_id = send(box, box.workspace.requester)
    take(box, vera)
    settle(box)
    return vera, wale, case_id


def _case(box: Sandbox, case_id: int) -> AnonymousCase:
    with box.db.session() as session:
        found = session.get(AnonymousCase, case_id)
        assert found is not None
        return found


def test_only_the_holder_opens_writes_to_finds_an_ally_for_or_closes_a_case(
    sqlite_sandbox: Sandbox,
) -> None:
    """Another volunteer is refused every holder's button (no modal opens for them) and
    every holder's form (forged from the holder's own): nothing reaches the requester, no
    ask is posted, the case stays open."""
    box = sqlite_sandbox
    vera, wale, case_id = _taken_case(box)
    refusal = "Only the volunteer who took"
    opened = len(box.fake.calls_to("views.open"))
    for action in (CaseIds.MESSAGE, CaseIds.CLOSE, CaseIds.FIND_ALLY):
        box.slack.click(wale.id, action, message=card(box))
    until(lambda: sum(refusal in json.dumps(e) for e in box.fake.ephemerals(wale.id)) >= 3)
    settle(box)
    assert len(box.fake.calls_to("views.open")) == opened
    # The holder's own forms, submitted by someone else.
    box.slack.click(vera.id, CaseIds.MESSAGE, message=card(box))
    box.fake.wait_for("views.open", count=opened + 1)
    relay = box.fake.current_view(vera.id)
    assert relay is not None and relay["callback_id"] == CaseIds.RELAY_VIEW
    requester_before = len(box.fake.dm_messages(box.workspace.requester.id))
    box.slack.submit_view(wale.id, relay, values={CaseIds.RELAY_INPUT: "Forged words"})
    box.slack.click(vera.id, CaseIds.CLOSE, message=card(box))
    box.fake.wait_for("views.open", count=opened + 2)
    closing = box.fake.current_view(vera.id)
    assert closing is not None and closing["callback_id"] == CaseIds.CLOSE_VIEW
    box.slack.submit_view(wale.id, closing, values={CaseIds.OUTCOME: "helped"})
    until(lambda: json.dumps(box.fake.dm_messages(wale.id)).count(refusal) >= 2)
    settle(box)
    assert "Forged words" not in json.dumps([c.args for c in box.fake.calls])
    assert len(box.fake.dm_messages(box.workspace.requester.id)) == requester_before
    case = _case(box, case_id)
    assert case.status == "taken" and case.volunteer_id == vera.id
    assert case.ask_request_id is None
    with box.db.session() as session:
        assert session.exec(select(AllyRequest)).all() == []


def test_someone_outside_the_volunteers_channel_cannot_take_a_case(sandbox: Sandbox) -> None:
    """The take is declared for volunteers: a colleague's click leaves the case open."""
    box = sandbox
    with_bot_in_volunteers(box)
    case_id = send(box, box.workspace.requester)
    colleague = box.workspace.colleague.id
    box.slack.click(colleague, CaseIds.TAKE, message=card(box))
    until(lambda: _told(box, colleague, "Only the programme's volunteers"))
    settle(box)
    case = _case(box, case_id)
    assert case.status == "open" and case.volunteer_id is None


def test_only_the_person_who_asked_can_reveal_themselves(sqlite_sandbox: Sandbox) -> None:
    """The reveal button of a case, clicked by its holder, introduces nobody."""
    box = sqlite_sandbox
    vera, _, case_id = _taken_case(box)
    box.slack.click_raw(vera.id, CaseIds.REVEAL, str(case_id))
    until(lambda: _told(box, vera.id, "Only the person who asked can do this."))
    settle(box)
    assert _case(box, case_id).revealed_at is None
    groups = [c for c in box.fake.calls_to("conversations.open") if "," in c.args["users"]]
    assert groups == []


def test_only_the_person_who_asked_chooses_or_withdraws(sqlite_sandbox: Sandbox) -> None:
    """Another ally's forged choice or withdrawal of a named request changes nothing."""
    box = sqlite_sandbox
    _make_allies(box)
    amara, ben, _ = box.workspace.allies
    card_message = _ask(box)
    box.slack.click(amara.id, RequestIds.OFFER, message=card_message)
    until(lambda: _offers_dm(box))
    [offer] = _offer_rows(box)
    channel = box.workspace.allies_channel
    box.slack.click_raw(ben.id, RequestIds.CHOOSE, str(offer.id), channel=channel)
    box.slack.click_raw(ben.id, RequestIds.WITHDRAW, str(offer.request_id), channel=channel)
    until(lambda: _told(box, ben.id, "Only the person who asked can choose"))
    until(lambda: _told(box, ben.id, "Only the person who asked can withdraw"))
    settle(box)
    with box.db.session() as session:
        assert session.exec(select(Match)).all() == []
        request = session.get(AllyRequest, offer.request_id)
        assert request is not None and request.status == "open"


def test_only_admins_confirm_pairs_or_import_business_units(sqlite_sandbox: Sandbox) -> None:
    """A forged `confirm_pairs` is told it is for admins; a forged import is refused in its
    form, with the CSV kept there; nothing is confirmed or imported."""
    box = sqlite_sandbox
    colleague = box.workspace.colleague.id
    box.slack.click_raw(colleague, MentoringIds.CONFIRM, "1:1", channel="C0GENERAL")
    until(lambda: _told(box, colleague, "Confirming pairs is for programme admins."))
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    box.fake.wait_for("views.open")
    view = box.fake.current_view(admin)
    assert view is not None and view["callback_id"] == AlliesIds.IMPORT_VIEW
    answer = box.slack.submit_view(colleague, view, values={AlliesIds.CSV: "a@b.c,Sales"})
    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {AlliesIds.CSV.value: "Only programme admins can import."},
    }
    settle(box)
    assert box.fake.calls_to("users.lookupByEmail") == []
