"""Anonymous requests through the real app and the fake Slack: preview, case, relay, close."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

import handlers.anonymous.surface
import handlers.common.roster
from bot.devkit.sandbox import Person, Sandbox
from bot.jobs import queue as jobs
from bot.privacy import Identity, IdentityCache, privacy
from bot.rules.anonymous import cases
from handlers.anonymous.ids import Ids as AnonymousIds
from handlers.requests.ids import Ids as RequestsIds
from storage.models.anonymous import AnonymousCase, CaseDraft
from storage.models.requests import Match
from storage.types import utcnow
from tests.handlers.flows import (
    DETAILS,
    card,
    close,
    eventually,
    find_and_match_ally,
    identity_lookups,
    open_preview,
    relay_to_requester_via_modal,
    roomy_lookup,  # noqa: F401  (a fixture)
    send,
    submit_anonymously,
    take,
    thread_root,
    wait_prefetched,
    with_bot_in_volunteers,
)
from tests.helpers import settle

# Production waits this long for users.info before the preview's ack when the names were not
# fetched as the modal opened (the slow test uses it).
PRODUCTION_QUICK_LOOKUP = handlers.anonymous.surface.QUICK_LOOKUP


# helpers shared with tests/test_privacy_adversarial.py


@pytest.fixture
def box(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox on both databases, bot invited to the volunteers channel."""
    yield with_bot_in_volunteers(sandbox)


