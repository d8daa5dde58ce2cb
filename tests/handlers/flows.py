"""Flows the end-to-end tests share: signed requests through the real app, and waits on
what it did (never on time)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

import handlers.anonymous.surface
import handlers.common.roster
from bot.devkit import factories
from bot.devkit.fakeslack import Call, Response
from bot.devkit.sandbox import Person, Sandbox
from bot.jobs import queue as jobs
from bot.privacy import privacy
from bot.rules import allies
from bot.rules.anonymous import cases
from handlers.anonymous.ids import Ids as AnonymousIds
from handlers.forget import Ids as ForgetIds
from handlers.requests.ids import Ids as RequestsIds
from handlers.requests.surface import post_card
from storage.models.anonymous import AnonymousCase
from storage.models.requests import AllyRequest, Offer
from tests.helpers import settle, until

# Elsewhere a loaded CI machine gets all the room Bolt's 3 s ack allows: the previews made
# without a prefetch must still come out complete (redacted with the names).
ROOMY_QUICK_LOOKUP = 2.5


DETAILS = (
    "Hi, I'm Priya Raman (priya on Slack, priya@example.com, +44 7700 900123). "
    "My lead <@U0COLLEAGUE> talks over me; see https://wiki.example.com/me"
)


def with_bot_in_volunteers(box: Sandbox) -> Sandbox:
    """The bot must be invited to the private volunteers channel, as in a real workspace."""
    ws = box.workspace
    box.fake.set_members(
        ws.volunteers_channel, [*(v.id for v in ws.volunteers), box.fake.bot_user_id]
    )
    return box


@pytest.fixture(autouse=True)
def roomy_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback users.info before a preview's ack may take ROOMY_QUICK_LOOKUP s here.

    open_preview waits for the prefetch, so only previews made with a cold cache (a failed
    prefetch, a modal opened by another replica) call users.info before the ack.
    """
    monkeypatch.setattr(handlers.anonymous.surface, "QUICK_LOOKUP", ROOMY_QUICK_LOOKUP)


def open_preview(
    box: Sandbox, person: Person, details: str = DETAILS, timing: str | None = None
) -> dict[str, Any]:
    """Open the request modal, let it fetch the person's names, submit it as anonymous.

    Returns the completed preview.
    """
    before = len(identity_lookups(box, person, ok=True))
    box.slack.slash("/ally", "", user_id=person.id, channel_id=box.workspace.general_channel)
    box.fake.wait_for("views.open", predicate=lambda c: _opened_for(box, c, person))
    modal = box.fake.current_view(person.id)
    assert modal is not None and modal["callback_id"] == RequestsIds.REQUEST_VIEW
    wait_prefetched(box, person, before)
    answer = submit_anonymously(box, person, modal, details, timing)
    assert answer.status == 200
    assert answer.json()["response_action"] == "update"
    preview = box.fake.current_view(person.id)
    assert preview is not None and preview["callback_id"] == AnonymousIds.PREVIEW
    assert preview.get("submit"), "the preview is complete (redacted with the names)"
    return preview


def submit_anonymously(
    box: Sandbox,
    person: Person,
    modal: dict[str, Any],
    details: str = DETAILS,
    timing: str | None = None,
) -> Response:
    """Submit the request modal with kind anonymous; returns the app's answer (the ack)."""
    return box.slack.submit_view(
        person.id,
        modal,
        values={
            RequestsIds.KIND: "anonymous",
            RequestsIds.CATEGORY: "career_advice",
            RequestsIds.DETAILS: details,
            RequestsIds.TIMING: timing,
            RequestsIds.CONSENT: True,
        },
    )


def identity_lookups(box: Sandbox, person: Person, ok: bool | None = None) -> list[Call]:
    """The users.info calls about the person (successful or failed unless ok is given)."""
    return [
        c
        for c in box.fake.calls_to("users.info")
        if c.args.get("user") == person.id and (ok is None or c.ok == ok)
    ]


def wait_prefetched(box: Sandbox, person: Person, before: int) -> None:
    """Wait until the modal's opening fetched the person's names and the app keeps them."""
    box.fake.wait_for(
        "users.info", count=before + 1, predicate=lambda c: c.args.get("user") == person.id
    )
    # The answer is stored just after the fake records the call: wait for it, do not race it.
    waited = 0.0
    while box.deps.identities.get(person.id) is None and waited < 15.0:
        threading.Event().wait(0.02)
        waited += 0.02
    assert box.deps.identities.get(person.id) is not None, "the names were not kept"


def _opened_for(box: Sandbox, call: Any, person: Person) -> bool:
    return box.fake.current_view(person.id) is not None


