"""A slow Slack holds no lock: while a post is under way (held at a gate in the fake), the
database takes another write at once; with every Web API call taking a second, twenty clicks
at once on SQLite are all acked well within Slack's 3 seconds, and nothing is doubled."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from bot.devkit.fakeslack import Response
from bot.devkit.sandbox import Person, Sandbox
from bot.jobs import queue as jobs
from storage.types import utcnow
from tests.handlers.flows import _ask, _make_allies, _offer_rows, open_preview
from tests.helpers import settle, until

SLACK_ACK_LIMIT = 3.0  # Slack's own limit, not a speed target: a lock held across calls breaks it
SLOW = 1.0
SLOW_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "conversations.open")


def _clicks(box: Sandbox, allies: list[Person], card: dict) -> list[tuple[float, Response]]:
    def click(person: Person) -> tuple[float, Response]:
        started = time.monotonic()
        answer = box.slack.click(person.id, "offer_help", message=card)
        return time.monotonic() - started, answer

    with ThreadPoolExecutor(len(allies)) as pool:
        return list(pool.map(click, allies))


def test_twenty_offers_at_once_with_a_slow_slack(sqlite_sandbox: Sandbox) -> None:
    box = sqlite_sandbox
    allies = [
        Person(f"U0MANY{n:02d}", f"ally{n}", f"Ally Number{n}", f"ally{n}@example.com")
        for n in range(20)
    ]
    for person in allies:
        box.fake.add_user(person.id, person.name, real_name=person.real_name, email=person.email)
    box.fake.set_members(box.workspace.allies_channel, [p.id for p in allies])
    _make_allies(box, *allies)
    card = _ask(box)
    for method in SLOW_METHODS:
        box.fake.delay(method, SLOW)

    answers = _clicks(box, allies, card)
    # Meanwhile someone's anonymous preview writes its sealed draft before its ack: no click's
    # Slack call holds the database, so it is neither refused nor kept waiting.
    started = time.monotonic()
    open_preview(box, box.workspace.colleague)
    preview_took = time.monotonic() - started

    assert all(answer.status == 200 for _, answer in answers)
    slowest = max(took for took, _ in answers)
    assert slowest < SLACK_ACK_LIMIT, f"an ack took {slowest:.1f} s"
    assert preview_took < 3 * SLACK_ACK_LIMIT  # it makes three requests of its own

    until(lambda: len(_offer_rows(box)) == 20, timeout=120)
    until(
        lambda: (
            len([c for c in box.fake.calls_to("chat.postEphemeral") if "may choose" in str(c.args)])
            == 20
        ),
        timeout=120,
    )
    settle(box)
    offers_dms = [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == box.workspace.requester.id
        and "choose_ally" in json.dumps(c.args.get("blocks"))
    ]
    assert len(offers_dms) == 1, "one offers DM, however many offers arrive at once"
    last = box.fake.dm_messages(box.workspace.requester.id)[-1]
    assert json.dumps(last).count("choose_ally") == 20, "it ends listing every offer"
    assert len(_offer_rows(box)) == 20


def _write_now(box: Sandbox) -> None:
    """A write that must not wait: SQLite's write lock is free (else OperationalError)."""
    with box.db.session(wait=0.5) as session:
        jobs.schedule(session, kind="probe", key=f"probe:{utcnow().isoformat()}", due_at=utcnow())


def test_no_write_lock_is_held_while_a_card_or_an_offers_dm_is_posted(
    sqlite_sandbox: Sandbox,
) -> None:
    """Each post is held at a gate in the fake while the test writes: the write goes at once."""
    box = sqlite_sandbox
    amara = box.workspace.allies[0]
    _make_allies(box, amara)
    gate = box.fake.gate("chat.postMessage")
    with ThreadPoolExecutor(1) as pool:
        asking = pool.submit(_ask, box)
        assert gate.arrived.wait(10)  # the request's card is being posted
        _write_now(box)
        gate.open()
        card = asking.result()
    gate = box.fake.gate("chat.postMessage")
    box.slack.click(amara.id, "offer_help", message=card)
    assert gate.arrived.wait(10)  # the offers DM is being posted to the requester
    _write_now(box)
    gate.open()
    until(lambda: len(_offer_rows(box)) == 1)
    settle(box)