@pytest.fixture
def sbox(sqlite_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox on SQLite, bot invited to the volunteers channel."""
    yield with_bot_in_volunteers(sqlite_sandbox)


def _purge_item(case_id: int) -> jobs.DueWork:
    """A case's retention purge as the sweep hands it to its handler."""
    return jobs.DueWork(
        id=0,
        kind=cases.PURGE,
        key=cases.purge_key(case_id),
        due_at=utcnow(),
        payload=cases.CaseItem(case_id=case_id).model_dump(mode="json"),
        attempts=0,
    )


def texts(calls: list[Any]) -> str:
    """Everything the given calls carried, as one string."""
    return " ".join(str(c.args) for c in calls)


# 1. asking anonymously


def test_preview_shows_exactly_the_redacted_text(sbox: Sandbox) -> None:
    """The preview has mentions, names, e-mail, phone and links removed, with Send and Edit."""
    box = sbox
    preview = open_preview(box, box.workspace.requester, timing="before Priya's review")
    shown = str(preview["blocks"])
    for secret in ("Priya", "Raman", "priya", "7700", "U0COLLEAGUE", "wiki.example", "@example"):
        assert secret not in shown
    for marker in (
        "[name removed]",
        "[phone number removed]",
        "[mention removed]",
        "[link removed]",
    ):
        assert marker in shown
    assert "talks over me" in shown
    assert any(
        e.get("action_id") == AnonymousIds.EDIT
        for b in preview["blocks"]
        for e in b.get("elements", [])
    )
    assert "private_metadata" in preview and "Priya" not in preview["private_metadata"]
    assert len(preview["private_metadata"]) < 200


def test_edit_goes_back_to_the_request_modal_with_the_text_kept(sbox: Sandbox) -> None:
    """Edit shows the request modal again, prefilled with what the requester wrote."""
    box = sbox
    asker = box.workspace.requester
    preview = open_preview(box, asker, timing="soon")
    settle(box)
    before = len(box.fake.calls_to("views.update"))
    box.slack.click(asker.id, AnonymousIds.EDIT, view=preview)
    box.fake.wait_for("views.update", count=before + 1)
    modal = box.fake.current_view(asker.id)
    assert modal is not None and modal["callback_id"] == RequestsIds.REQUEST_VIEW
    details = next(b for b in modal["blocks"] if b.get("block_id") == RequestsIds.DETAILS)
    assert details["element"]["initial_value"] == DETAILS
    # The draft is taken just after the view is updated.
    eventually(box, lambda session: session.exec(select(CaseDraft)).all() == [])


def _assert_redacted(view: dict[str, Any]) -> None:
    shown = str(view["blocks"])
    for secret in ("Priya", "Raman", "priya", "7700", "U0COLLEAGUE"):
        assert secret not in shown
    assert "[name removed]" in shown and "talks over me" in shown
    assert view.get("submit"), "complete: redacted with the requester's names"


def test_names_are_fetched_as_the_modal_opens_not_before_the_preview_ack(sbox: Sandbox) -> None:
    """users.info runs after views.open; the anonymous submission is answered without it."""
    box = sbox
    asker = box.workspace.requester
    box.slack.slash("/ally", "", user_id=asker.id, channel_id=box.workspace.general_channel)
    wait_prefetched(box, asker, 0)
    methods = [c.method for c in box.fake.calls]
    assert methods.index("views.open") < methods.index("users.info")
    modal = box.fake.current_view(asker.id)
    assert modal is not None and modal["callback_id"] == RequestsIds.REQUEST_VIEW
    settle(box)
    before = len(box.fake.calls_to("users.info"))
    answer = submit_anonymously(box, asker, modal)
    assert len(box.fake.calls_to("users.info")) == before, "no users.info before the ack"
    assert answer.json()["response_action"] == "update"
    _assert_redacted(answer.json()["view"])


def test_a_failed_prefetch_keeps_the_modal_and_the_preview_is_still_redacted(
    sbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """users.info failing as the modal opens: the modal opens, and the submission looks it up."""
    box = sbox
    caplog.set_level(logging.INFO, logger="handlers.anonymous")
    asker = box.workspace.requester
    box.fake.fail_next("users.info", status=500, times=3)
    answer = box.slack.slash(
        "/ally", "", user_id=asker.id, channel_id=box.workspace.general_channel
    )
    assert answer.status == 200
    box.fake.wait_for("users.info", count=3, ok=False, timeout=15)
    modal = box.fake.current_view(asker.id)
    assert modal is not None and modal["callback_id"] == RequestsIds.REQUEST_VIEW
    eventually(box, lambda _: "prefetch" in caplog.text)
    assert asker.id not in caplog.text and "Priya" not in caplog.text
    assert not box.fake.calls_to("chat.postEphemeral") and not box.fake.calls_to("chat.postMessage")
    answer = submit_anonymously(box, asker, modal)
    assert len(identity_lookups(box, asker, ok=True)) == 1, "looked up before the ack"
    _assert_redacted(answer.json()["view"])


def test_a_submission_from_a_modal_this_process_did_not_open_falls_back(sbox: Sandbox) -> None:
    """A cold cache (the modal opened on another replica) still gives a redacted preview."""
    box = sbox
    asker = box.workspace.requester
    box.slack.slash("/ally", "", user_id=asker.id, channel_id=box.workspace.general_channel)
    wait_prefetched(box, asker, 0)
    modal = box.fake.current_view(asker.id)
    assert modal is not None
    box.deps.identities.clear()  # as if another replica had opened the modal
    answer = submit_anonymously(box, asker, modal)
    assert len(identity_lookups(box, asker)) == 2
    _assert_redacted(answer.json()["view"])


def test_edit_fetches_the_names_again_after_showing_the_modal(sbox: Sandbox) -> None:
    """Edit: views.update first, then users.info; the resubmission is answered without it."""
    box = sbox
    asker = box.workspace.requester
    preview = open_preview(box, asker)
    box.deps.identities.clear()
    settle(box)
    updates = len(box.fake.calls_to("views.update"))
    box.slack.click(asker.id, AnonymousIds.EDIT, view=preview)
    box.fake.wait_for("views.update", count=updates + 1)
    wait_prefetched(box, asker, 1)
    methods = [c.method for c in box.fake.calls]
    last = {m: i for i, m in enumerate(methods)}
    assert last["views.update"] < last["users.info"]
    modal = box.fake.current_view(asker.id)
    assert modal is not None and modal["callback_id"] == RequestsIds.REQUEST_VIEW
    answer = submit_anonymously(box, asker, modal)
    assert len(identity_lookups(box, asker)) == 2, "no users.info before the ack"
    _assert_redacted(answer.json()["view"])


def test_identity_cache_keeps_few_identities_briefly_and_never_shows_them() -> None:
    """At most `size` people, each for `ttl` seconds; its repr names nobody."""
    now = [0.0]
    cache = IdentityCache(ttl=900, size=2, clock=lambda: now[0])
    priya, tom, amara = (Identity(names=(n,)) for n in ("priya", "tom", "amara"))
    cache.put("U1", priya)
    cache.put("U2", tom)
    cache.put("U3", amara)
    assert cache.get("U1") is None, "the oldest is dropped beyond the bound"
    assert cache.get("U2") == tom and cache.get("U3") == amara
    now[0] = 899.0
    assert cache.get("U3") == amara
    now[0] = 900.0
    assert cache.get("U2") is None and cache.get("U3") is None
    cache.put("U2", tom)
    assert "tom" not in repr(cache) and "U2" not in repr(cache)
    cache.clear()
    assert cache.get("U2") is None


def test_cancelling_the_preview_deletes_the_draft(sbox: Sandbox) -> None:
    """Closing the preview deletes the sealed draft at once."""
    box = sbox
    asker = box.workspace.requester
    preview = open_preview(box, asker)
    box.slack.close_view(asker.id, preview)
    eventually(box, lambda s: not s.exec(select(CaseDraft)).all())


def test_confirm_posts_one_case_card_and_opens_the_requester_thread(box: Sandbox) -> None:
    """Send posts the card (handle, category, redacted text, Take) and the requester's root."""
    asker = box.workspace.requester
    case_id = send(box, asker)
    posted = card(box)
    assert posted["blocks"][0]["text"]["text"].startswith("Case ")
    assert "talks over me" in str(posted["blocks"]) and "Priya" not in str(posted["blocks"])
    root = thread_root(box, asker)
    assert posted["blocks"][0]["text"]["text"] in root["text"]
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.thread_ts == root["ts"] and case.card_ts == posted["ts"]


def test_double_confirm_files_one_case(box: Sandbox) -> None:
    """Two submissions of the same preview at once file one case and post one card."""
    asker = box.workspace.requester
    preview = open_preview(box, asker)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: box.slack.submit_view(asker.id, preview), range(2)))
    vol = box.workspace.volunteers_channel
    box.fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == vol)
    box.fake.wait_for("conversations.open")
    settle(box)  # both submissions' work is done: a second case would be posted by now
    with box.db.session() as session:
        assert len(session.exec(select(AnonymousCase)).all()) == 1
    assert len([c for c in box.fake.calls_to("chat.postMessage") if c.args["channel"] == vol]) == 1