def send(box: Sandbox, person: Person, details: str = DETAILS, timing: str | None = None) -> int:
    """Ask anonymously and confirm; return the case id once its card and thread are posted."""
    preview = open_preview(box, person, details, timing)
    box.slack.submit_view(person.id, preview)
    vol = box.workspace.volunteers_channel
    box.fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == vol)
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: str(c.args.get("channel", "")).startswith("D")
    )
    case_id = int(card(box)["blocks"][-2]["elements"][0]["value"])
    eventually(box, lambda s: (s.get(AnonymousCase, case_id) or AnonymousCase()).thread_ts)
    return case_id


def eventually(box: Sandbox, check: Any, timeout: float = 15.0) -> Any:
    """Wait until check(session) is truthy (the app commits after its Web API calls)."""
    waited = 0.0
    while True:
        with box.db.session() as session:
            found = check(session)
        if found or waited >= timeout:
            assert found, "the app did not record it in time"
            return found
        threading.Event().wait(0.05)
        waited += 0.05


def card(box: Sandbox, case_id: int | None = None) -> dict[str, Any]:
    """The latest case card in the volunteers channel."""
    cards = [
        m
        for m in box.fake.messages(box.workspace.volunteers_channel)
        if m.get("blocks") and m["blocks"][0].get("type") == "header"
    ]
    assert cards, "no case card posted"
    return cards[-1]


def _told(words: str, channel: str | None = None) -> Any:
    """Matches a chat.postMessage carrying `words` (to `channel` if given)."""
    return lambda c: (channel is None or c.args.get("channel") == channel) and words in str(c.args)


def _count(box: Sandbox, predicate: Any) -> int:
    return len([c for c in box.fake.calls_to("chat.postMessage") if c.ok and predicate(c)])


def _wait_one_more(box: Sandbox, predicate: Any, before: int) -> None:
    box.fake.wait_for("chat.postMessage", count=before + 1, predicate=predicate)


def take(box: Sandbox, volunteer: Person) -> None:
    """A volunteer takes the latest case; returns once the take's work is done.

    That is when the requester is told (after the card update): any other chat.update (a
    close still being drawn, say) must not pass for this take's.
    """
    told = _told("has taken")
    before = _count(box, told)
    box.slack.click(volunteer.id, AnonymousIds.TAKE, message=card(box))
    _wait_one_more(box, told, before)


def relay_to_requester_via_modal(box: Sandbox, volunteer: Person, text: str) -> None:
    """The holding volunteer writes to the requester through the relay_message modal.

    Returns once the volunteer is told it was passed on (the relay's last step).
    """
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.click(volunteer.id, AnonymousIds.MESSAGE, message=card(box))
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view(volunteer.id)
    assert modal is not None and modal["callback_id"] == AnonymousIds.RELAY_VIEW
    passed_on = _told("was passed on", volunteer.id)
    before = _count(box, passed_on)
    box.slack.submit_view(volunteer.id, modal, values={AnonymousIds.RELAY_INPUT: text})
    _wait_one_more(box, passed_on, before)


def thread_root(box: Sandbox, person: Person) -> dict[str, Any]:
    """The root message of the person's (latest) case thread in their DM."""
    roots = [m for m in box.fake.dm_messages(person.id) if "sent as" in m.get("text", "")]
    assert roots
    return roots[-1]


def make_ally(box: Sandbox, person: Person) -> None:
    """Sign a person up as an available ally."""
    with box.db.session() as session:
        allies.seed_business_units(session, ["Engineering"])
    with box.db.session() as session:
        allies.join(session, user_id=person.id, business_unit="Engineering", available=True)


def find_and_match_ally(box: Sandbox, volunteer: Person, ally: Person) -> None:
    """The volunteer posts an ask for the case, the ally offers, the volunteer chooses."""
    make_ally(box, ally)
    box.slack.click(volunteer.id, AnonymousIds.FIND_ALLY, message=card(box))
    allies_channel = box.workspace.allies_channel
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: c.args.get("channel") == allies_channel
    )
    ask = box.fake.messages(allies_channel)[-1]
    box.slack.click(ally.id, RequestsIds.OFFER, message=ask)
    [offers] = box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: (
            c.args.get("channel") == volunteer.id
            and RequestsIds.CHOOSE in str(c.args.get("blocks"))
        ),
    )
    offers_message = box.fake.message(offers.response["channel"], offers.response["ts"])
    box.slack.click(volunteer.id, RequestsIds.CHOOSE, message=offers_message)
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "ally has been found" in str(c.args.get("text"))
    )


def close(box: Sandbox, volunteer: Person, outcome: str, pause: bool = False) -> dict[str, Any]:
    """The holder closes the latest case through the close modal.

    A close that is accepted returns once the volunteer is told (its last step): by then the
    case is closed, its purge scheduled and the requester told.
    """
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.click(volunteer.id, AnonymousIds.CLOSE, message=card(box))
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view(volunteer.id)
    assert modal is not None
    values: dict[str, Any] = {AnonymousIds.OUTCOME: outcome}
    if pause:
        values[AnonymousIds.PAUSE] = ["pause"]
    closed = _told("You closed", volunteer.id)
    before = _count(box, closed)
    answer = box.slack.submit_view(volunteer.id, modal, values=values).json() or {}
    if answer.get("response_action") != "errors":
        _wait_one_more(box, closed, before)
    return answer


