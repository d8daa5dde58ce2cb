"""Security review of the anonymous relay (issue 4): each finding, through the real app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.devkit.sandbox import Person, Sandbox
from bot.jobs import queue as jobs
from bot.rules.anonymous import cases, drafts
from bot.rules.anonymous import relays as relay_rules
from handlers.anonymous.ids import Ids
from storage.models.anonymous import AnonymousCase, CaseDraft, CaseRelay
from storage.types import utcnow
from tests.handlers.flows import (
    card,
    close,
    eventually,
    find_and_match_ally,
    open_preview,
    roomy_lookup,  # noqa: F401  (autouse: room for users.info before the preview's ack)
    send,
    take,
    thread_root,
    with_bot_in_volunteers,
)
from tests.helpers import settle

REPLY = "Thanks, I'm Priya and my phone is 07700 900123"


@pytest.fixture
def box(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox on both databases, bot invited to the volunteers channel."""
    yield with_bot_in_volunteers(sandbox)


def reply(box: Sandbox, person: Person, text: str, *, subtype: str | None = None) -> dict[str, Any]:
    """The person writes in their case thread; returns the message.im event delivered."""
    root = thread_root(box, person)
    dm = box.fake.im_channel(person.id)
    stored = box.fake.add_user_message(dm, person.id, text, thread_ts=root["ts"])
    event: dict[str, Any] = {
        "type": "message",
        "channel": dm,
        "user": person.id,
        "text": text,
        "ts": stored["ts"],
        "thread_ts": root["ts"],
        "channel_type": "im",
    }
    if subtype:
        event["subtype"] = subtype
        event["root"] = {"ts": root["ts"], "user": box.fake.bot_user_id, "text": root["text"]}
    box.slack.event(event)
    return event


def edit(box: Sandbox, original: dict[str, Any], text: str) -> None:
    """Slack's message_changed event for the person's edit of `original`."""
    message = {k: original[k] for k in ("type", "user", "ts", "thread_ts")}
    box.slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": original["channel"],
            "channel_type": "im",
            "ts": f"{float(original['ts']) + 5:.6f}",
            "message": {**message, "text": text, "edited": {"user": original["user"]}},
            "previous_message": {**message, "text": original["text"]},
        }
    )


def delete(box: Sandbox, original: dict[str, Any]) -> None:
    """Slack's message_deleted event for the person's deletion of `original`."""
    message = {k: original[k] for k in ("type", "user", "ts", "thread_ts", "text")}
    box.slack.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": original["channel"],
            "channel_type": "im",
            "ts": f"{float(original['ts']) + 7:.6f}",
            "deleted_ts": original["ts"],
            "previous_message": message,
        }
    )


def to(box: Sandbox, person: Person, words: str) -> list[Any]:
    """Successful chat.postMessage calls to the person carrying `words`."""
    return [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == person.id and words in str(c.args)
    ]


def relayed(box: Sandbox, person: Person, words: str) -> Any:
    """Wait for the relayed copy carrying `words` in the person's DM; return the call."""
    [call] = box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args.get("channel") == person.id and words in str(c.args),
    )
    return call


def relays(box: Sandbox) -> list[CaseRelay]:
    """Every relay record."""
    with box.db.session() as session:
        return list(session.exec(select(CaseRelay)).all())


# 1. a volunteer removed from the channel


def test_a_removed_volunteer_gets_nothing_and_the_next_holder_gets_the_reply(
    box: Sandbox,
) -> None:
    """Vera left the volunteers channel: the reply never reaches her; the case is released,
    the channel is told, the requester too, and Wale (taking it next) receives the reply."""
    asker = box.workspace.requester
    vera, wale = box.workspace.volunteers
    vol = box.workspace.volunteers_channel
    case_id = send(box, asker)
    take(box, vera)
    box.fake.set_members(vol, [wale.id, box.fake.bot_user_id])
    box.deps.volunteers.forget()
    reply(box, asker, "words for my volunteer only")
    dm = box.fake.im_channel(asker.id)
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args.get("channel") == dm and "next volunteer" in str(c.args),
    )
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args.get("channel") == vol and "take" in str(c.args.get("text")),
    )
    settle(box)
    assert not to(box, vera, "words for my volunteer only")
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.status == cases.OPEN and case.volunteer_id is None
    assert Ids.TAKE in str(card(box)["blocks"]) and vera.id not in str(card(box)["blocks"])
    take(box, wale)
    shown = relayed(box, wale, "words for my volunteer only")
    assert asker.id not in str(shown.args)
    settle(box)
    assert not to(box, vera, "words for my volunteer only")
    assert len(to(box, wale, "words for my volunteer only")) == 1