def test_paused_requester_is_told_privately_at_submission(sbox: Sandbox) -> None:
    """A paused requester gets a modal error on the kind field; nothing is posted."""
    box = sbox
    asker = box.workspace.requester
    with box.db.session() as session:
        cases.pause_requester(
            session, marker=privacy(box.settings).marker(asker.id), case_id=None, by="U0VOL1"
        )  # type: ignore[arg-type]
    box.slack.slash("/ally", "", user_id=asker.id, channel_id=box.workspace.general_channel)
    box.fake.wait_for("views.open")
    modal = box.fake.current_view(asker.id)
    assert modal is not None
    answer = box.slack.submit_view(
        asker.id,
        modal,
        values={
            RequestsIds.KIND: "anonymous",
            RequestsIds.CATEGORY: "career_advice",
            RequestsIds.DETAILS: "x",
            RequestsIds.CONSENT: True,
        },
    )
    body = answer.json()
    assert (
        body["response_action"] == "errors"
        and "requests are paused" in body["errors"][RequestsIds.KIND]
    )


# 3. taking the case


def test_a_case_taken_while_its_thread_is_being_opened_still_tells_the_requester(
    box: Sandbox,
) -> None:
    """Take is clicked while the submission is still opening the requester's thread (held at
    a gate in the fake): the notice waits for that thread, and goes once, in it."""
    asker, vera = box.workspace.requester, box.workspace.volunteers[0]
    gate = box.fake.gate("conversations.open")
    preview = open_preview(box, asker)
    box.slack.submit_view(asker.id, preview)
    assert gate.arrived.wait(10)  # the card is up; the thread is being opened
    box.slack.click(vera.id, "take_case", message=card(box))
    box.fake.wait_for("chat.update")  # the take is recorded and the card redrawn
    gate.open()
    [told] = box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "has taken" in str(c.args.get("text"))
    )
    settle(box)
    root = thread_root(box, asker)
    assert told.args["thread_ts"] == root["ts"]
    assert len(box.fake.calls_to("conversations.open")) == 1


def test_exactly_one_volunteer_takes_a_case_when_two_click_at_once(box: Sandbox) -> None:
    """Two volunteers click Take together: one holds it, the other is told who has it."""
    vera, wale = box.workspace.volunteers
    send(box, box.workspace.requester)
    message = card(box)
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda v: box.slack.click(v.id, AnonymousIds.TAKE, message=message), (vera, wale)
            )
        )
    box.fake.wait_for("chat.update")
    told = box.fake.wait_for(
        "chat.postEphemeral", predicate=lambda c: "already taken" in c.args.get("text", "")
    )
    settle(box)
    assert len(box.fake.calls_to("chat.update")) == 1
    with box.db.session() as session:
        holder = session.exec(select(AnonymousCase)).one().volunteer_id
    assert holder in (vera.id, wale.id)
    loser = wale.id if holder == vera.id else vera.id
    assert told[0].args["user"] == loser and f"<@{holder}>" in told[0].args["text"]
    updated = card(box)
    assert f"<@{holder}>" in str(updated["blocks"])
    assert AnonymousIds.MESSAGE in str(updated["blocks"])