def _bot_in_volunteers(box: Sandbox) -> None:
    """The bot is invited to the private volunteers channel, as the README asks."""
    channel = box.workspace.volunteers_channel
    members = [p.id for p in box.workspace.volunteers]
    box.fake.set_members(channel, [*members, box.fake.bot_user_id])


def _make_allies(box: Sandbox, *people: Any, available: bool = True) -> None:
    for person in people or box.workspace.allies:
        factories.ally(box.db, person.id, available=available)


CONFIRMATION = "Your request for an ally was posted."


def _confirmation(asker: str) -> Callable[[Call], bool]:
    return lambda c: c.args.get("channel") == asker and c.args.get("text") == CONFIRMATION


def _ask(box: Sandbox, details: str = "Help me prepare for my promotion panel.") -> dict:
    """Priya asks by name through `/ally` and the modal; returns the card message.

    Returns once the asker has her confirmation, the submission's last step: the card's ts
    is recorded by then (a reaction to the card finds its request).
    """
    asker = box.workspace.requester.id
    before = len(box.fake.messages(box.workspace.allies_channel))
    confirmed = len(
        [c for c in box.fake.calls_to("chat.postMessage") if c.ok and _confirmation(asker)(c)]
    )
    box.slack.slash("/ally", "", user_id=asker, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(asker))
    answer = box.slack.submit_view(
        asker,
        view,
        {
            RequestsIds.KIND: "named",
            RequestsIds.CATEGORY: "career_advice",
            RequestsIds.DETAILS: details,
            RequestsIds.CONSENT: True,
            RequestsIds.TIMING: "before Friday",
        },
    )
    assert answer.status == 200 and answer.json() is None
    messages = until(lambda: box.fake.messages(box.workspace.allies_channel)[before:] or None)
    box.fake.wait_for("chat.postMessage", count=confirmed + 1, predicate=_confirmation(asker))
    return messages[0]


def _card(box: Sandbox, card: dict) -> dict:
    return box.fake.message(card["channel"], card["ts"])


def _offers_dm(box: Sandbox) -> list[dict]:
    """The requester's DMs that list offers."""
    return [
        m
        for m in box.fake.dm_messages(box.workspace.requester.id)
        if RequestsIds.CHOOSE in json.dumps(m) or "Allies offered" in json.dumps(m)
    ]


def _offer_rows(box: Sandbox) -> list[Offer]:
    with box.db.session() as s:
        return list(s.exec(select(Offer).where(Offer.active == True)))  # noqa: E712


HANDLE = "Case K3F9"


def _volunteers(box: Sandbox, *people: str) -> None:
    """Who is in the volunteers channel (the bot is invited)."""
    box.fake.set_members(box.workspace.volunteers_channel, [*people, box.fake.bot_user_id])


def _case_ask(box: Sandbox) -> tuple[int, int, dict]:
    """Priya's anonymous case, taken by Vera, with its ask posted: (case id, ask id, card).

    The case's own card is never posted: these tests start from its ask.
    """
    priya, vera = box.workspace.requester.id, box.workspace.volunteers[0].id
    case_id = factories.anonymous_case(
        box.db,
        privacy(box.settings),
        requester=priya,
        volunteer=vera,
        details="Help with a difficult review.",
        handle=HANDLE,
    )
    with box.db.session() as s:
        jobs.cancel(s, key=cases.card_key(case_id))
    request_id = factories.case_ask(box.db, case_id)
    assert post_card(box.client, box.deps, request_id)
    with box.db.session() as s:
        ask = s.get(AllyRequest, request_id)
        assert ask is not None and ask.card_channel and ask.card_ts
        card = box.fake.message(ask.card_channel, ask.card_ts)
    return case_id, request_id, card


def _forget(box: Sandbox, user_id: str) -> dict[str, Any]:
    """Run `/ally forget-me` and confirm it; returns the confirmation modal."""
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.slash("/ally", "forget-me", user_id=user_id, channel_id="C0GENERAL")
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view(user_id)
    assert modal is not None and modal["callback_id"] == ForgetIds.VIEW
    answer = box.slack.submit_view(user_id, modal)
    assert answer.status == 200
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == user_id and "data is deleted" in str(c.args),
    )
    settle(box)  # its own run of the follow-ups is over too
    return modal


def _database_text(box: Sandbox) -> str:
    """Every row of every table, as text."""
    parts: list[str] = []
    with box.db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table == "alembic_version":
                continue
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            parts.extend(json.dumps([str(v) for v in row]) for row in rows)
    return "\n".join(parts)