# 2. edits, deletions and the purge reach the relayed copies


def test_a_deleted_reply_is_removed_from_the_volunteers_dm(box: Sandbox) -> None:
    """The requester deletes a relayed reply: the copy says so, without the words."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    original = reply(box, asker, "something I regret writing")
    copy = relayed(box, vera, "something I regret writing").response
    delete(box, original)
    box.fake.wait_for(
        "chat.update",
        predicate=lambda c: c.args.get("ts") == copy["ts"] and "deleted" in str(c.args),
    )
    settle(box)
    shown = json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    assert "regret" not in shown and "deleted by the person who asked" in shown
    assert not relays(box)


def test_a_reply_deleted_while_its_copy_is_being_sent_is_still_removed(box: Sandbox) -> None:
    """The deletion arrives while the copy's chat.postMessage is under way (the first sync
    holds the reply): the copy is blanked once it is recorded, without waiting for the sweep."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    settle(box)
    gate = box.fake.gate("chat.postMessage")
    original = reply(box, asker, "something I regret writing")
    assert gate.arrived.wait(10)
    delete(box, original)
    box.idle(leaving=1)  # the deletion's work is over; only the gated copy's send is left
    gate.open()
    copy = relayed(box, vera, "something I regret writing").response
    box.fake.wait_for(
        "chat.update",
        predicate=lambda c: c.args.get("ts") == copy["ts"] and "deleted" in str(c.args),
    )
    settle(box)
    shown = json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    assert "regret" not in shown and "deleted by the person who asked" in shown
    assert not relays(box)


def test_a_reply_edited_while_its_copy_is_being_sent_shows_the_new_words(box: Sandbox) -> None:
    """The edit arrives while the copy is being posted: the copy ends with the new words."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    settle(box)
    gate = box.fake.gate("chat.postMessage")
    original = reply(box, asker, "first version of my words")
    assert gate.arrived.wait(10)
    edit(box, original, "second version of my words")
    box.idle(leaving=1)
    gate.open()
    copy = relayed(box, vera, "first version").response
    box.fake.wait_for(
        "chat.update",
        predicate=lambda c: c.args.get("ts") == copy["ts"] and "second version" in str(c.args),
    )
    settle(box)
    assert "first version" not in json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    [row] = relays(box)
    assert row.pending_sealed is None


def test_an_edited_reply_updates_the_copy_redacted(box: Sandbox) -> None:
    """The requester edits a relayed reply: the copy shows the new words, redacted."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    original = reply(box, asker, "first version of my words")
    copy = relayed(box, vera, "first version").response
    edit(box, original, "second version, from Priya at 07700 900123")
    box.fake.wait_for(
        "chat.update",
        predicate=lambda c: c.args.get("ts") == copy["ts"] and "second version" in str(c.args),
    )
    shown = json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    assert "first version" not in shown
    assert "Priya" not in shown and "07700 900" not in shown and asker.id not in shown


def test_the_retention_purge_blanks_every_relayed_copy_and_its_record(box: Sandbox) -> None:
    """After the purge no copy of the requester's words is left in the volunteer's DM."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    take(box, vera)
    reply(box, asker, "first words to keep private")
    first = relayed(box, vera, "first words").response
    reply(box, asker, "second words to keep private")
    second = relayed(box, vera, "second words").response
    assert len(relays(box)) == 2
    close(box, vera, "helped")
    box.run_due(utcnow() + timedelta(days=box.settings.retention_days, hours=1))
    eventually(box, lambda s: (s.get(AnonymousCase, case_id) or AnonymousCase()).purged_at)
    for copy in (first, second):
        shown = json.dumps(box.fake.message(copy["channel"], copy["ts"]))
        assert "to keep private" not in shown and "text deleted" in shown
    assert not relays(box)


def test_relay_records_hold_no_plain_ts_text_or_id(box: Sandbox) -> None:
    """The record knows the requester's message only by a keyed hash; no words, no IDs."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    original = reply(box, asker, REPLY)
    relayed(box, vera, "my phone is")
    settle(box)
    [record] = relays(box)
    stored = json.dumps(record.model_dump(), default=str)
    for secret in (original["ts"], asker.id, box.fake.im_channel(asker.id), "Priya", "07700 900"):
        assert secret not in stored
    assert record.copy_ts and record.pending_sealed is None