def test_non_volunteer_cannot_take_and_removed_volunteer_loses_the_role(
    sbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Membership is checked on the server; removal counts within the 60 s cache."""
    box = sbox
    now = [1000.0]
    monkeypatch.setattr(handlers.common.roster, "monotonic", lambda: now[0])
    vera, wale = box.workspace.volunteers
    send(box, box.workspace.requester)
    message = card(box)
    outsider = box.workspace.colleague
    box.slack.click_raw(
        outsider.id,
        AnonymousIds.TAKE,
        message["blocks"][-2]["elements"][0]["value"],
        message=message,
        channel=box.workspace.volunteers_channel,
    )
    box.fake.wait_for("response_url", predicate=lambda c: "Only the programme" in str(c.args))
    # Wale is seen as a volunteer (cached), then removed; after 61 s the cache is refreshed.
    settle(box)
    members_calls = len(box.fake.calls_to("conversations.members"))
    box.fake.set_members(box.workspace.volunteers_channel, [vera.id, box.fake.bot_user_id])
    now[0] += 61
    box.slack.click(wale.id, AnonymousIds.TAKE, message=message)
    box.fake.wait_for("conversations.members", count=members_calls + 1)
    box.fake.wait_for(
        "response_url", count=2, predicate=lambda c: "Only the programme" in str(c.args)
    )
    assert not box.fake.calls_to("chat.update")


def test_roster_pages_through_members_and_caches_at_most_60s(sbox: Sandbox) -> None:
    """conversations.members is paginated and asked again once the cache is 60 s old."""
    box = sbox
    now = [0.0]
    many = [f"U{i:06d}" for i in range(450)]
    box.fake.set_members(box.workspace.volunteers_channel, [*many, box.fake.bot_user_id])
    roster = handlers.common.roster.VolunteerRoster(
        box.workspace.volunteers_channel, clock=lambda: now[0]
    )
    assert roster.is_volunteer(box.client, "U000449")
    pages = len(box.fake.calls_to("conversations.members"))
    assert pages == 3
    now[0] = 59
    assert roster.is_volunteer(box.client, "U000449")
    assert len(box.fake.calls_to("conversations.members")) == pages
    box.fake.set_members(box.workspace.volunteers_channel, [box.fake.bot_user_id])
    now[0] = 60
    assert not roster.is_volunteer(box.client, "U000449")


# 4. the relay


def test_relay_both_ways_under_the_case_handle(box: Sandbox) -> None:
    """The volunteer's words reach the requester's thread; the reply reaches the volunteer."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    relay_to_requester_via_modal(box, vera, "Hello, I'm Vera. How can I help?")
    root = thread_root(box, asker)
    [from_vera] = box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "How can I help" in str(c.args.get("blocks"))
    )
    assert from_vera.args["thread_ts"] == root["ts"]
    assert from_vera.args["channel"] == box.fake.im_channel(asker.id)
    box.slack.dm_message(asker.id, None, "Thanks! I'm Priya, text me on 07700 900123", root["ts"])
    [relayed] = box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: (
            c.args.get("channel") == vera.id and "writes" in str(c.args.get("blocks"))
        ),
    )
    shown = str(relayed.args)
    handle = card(box)["blocks"][0]["text"]["text"]
    assert handle in shown and "Thanks!" in shown
    assert "Priya" not in shown and "07700 900" not in shown and asker.id not in shown


def test_requester_reply_retry_is_relayed_once(sbox: Sandbox) -> None:
    """A Slack retry of the same message.im event relays nothing twice."""
    box = sbox
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    root = thread_root(box, asker)
    event_id = box.slack.new_event_id()
    stored = box.fake.add_user_message(
        box.fake.im_channel(asker.id), asker.id, "one message", thread_ts=root["ts"]
    )
    event = {
        "type": "message",
        "channel": box.fake.im_channel(asker.id),
        "user": asker.id,
        "text": "one message",
        "ts": stored["ts"],
        "thread_ts": root["ts"],
        "channel_type": "im",
    }
    box.slack.event(event, event_id=event_id)
    box.slack.event(event, event_id=event_id, retry_num=1)
    box.fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == vera.id)
    settle(box)
    to_vera = [c for c in box.fake.calls_to("chat.postMessage") if c.args["channel"] == vera.id]
    assert len([c for c in to_vera if "one message" in str(c.args)]) == 1


def test_files_are_not_relayed_and_the_requester_is_told(sbox: Sandbox) -> None:
    """A file in the case thread never reaches the volunteer; the requester learns why."""
    box = sbox
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    root = thread_root(box, asker)
    files = [{"id": "F1", "name": "me.jpg", "url_private": "https://files.example/me.jpg"}]
    box.slack.dm_message(asker.id, None, "", root["ts"], files=files)
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "never passed on" in str(c.args.get("text"))
    )
    settle(box)
    assert "me.jpg" not in texts(box.fake.calls)
    assert not [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args["channel"] == vera.id and "writes" in str(c.args)
    ]


def test_message_outside_the_case_thread_gets_help(sbox: Sandbox) -> None:
    """A requester writing outside the thread is told to reply in it; nothing is relayed."""
    box = sbox
    asker = box.workspace.requester
    send(box, asker)
    box.slack.dm_message(asker.id, None, "hello?")
    [helped] = box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "reply in the thread" in str(c.args.get("text"))
    )
    assert helped.args["channel"] == box.fake.im_channel(asker.id)


def test_forged_actions_from_other_volunteers_and_outsiders_are_refused(box: Sandbox) -> None:
    """message_requester, find_ally_for_case, close_case and relay_message need the holder."""
    asker = box.workspace.requester
    vera, wale = box.workspace.volunteers
    case_id = send(box, asker)
    take(box, vera)
    message = card(box)
    vol = box.workspace.volunteers_channel
    for action in (AnonymousIds.MESSAGE, AnonymousIds.FIND_ALLY, AnonymousIds.CLOSE):
        box.slack.click_raw(wale.id, action, str(case_id), message=message, channel=vol)
        box.slack.click_raw(
            box.workspace.colleague.id, action, str(case_id), message=message, channel=vol
        )
    fake_modal = {
        "id": "VFORGED",
        "type": "modal",
        "callback_id": AnonymousIds.RELAY_VIEW,
        "private_metadata": f'{{"case":{case_id}}}',
        "blocks": [
            {
                "type": "input",
                "block_id": AnonymousIds.RELAY_INPUT,
                "label": {"type": "plain_text", "text": "Message"},
                "element": {"type": "plain_text_input", "action_id": AnonymousIds.RELAY_INPUT},
            }
        ],
    }
    payload = box.slack._base("view_submission", wale.id)
    payload["view"] = {
        **fake_modal,
        "state": {
            "values": {
                AnonymousIds.RELAY_INPUT: {
                    AnonymousIds.RELAY_INPUT: {"type": "plain_text_input", "value": "forged"}
                }
            }
        },
    }
    box.slack.post_payload(payload)
    refusals = box.fake.wait_for(
        "chat.postEphemeral",
        count=1,
        predicate=lambda c: "Only" in c.args.get("text", ""),
        ok=None,
    )
    settle(box)
    assert refusals
    opened = [c.args["view"].get("callback_id") for c in box.fake.calls_to("views.open")]
    assert AnonymousIds.RELAY_VIEW not in opened and AnonymousIds.CLOSE_VIEW not in opened
    assert "forged" not in texts(box.fake.calls_to("chat.postMessage"))
    assert not [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args["channel"] == box.workspace.allies_channel
    ]
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.status == "taken" and case.ask_request_id is None


# 5. finding an ally, the match and the reveal


def test_find_ally_match_and_reveal(box: Sandbox) -> None:
    """Ask on behalf of the case; the ally meets the volunteer; the requester may reveal once."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    amara = box.workspace.allies[0]
    case_id = send(box, asker)
    take(box, vera)
    find_and_match_ally(box, vera, amara)
    ask = box.fake.messages(box.workspace.allies_channel)[0]
    assert "Case " in str(ask["blocks"]) and asker.id not in str(ask)
    [pair] = [c for c in box.fake.calls_to("conversations.open") if "," in str(c.args["users"])]
    assert set(str(pair.args["users"]).split(",")) == {vera.id, amara.id}
    found = next(
        m for m in box.fake.dm_messages(asker.id) if "ally has been found" in m.get("text", "")
    )
    assert found["thread_ts"] == thread_root(box, asker)["ts"]
    reveal_button = next(
        e
        for b in found["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == AnonymousIds.REVEAL
    )
    assert "confirm" in reveal_button
    # Nobody but the requester can reveal; the requester's double click reveals once.
    box.slack.click(vera.id, AnonymousIds.REVEAL, message=found)
    box.fake.wait_for(
        "chat.postEphemeral", ok=None, predicate=lambda c: "Only the person" in str(c.args)
    )
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda _: box.slack.click(asker.id, AnonymousIds.REVEAL, message=found), range(2)
            )
        )
    box.fake.wait_for(
        "conversations.open",
        predicate=lambda c: set(str(c.args["users"]).split(",")) == {asker.id, amara.id},
    )
    settle(box)  # the reveal is recorded after its messages are sent
    reveals = [
        c
        for c in box.fake.calls_to("conversations.open")
        if asker.id in str(c.args["users"]) and "," in str(c.args["users"])
    ]
    assert len(reveals) == 1
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.revealed_at is not None


def test_relay_to_requester_reaches_the_case_thread(sbox: Sandbox) -> None:
    """relay_to_requester (used for feedback) posts in the requester's case thread."""
    from handlers.anonymous.relay import relay_to_requester

    box = sbox
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    take(box, vera)
    find_and_match_ally(box, vera, box.workspace.allies[0])
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.ask_request_id is not None
        request_id = case.ask_request_id
    relay_to_requester(box.client, box.deps, request_id=request_id, text="How did it go?")
    [call] = box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: c.args.get("text") == "How did it go?"
    )
    assert call.args["channel"] == box.fake.im_channel(asker.id)
    assert call.args["thread_ts"] == thread_root(box, asker)["ts"]