# 3. "Also send to direct message"


def test_a_reply_also_sent_to_the_dm_is_relayed(box: Sandbox) -> None:
    """A thread_broadcast reply is relayed like any other reply, once."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    reply(box, asker, "broadcast words, Priya", subtype="thread_broadcast")
    shown = relayed(box, vera, "broadcast words")
    assert "Priya" not in str(shown.args)
    settle(box)
    assert len(to(box, vera, "broadcast words")) == 1


# 4. a volunteer and their own case


def test_a_volunteer_cannot_take_the_case_they_asked(box: Sandbox) -> None:
    """Vera asked anonymously: her Take is refused, privately, and the case stays open."""
    vera = box.workspace.volunteers[0]
    case_id = send(box, vera)
    box.slack.click(vera.id, Ids.TAKE, message=card(box))
    [refused] = box.fake.wait_for(
        "chat.postEphemeral", predicate=lambda c: "you asked" in str(c.args)
    )
    assert refused.args["user"] == vera.id
    settle(box)
    assert not box.fake.calls_to("chat.update")
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.status == cases.OPEN and case.volunteer_id is None


# 5. users.info failing after the confirmation


def test_confirm_with_users_info_down_uses_the_kept_names(box: Sandbox) -> None:
    """users.info failing after the ack: the names kept since the modal opened redact it."""
    asker = box.workspace.requester
    preview = open_preview(box, asker)
    box.fake.fail_next("users.info", status=500, times=3)
    box.slack.submit_view(asker.id, preview)
    vol = box.workspace.volunteers_channel
    box.fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == vol)
    settle(box)
    assert "Priya" not in str(card(box)) and "talks over me" in str(card(box))
    with box.db.session() as session:
        assert not session.exec(select(CaseDraft)).all()


def test_confirm_with_no_names_keeps_the_draft_and_the_requester_can_send_again(
    box: Sandbox,
) -> None:
    """No names at all: nothing is filed, the draft stays, the requester is told; Send again."""
    asker = box.workspace.requester
    preview = open_preview(box, asker)
    box.deps.identities.clear()
    box.fake.fail_next("users.info", status=500, times=3)
    box.slack.submit_view(asker.id, preview)
    [told] = box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args.get("channel") == asker.id and "kept" in str(c.args),
    )
    settle(box)
    with box.db.session() as session:
        assert not session.exec(select(AnonymousCase)).all()
        assert len(session.exec(select(CaseDraft)).all()) == 1
    message = box.fake.message(told.response["channel"], told.response["ts"])
    box.slack.click(asker.id, Ids.SEND_AGAIN, message=message)
    vol = box.workspace.volunteers_channel
    box.fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == vol)
    settle(box)
    assert "Priya" not in str(card(box)) and "talks over me" in str(card(box))
    with box.db.session() as session:
        assert len(session.exec(select(AnonymousCase)).all()) == 1
        assert not session.exec(select(CaseDraft)).all()
    box.slack.click(asker.id, Ids.SEND_AGAIN, message=message)
    settle(box)
    with box.db.session() as session:
        assert len(session.exec(select(AnonymousCase)).all()) == 1


def test_the_sweep_deletes_drafts_older_than_a_day(box: Sandbox) -> None:
    """An abandoned draft is deleted by the sweep once it is a day old."""
    open_preview(box, box.workspace.requester)
    box.run_due(utcnow() + timedelta(hours=1))
    with box.db.session() as session:
        assert len(session.exec(select(CaseDraft)).all()) == 1
    box.run_due(utcnow() + drafts.DRAFT_MAX_AGE + timedelta(minutes=1))
    with box.db.session() as session:
        assert not session.exec(select(CaseDraft)).all()


# 6. a failed relay is not lost


def test_a_failed_relay_is_sent_later_by_the_sweep_once(box: Sandbox) -> None:
    """The send to the volunteer fails after the ack: the sweep sends it, exactly once."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    settle(box)
    box.fake.fail_next("chat.postMessage", status=200, error="fatal_error")
    reply(box, asker, "please pass this on")
    box.fake.wait_for(
        "chat.postMessage", ok=False, predicate=lambda c: c.args.get("channel") == vera.id
    )
    settle(box)
    assert not to(box, vera, "pass this on")
    box.run_due(utcnow() + timedelta(minutes=5))
    relayed(box, vera, "pass this on")
    box.run_due(utcnow() + timedelta(hours=2))
    settle(box)
    assert len(to(box, vera, "pass this on")) == 1
    [record] = relays(box)
    assert record.pending_sealed is None and record.copy_ts


# 7. the reveal is recorded before the introduction


def test_a_failed_introduction_is_sent_by_the_sweep_and_never_twice(box: Sandbox) -> None:
    """The reveal is recorded first; a failed introduction is sent later, once, and a
    second click introduces nobody again."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    amara = box.workspace.allies[0]
    case_id = send(box, asker)
    take(box, vera)
    find_and_match_ally(box, vera, amara)
    found = next(
        m for m in box.fake.dm_messages(asker.id) if "ally has been found" in m.get("text", "")
    )
    settle(box)
    box.fake.fail_next("conversations.open", status=200, error="fatal_error")
    box.slack.click(asker.id, Ids.REVEAL, message=found)
    box.fake.wait_for("conversations.open", ok=False)
    settle(box)
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.revealed_at is not None
    box.slack.click(asker.id, Ids.REVEAL, message=found)
    settle(box)
    box.run_due(utcnow() + timedelta(minutes=5))
    box.run_due(utcnow() + timedelta(hours=2))
    settle(box)

    def introductions() -> list[Any]:
        return [
            c
            for c in box.fake.calls_to("chat.postMessage")
            if "introduce themselves" in str(c.args) and "<@" + asker.id in str(c.args)
        ]

    assert len(introductions()) == 1
    with box.db.session() as session:
        item = jobs.find(session, key=f"case_reveal:{case_id}")
        assert item is not None and item.status in (jobs.DONE, jobs.CANCELLED)


def test_a_reply_waits_for_the_requesters_names_and_is_never_sent_unredacted(
    box: Sandbox,
) -> None:
    """No names to redact with (users.info down, none kept): nothing is sent until there are."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    settle(box)
    box.deps.identities.clear()
    box.fake.fail_next("users.info", status=500, times=3)
    reply(box, asker, "call me, Priya, on 07700 900123")
    box.fake.wait_for("users.info", count=3, ok=False, timeout=15)
    settle(box)
    assert not to(box, vera, "call me")
    box.run_due(utcnow() + timedelta(minutes=5))
    shown = relayed(box, vera, "call me")
    assert "Priya" not in str(shown.args) and "07700 900" not in str(shown.args)


# Forget-me and relayed copies


def test_a_forgotten_volunteers_copies_are_blanked_and_waiting_replies_kept(box: Sandbox) -> None:
    """Vera forgets: the replies in her DM are blanked and their records (her DM) go; a reply
    written after she left waits for, and reaches, the next holder."""
    from tests.handlers.flows import _forget

    asker = box.workspace.requester
    vera, victor = box.workspace.volunteers
    send(box, asker)
    take(box, vera)
    reply(box, asker, "words shown to vera")
    copy = relayed(box, vera, "words shown to vera").response
    _forget(box, vera.id)
    settle(box)
    box.run_due(utcnow() + timedelta(minutes=2))
    shown = json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    assert "words shown to vera" not in shown and "text deleted" in shown
    assert not relays(box)
    reply(box, asker, "words for whoever takes it")
    settle(box)
    take(box, victor)
    relayed(box, victor, "words for whoever takes it")


def test_a_closed_case_of_a_forgotten_asker_keeps_its_copies_until_the_case_side(
    box: Sandbox,
) -> None:
    """Forget-me by the asker of a closed case: the volunteer's copies change only hours
    later, with the rest of the case side, never at the moment of the forget."""
    from bot.rules import forget as forget_rules
    from tests.handlers.flows import _forget

    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    reply(box, asker, "words of a closed case")
    copy = relayed(box, vera, "words of a closed case").response
    close(box, vera, "helped")
    _forget(box, asker.id)
    settle(box)
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN / 2)
    assert "words of a closed case" in json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    box.run_due(utcnow() + forget_rules.CASE_DELAY_MIN + forget_rules.CASE_DELAY_SPREAD)
    assert "words of a closed case" not in json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    assert not relays(box)