# 6. closing and the purge


def test_close_tells_requester_schedules_purge_and_misuse_pauses(box: Sandbox) -> None:
    """Close as misuse with pause: requester told in thread, card closed, new asks refused."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    take(box, vera)
    close(box, vera, "misuse", pause=True)
    [told] = box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "was closed" in str(c.args.get("text"))
    )
    assert told.args["thread_ts"] == thread_root(box, asker)["ts"]
    box.fake.wait_for("chat.update", count=2)
    assert "Closed by" in str(card(box)["blocks"]) and AnonymousIds.TAKE not in str(
        card(box)["blocks"]
    )
    from bot.jobs import queue as jobs

    with box.db.session() as session:
        item = jobs.find(session, key=f"purge_case:{case_id}")
        assert item is not None and item.kind == "purge_case"
        assert cases.refusal_for(session, privacy(box.settings), user_id=asker.id)


def test_pause_needs_misuse(sbox: Sandbox) -> None:
    """Pausing with another outcome is a modal error; the case stays open."""
    box = sbox
    vera = box.workspace.volunteers[0]
    send(box, box.workspace.requester)
    take(box, vera)
    answer = close(box, vera, "helped", pause=True)
    assert answer["response_action"] == "errors" and AnonymousIds.PAUSE in answer["errors"]


def test_purge_due_handler_deletes_text_and_link_and_updates_card(box: Sandbox) -> None:
    """routes.due["purge_case"] deletes the case's text and link; the card says so."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    take(box, vera)
    close(box, vera, "helped")
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "was closed" in str(c.args.get("text"))
    )
    handler = box.deps.due_handlers["purge_case"]

    handler(box.deps, box.client, _purge_item(case_id))
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.details is None and case.requester_sealed is None
        assert case.outcome == "helped"
    assert "The text of this case has been deleted" in str(card(box)["blocks"])


def test_the_retention_purge_clears_the_introduction_of_volunteer_and_ally(sbox: Sandbox) -> None:
    """The introduction showed the case's text: after the purge, its message no longer does."""
    box = sbox
    vera, amara = box.workspace.volunteers[0], box.workspace.allies[0]
    case_id = send(box, box.workspace.requester, details="words only the purge may remove")
    take(box, vera)
    find_and_match_ally(box, vera, amara)
    [match] = eventually(box, lambda s: s.exec(select(Match).where(Match.intro_ts != None)).all())  # noqa: E711

    def intro() -> str:
        return json.dumps(box.fake.message(match.conversation_id, match.intro_ts))

    assert "words only the purge may remove" in intro()
    close(box, vera, "helped")
    box.run_due(utcnow() + timedelta(days=box.settings.retention_days, hours=1))
    eventually(box, lambda s: (s.get(AnonymousCase, case_id) or AnonymousCase()).purged_at)
    assert "words only the purge may remove" not in intro() and "cleared" in intro()