# Review of the relay (the latest commit): each finding, through the real app


def _failed_relay_items(box: Sandbox) -> list[Any]:
    """Relay due items that failed at least once (or were parked)."""
    from storage.models.schedule import DueItem

    with box.db.session() as session:
        items = session.exec(select(DueItem).where(DueItem.kind == relay_rules.RELAY)).all()
        return [i for i in items if i.attempts or i.status == jobs.FAILED]


def test_a_forgotten_askers_waiting_reply_goes_and_take_works_as_for_any_case(
    box: Sandbox,
) -> None:
    """A reply waiting for a volunteer is deleted with the forget-me; Vera's Take then works
    as on any open case (no error, no hint), and no relay item fails in the sweep."""
    from tests.handlers.flows import _forget

    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    reply(box, asker, "words waiting for a volunteer")
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "No volunteer" in str(c.args))
    settle(box)
    [waiting] = relays(box)
    assert waiting.pending_sealed is not None
    _forget(box, asker.id)
    settle(box)
    assert not relays(box), "the sealed words of the forgotten asker must not stay"
    updates = len(box.fake.calls_to("chat.update"))
    box.slack.click(vera.id, Ids.TAKE, message=card(box))
    box.fake.wait_for("chat.update", count=updates + 1)
    settle(box)
    assert not [c for c in box.fake.calls_to("chat.postEphemeral") if c.args.get("user") == vera.id]
    assert vera.id in json.dumps(card(box)["blocks"])
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.status == cases.TAKEN
    box.run_due(utcnow() + timedelta(minutes=5))
    box.run_due(utcnow() + timedelta(minutes=15))
    settle(box)
    assert not _failed_relay_items(box)
    assert not to(box, vera, "words waiting")


def test_a_reply_waiting_for_a_take_is_kept_when_its_notice_fails(box: Sandbox) -> None:
    """The "no volunteer has taken it yet" notice fails: the reply is kept all the same and
    reaches the volunteer who takes the case."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    settle(box)
    box.fake.fail_next("chat.postMessage", status=200, error="fatal_error")
    reply(box, asker, "words kept despite the failed notice")
    box.fake.wait_for("chat.postMessage", ok=False)
    settle(box)
    assert len(relays(box)) == 1
    take(box, vera)
    relayed(box, vera, "despite the failed notice")


def test_a_reply_with_a_file_is_relayed_when_the_files_notice_fails(box: Sandbox) -> None:
    """The notice that files are never passed on fails: the words are relayed anyway."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    send(box, asker)
    take(box, vera)
    settle(box)
    root = thread_root(box, asker)
    files = [{"id": "F1", "name": "me.jpg", "url_private": "https://files.example/me.jpg"}]
    box.fake.fail_next("chat.postMessage", status=200, error="fatal_error")
    box.slack.dm_message(asker.id, None, "words with a picture", root["ts"], files=files)
    box.fake.wait_for("chat.postMessage", ok=False)
    relayed(box, vera, "words with a picture")