def test_slow_users_info_gives_a_preview_that_cannot_be_sent(
    sbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the prefetch failed and users.info is too slow for the ack, the preview offers Edit."""
    box = sbox
    assert PRODUCTION_QUICK_LOOKUP == 1.5
    monkeypatch.setattr(handlers.anonymous.surface, "QUICK_LOOKUP", PRODUCTION_QUICK_LOOKUP)
    asker = box.workspace.requester
    box.fake.fail_next("users.info", status=500, times=3)
    box.slack.slash("/ally", "", user_id=asker.id, channel_id=box.workspace.general_channel)
    box.fake.wait_for("users.info", count=3, ok=False, timeout=15)
    modal = box.fake.current_view(asker.id)
    assert modal is not None
    box.fake.delay("users.info", 2.5)
    answer = submit_anonymously(box, asker, modal)
    view = answer.json()["view"]
    assert view["callback_id"] == AnonymousIds.PREVIEW and "submit" not in view
    assert "Priya" not in str(view) and AnonymousIds.EDIT in str(view)


def test_a_busy_sqlite_writer_gets_a_try_again_not_a_missed_ack(sbox: Sandbox) -> None:
    """While another unit of work holds SQLite's write lock, the preview answers at once."""
    box = sbox
    asker = box.workspace.requester
    box.slack.slash("/ally", "", user_id=asker.id, channel_id=box.workspace.general_channel)
    box.fake.wait_for("views.open")
    modal = box.fake.current_view(asker.id)
    assert modal is not None
    held, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with box.db.session() as session:  # BEGIN IMMEDIATE: the write lock, until released
            session.exec(select(CaseDraft)).all()
            held.set()
            release.wait(20)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert held.wait(5)
        answer = submit_anonymously(box, asker, modal)
        still_held = not release.is_set()
    finally:
        release.set()
        holder.join()
    assert still_held, "answered while the lock was still held"
    assert answer.status == 200 and answer.json()["response_action"] == "errors"
    assert "try again" in str(answer.json()["errors"])


# review findings: durability, retries, purge, reads before the ack


def _queued_notice(box: Sandbox, person: Person) -> Any:
    dm = box.fake.im_channel(person.id)
    return box.fake.wait_for(
        "chat.postMessage",
        timeout=15,
        predicate=lambda c: c.args.get("channel") == dm and "queued" in str(c.args),
    )


def test_failed_case_card_is_queued_then_posted_once_by_the_sweep(box: Sandbox) -> None:
    """R1: the card's post failing leaves a due item; the sweep posts it once, not the user."""
    from bot.jobs import queue as jobs
    from storage.types import utcnow

    asker = box.workspace.requester
    vol = box.workspace.volunteers_channel
    preview = open_preview(box, asker)
    box.fake.fail_next("chat.postMessage", status=500, times=3)
    box.slack.submit_view(asker.id, preview)
    box.fake.wait_for(
        "chat.postMessage",
        count=3,
        ok=False,
        timeout=15,
        predicate=lambda c: c.args["channel"] == vol,
    )
    _queued_notice(box, asker)
    assert "try again" not in str(box.fake.dm_messages(asker.id)).lower()
    with box.db.session() as session:
        [case] = session.exec(select(AnonymousCase)).all()
        assert case.card_ts is None
        item = jobs.find(session, key=f"case_card:{case.id}")
        assert item is not None and item.status == jobs.PENDING
    assert box.run_due(utcnow() + timedelta(hours=1)) >= 1
    posted = card(box)
    assert posted["blocks"][0]["text"]["text"] == case.handle
    with box.db.session() as session:
        stored = session.get(AnonymousCase, case.id)
        assert stored is not None and stored.card_ts == posted["ts"]
    box.run_due(utcnow() + timedelta(days=1))
    assert len([m for m in box.fake.messages(vol) if m.get("blocks")]) == 1
    # The card works: a volunteer can take the case.
    take(box, box.workspace.volunteers[0])


def test_the_sweep_finds_an_immediately_posted_card_and_posts_nothing(box: Sandbox) -> None:
    """R1: the due item of a card posted at once never posts a second card."""
    from storage.types import utcnow

    send(box, box.workspace.requester)
    box.run_due(utcnow() + timedelta(days=1))
    vol = box.workspace.volunteers_channel
    assert len([c for c in box.fake.calls_to("chat.postMessage") if c.args["channel"] == vol]) == 1


def test_concurrent_card_posts_make_one_card(box: Sandbox) -> None:
    """R1: the immediate attempt and sweeps racing on one case post one card."""
    from handlers.anonymous.surface import post_case_card

    asker = box.workspace.requester
    vol = box.workspace.volunteers_channel
    preview = open_preview(box, asker)
    box.fake.fail_next("chat.postMessage", status=500, times=3)
    box.slack.submit_view(asker.id, preview)
    _queued_notice(box, asker)
    with box.db.session() as session:
        [case] = session.exec(select(AnonymousCase)).all()
    assert case.id is not None
    case_id = case.id
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: post_case_card(box.client, box.deps, case_id), range(4)))
    assert results.count(True) == 1
    assert (
        len(
            [
                c
                for c in box.fake.calls_to(
                    "chat.postMessage",
                )
                if c.args["channel"] == vol and c.ok
            ]
        )
        == 1
    )