def test_a_slow_lookup_holds_no_lock_on_the_case(box: Sandbox) -> None:
    """users.info waiting out a rate limit: the case can be written meanwhile (SQLite: the
    writer is free), and the reply is relayed once the names come."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    take(box, vera)
    settle(box)
    box.fake.fail_next("users.info", status=429, retry_after=4)
    reply(box, asker, "words after a slow lookup")
    box.fake.wait_for("users.info", ok=False)
    with box.db.session(wait=1.0) as session:
        cases.get_case(session, case_id=case_id, lock=True)
    relayed(box, vera, "after a slow lookup")


def test_an_edit_never_reaches_a_volunteer_removed_from_the_channel(box: Sandbox) -> None:
    """Vera left the channel after a reply reached her: the requester's edit blanks her copy
    instead of showing her the new words; the case goes to Wale, who gets the new words."""
    asker = box.workspace.requester
    vera, wale = box.workspace.volunteers
    send(box, asker)
    take(box, vera)
    original = reply(box, asker, "first words for vera")
    copy = relayed(box, vera, "first words for vera").response
    box.fake.set_members(box.workspace.volunteers_channel, [wale.id, box.fake.bot_user_id])
    box.deps.volunteers.forget()
    edit(box, original, "edited words, not for vera")
    box.fake.wait_for(
        "chat.update",
        predicate=lambda c: c.args.get("ts") == copy["ts"] and "first words" not in str(c.args),
    )
    settle(box)
    shown = json.dumps(box.fake.message(copy["channel"], copy["ts"]))
    assert "edited words" not in shown and "first words" not in shown
    assert not [
        c
        for c in box.fake.calls_to("chat.update")
        if c.args.get("channel") == copy["channel"] and "not for vera" in str(c.args)
    ]
    assert Ids.TAKE in json.dumps(card(box)["blocks"])
    take(box, wale)
    relayed(box, wale, "edited words, not for vera")


def test_forget_me_blanks_only_the_forgotten_volunteers_copies_wherever_they_are(
    box: Sandbox,
) -> None:
    """Copies follow whom they were sent to: Vera's forget blanks hers, not Wale's copy of
    the same case; Wale's forget blanks his, on a case released from him earlier."""
    from tests.handlers.flows import _database_text, _forget

    asker = box.workspace.requester
    vera, wale = box.workspace.volunteers
    vol = box.workspace.volunteers_channel
    send(box, asker)
    take(box, wale)
    reply(box, asker, "words shown to wale")
    for_wale = relayed(box, wale, "words shown to wale").response
    box.fake.set_members(vol, [vera.id, box.fake.bot_user_id])
    box.deps.volunteers.forget()
    reply(box, asker, "words for the next holder")
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "next volunteer" in str(c.args))
    settle(box)
    take(box, vera)
    for_vera = relayed(box, vera, "words for the next holder").response
    box.fake.set_members(vol, [vera.id, wale.id, box.fake.bot_user_id])
    box.deps.volunteers.forget()

    def shows(copy: dict[str, Any], words: str) -> bool:
        return words in json.dumps(box.fake.message(copy["channel"], copy["ts"]))

    _forget(box, vera.id)
    box.run_due(utcnow() + timedelta(minutes=2))
    settle(box)
    assert not shows(for_vera, "words for the next holder")
    assert shows(for_wale, "words shown to wale")
    assert for_vera["channel"] not in _database_text(box)

    _forget(box, wale.id)
    box.run_due(utcnow() + timedelta(minutes=4))
    settle(box)
    assert not shows(for_wale, "words shown to wale")
    assert not relays(box)


def test_no_volunteer_is_told_of_an_introduction_that_was_never_sent(box: Sandbox) -> None:
    """The ally left the programme before the introduction went: nobody is introduced, and
    the volunteer is not told that the person chose to introduce themselves."""
    from tests.handlers.flows import _forget

    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    amara = box.workspace.allies[0]
    send(box, asker)
    take(box, vera)
    find_and_match_ally(box, vera, amara)
    found = next(
        m for m in box.fake.dm_messages(asker.id) if "ally has been found" in m.get("text", "")
    )
    settle(box)
    box.fake.fail_next("conversations.open", status=200, error="fatal_error")
    box.slack.click(asker.id, Ids.REVEAL, message=found)
    box.fake.wait_for("conversations.open", ok=False)
    _forget(box, amara.id)
    box.run_due(utcnow() + timedelta(minutes=5))
    settle(box)
    assert not to(box, vera, "introduce themselves")


def test_a_reply_left_waiting_by_an_earlier_forget_me_is_dropped_quietly_at_the_take(
    box: Sandbox,
) -> None:
    """Data an earlier version left: a case cut from its asker with a reply still waiting.
    The Take works as on any case; the reply is dropped, never sent, and nothing fails."""
    asker = box.workspace.requester
    vera = box.workspace.volunteers[0]
    case_id = send(box, asker)
    reply(box, asker, "words left behind")
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "No volunteer" in str(c.args))
    settle(box)
    with box.db.session() as session:
        cases.unlink_requester(session, cases.get_case(session, case_id=case_id))
    updates = len(box.fake.calls_to("chat.update"))
    box.slack.click(vera.id, Ids.TAKE, message=card(box))
    box.fake.wait_for("chat.update", count=updates + 1)
    settle(box)
    assert not [c for c in box.fake.calls_to("chat.postEphemeral") if c.args.get("user") == vera.id]
    assert not relays(box)
    box.run_due(utcnow() + timedelta(minutes=5))
    settle(box)
    assert not _failed_relay_items(box)
    assert not to(box, vera, "words left behind")