def test_find_ally_retries_an_ask_card_that_failed_to_post(box: Sandbox) -> None:
    """R3: a failed ask card post does not strand the case; Find an ally posts it again."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    take(box, vera)
    allies_channel = box.workspace.allies_channel
    box.fake.fail_next("chat.postMessage", status=500, times=3)
    box.slack.click(vera.id, AnonymousIds.FIND_ALLY, message=card(box))
    box.fake.wait_for(
        "chat.postMessage",
        count=3,
        ok=False,
        timeout=15,
        predicate=lambda c: c.args["channel"] == allies_channel,
    )
    box.fake.wait_for("chat.postEphemeral", ok=None, predicate=lambda c: c.args["user"] == vera.id)
    eventually(box, lambda s: (s.get(AnonymousCase, case_id) or AnonymousCase()).ask_request_id)
    box.slack.click(vera.id, AnonymousIds.FIND_ALLY, message=card(box))
    box.fake.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == allies_channel)
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "allies channel" in str(c.args),
    )
    asks = [m for m in box.fake.messages(allies_channel) if m.get("blocks")]
    assert len(asks) == 1 and "Case " in str(asks[0]["blocks"])
    from storage.models.requests import AllyRequest

    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.ask_request_id is not None
        ask = session.get(AllyRequest, case.ask_request_id)
        assert ask is not None and ask.card_ts == asks[0]["ts"]


def test_requester_reply_with_users_info_down_is_relayed_once_whatever_the_retries(
    box: Sandbox,
) -> None:
    """R4: users.info failing, the names kept in memory redact the reply; retries add nothing.

    (Slack does not retry an acknowledged event: a relay that fails is kept and sent by the
    sweep, see tests/handlers/test_relay_security.py.)
    """
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    root = thread_root(box, asker)
    dm = box.fake.im_channel(asker.id)
    stored = box.fake.add_user_message(dm, asker.id, "please pass this on", thread_ts=root["ts"])
    event = {
        "type": "message",
        "channel": dm,
        "user": asker.id,
        "text": "please pass this on",
        "ts": stored["ts"],
        "thread_ts": root["ts"],
        "channel_type": "im",
    }
    event_id = box.slack.new_event_id()
    box.fake.fail_next("users.info", status=500, times=3)
    box.slack.event(event, event_id=event_id)
    box.fake.wait_for("users.info", count=3, ok=False, timeout=15)
    box.slack.event(event, event_id=event_id, retry_num=1)
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "pass this on" in str(c.args),
    )
    box.slack.event(event, event_id=event_id, retry_num=2)
    settle(box)
    relayed = [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args["channel"] == vera.id and "pass this on" in str(c.args)
    ]
    assert len(relayed) == 1


def test_purge_also_clears_the_ask_card_in_the_allies_channel(box: Sandbox) -> None:
    """P2: after the purge the allies channel no longer shows the case's text."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    take(box, vera)
    find_and_match_ally(box, vera, box.workspace.allies[0])
    allies_channel = box.workspace.allies_channel
    ask = box.fake.messages(allies_channel)[0]
    assert "talks over me" in str(ask["blocks"])
    close(box, vera, "helped")
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: "was closed" in str(c.args.get("text"))
    )

    box.deps.due_handlers["purge_case"](box.deps, box.client, _purge_item(case_id))
    purged = box.fake.message(allies_channel, ask["ts"])
    assert purged is not None and "talks over me" not in str(purged)


def _hold_sqlite_writer(box: Sandbox) -> Any:
    import sqlite3

    database = box.db.engine.url.database
    assert database
    holder = sqlite3.connect(database, timeout=30, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_checks_before_the_ack_never_wait_for_the_sqlite_writer(sbox: Sandbox) -> None:
    """A-reads: the relay modal opens and a DM event is answered while a writer holds SQLite."""
    box = sbox
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    root = thread_root(box, asker)
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    holder = _hold_sqlite_writer(box)
    try:
        box.slack.click(vera.id, AnonymousIds.MESSAGE, message=card(box))
        box.fake.wait_for("views.open", count=opened + 1)
        answer = box.slack.dm_message(asker.id, None, "are you there?", root["ts"])
        assert answer.status == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "are you there" in str(c.args),
    )


def test_a_malformed_preview_submission_is_still_acknowledged(sbox: Sandbox) -> None:
    """An exception before the ack (bad private_metadata) still acks the submission."""
    box = sbox
    asker = box.workspace.requester
    payload = box.slack._base("view_submission", asker.id)
    payload["view"] = {
        "id": "VBROKEN",
        "type": "modal",
        "callback_id": AnonymousIds.PREVIEW,
        "private_metadata": "{not json",
        "blocks": [],
        "state": {"values": {}},
    }
    answer = box.slack.post_payload(payload)
    assert answer.status == 200
    assert answer.json()["response_action"] == "update"
    assert "no longer works" in str(answer.json()["view"])
