"""A whole anonymous case, played to leak the requester: nothing may reach anyone else.

The requester writes their real name, display name, e-mail and phone number everywhere.
Then every Web API call not addressed to the requester, every log line (DEBUG, libraries
included) and every byte of the database must be free of those and of their Slack ID and
DM channel ID.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from bot.devkit.sandbox import Sandbox
from handlers.anonymous.ids import Ids as AnonymousIds
from handlers.anonymous.relay import relay_to_requester
from handlers.requests.ids import Ids as RequestsIds
from storage.models.anonymous import AnonymousCase
from tests.handlers.flows import (
    card,
    close,
    eventually,
    find_and_match_ally,
    open_preview,
    relay_to_requester_via_modal,
    roomy_lookup,  # noqa: F401  (autouse: room for users.info before the preview's ack)
    take,
    thread_root,
    with_bot_in_volunteers,
)
from tests.helpers import settle

REAL_NAME = "Priya Raman"
DISPLAY_NAME = "Sunflower"
EMAIL = "priya.raman@example.com"
PHONE = "+44 7700 900123"
LOCAL_PHONE = "07700 900123"
MARKER_PHRASE = "quietly-distinctive-request-words"

ASK = (
    f"I'm {REAL_NAME} ({DISPLAY_NAME} on Slack), mail {EMAIL}, phone {PHONE}. "
    f"{MARKER_PHRASE}: my manager keeps interrupting me in meetings."
)
REPLY = f"Thanks! It's {DISPLAY_NAME} again; call {LOCAL_PHONE} or write {EMAIL}. {REAL_NAME}"


def _secrets(box: Sandbox) -> list[str]:
    asker = box.workspace.requester
    return [
        asker.id,
        box.fake.im_channel(asker.id),
        "Priya",
        "Raman",
        DISPLAY_NAME,
        EMAIL,
        "7700 9",  # the phone as typed, across its space: no random id has a space
        "900123",
    ]


# Opaque values Slack issued (a random trigger_id can contain any run of digits).
_SLACK_ISSUED = ("trigger_id", "hash")


def _written_by_app(args: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in args.items() if k not in _SLACK_ISSUED}, default=str)


# What a clock or a random source writes in logs and the database can hold any run of digits,
# the phone's among them: a timestamp's microseconds (stored as text, "15:37:50.900123"), a
# hex digest or token (a marker's HMAC), and ciphertext (Fernet tokens, base64 runs) any run
# of letters, a name's among them. None is a way a name or the phone could leak: those are
# written with spaces, dots or '@', which none of these runs contain.
_NOISE = re.compile(
    r"\d\d:\d\d:\d\d\.\d{6}|[0-9a-f]{32,}|gAAAAA[A-Za-z0-9_-]+=*|[A-Za-z0-9_-]{40,}"
)


def _find(haystack: str, secrets: list[str]) -> list[str]:
    lowered = _NOISE.sub(" ", haystack).lower()
    return [s for s in secrets if s.lower() in lowered]


@pytest.fixture
def leaky_box(sandbox: Sandbox) -> Sandbox:
    """The sandbox with the requester given a distinctive display name and e-mail."""
    asker = sandbox.workspace.requester
    sandbox.fake.add_user(
        asker.id, asker.name, real_name=REAL_NAME, display_name=DISPLAY_NAME, email=EMAIL
    )
    return with_bot_in_volunteers(sandbox)


def _play(box: Sandbox) -> int:
    """Ask, edit, confirm, take, talk both ways, try a file, find an ally, match, close."""
    ws = box.workspace
    asker, vera, amara = ws.requester, ws.volunteers[0], ws.allies[0]
    preview = open_preview(box, asker, ASK, timing=f"before {DISPLAY_NAME}'s review")
    box.slack.click(asker.id, AnonymousIds.EDIT, view=preview)
    box.fake.wait_for("views.update")
    modal = box.fake.current_view(asker.id)
    assert modal is not None and modal["callback_id"] == RequestsIds.REQUEST_VIEW
    box.slack.close_view(asker.id, modal)
    preview = open_preview(box, asker, ASK, timing=f"before {DISPLAY_NAME}'s review")
    box.slack.submit_view(asker.id, preview)
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: c.args["channel"] == ws.volunteers_channel
    )
    case_id = int(card(box)["blocks"][-2]["elements"][0]["value"])
    eventually(box, lambda s: (s.get(AnonymousCase, case_id) or AnonymousCase()).thread_ts)
    message = card(box)
    for _ in range(2):  # a double click
        box.slack.click(vera.id, AnonymousIds.TAKE, message=message)
    box.fake.wait_for("chat.update")
    relay_to_requester_via_modal(box, vera, "Hello, I'm your volunteer. Tell me more?")
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "Tell me more" in str(c.args))
    root = thread_root(box, asker)
    box.slack.dm_message(asker.id, None, REPLY, root["ts"])
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "writes" in str(c.args.get("blocks")),
    )
    box.slack.dm_message(
        asker.id,
        None,
        f"from {REAL_NAME}",
        root["ts"],
        files=[{"id": "F9", "name": f"{DISPLAY_NAME}.png"}],
    )
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "never passed on" in str(c.args))
    box.slack.dm_message(asker.id, None, f"{REAL_NAME} outside the thread")
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "reply in the thread" in str(c.args))
    find_and_match_ally(box, vera, amara)
    with box.db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.ask_request_id is not None
        request_id = case.ask_request_id
    relay_to_requester(box.client, box.deps, request_id=request_id, text="How did it go?")
    close(box, vera, "helped")
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "was closed" in str(c.args))
    settle(box)  # every post-ack listener has finished: nothing is left to leak later
    return case_id


def _addressed_to_requester(box: Sandbox, call: Any, requester_views: set[str]) -> bool:
    asker = box.workspace.requester.id
    dm = box.fake.im_channel(asker)
    args = call.args
    if call.method in ("views.open", "views.update", "views.push", "response_action"):
        view = (call.response or {}).get("view") or {}
        return (bool(view.get("id")) and view["id"] in requester_views) or args.get(
            "view_id"
        ) in requester_views
    if call.method == "conversations.open":
        return str(args.get("users")) == asker
    if call.method == "users.info":
        return args.get("user") == asker
    if call.method == "chat.postEphemeral":
        return args.get("user") == asker
    return args.get("channel") in (asker, dm)


def test_nothing_identifies_the_requester_outside_their_own_dm_and_views(
    leaky_box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """No call to others, no log line, no database byte carries the requester's identity."""
    box = leaky_box
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk", "sqlalchemy", "allybot.bolt", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    case_id = _play(box)
    secrets = _secrets(box)
    asker = box.workspace.requester.id

    # The requester's own modal: every view that was ever on their stack.
    requester_views = {
        str(c.response["view"]["id"])
        for c in box.fake.calls
        if c.method in ("views.open", "response_action")
        and (c.response or {}).get("view", {}).get("callback_id")
        in (RequestsIds.REQUEST_VIEW, AnonymousIds.PREVIEW)
    }
    to_others = [c for c in box.fake.calls if not _addressed_to_requester(box, c, requester_views)]
    assert to_others, "the volunteers and allies were reached"
    leaks = [
        (c.method, found) for c in to_others if (found := _find(_written_by_app(c.args), secrets))
    ]
    assert leaks == []
    # The requester did get their own messages (so the check above is not vacuous).
    assert any(c.args.get("channel") == box.fake.im_channel(asker) for c in box.fake.calls)

    # Logs: neither identity nor any of the request's words.
    assert caplog.records, "logging was captured"
    log_leaks = _find(caplog.text, [*secrets, MARKER_PHRASE, "interrupting me"])
    assert log_leaks == []

    # Database: every byte of SQLite (with its WAL), every row of every PostgreSQL table.
    db_text = _database_text(box)
    assert _find(db_text, secrets) == []
    assert "interrupting me" in db_text, "the search reads the stored (redacted) case text"
    assert case_id


def _database_text(box: Sandbox) -> str:
    if box.db.is_postgres:
        parts: list[str] = []
        with box.db.engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                rows = connection.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
                parts.extend(str(r) for r in rows)
        return "\n".join(parts)
    database = box.db.engine.url.database
    assert database
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(database + suffix)
        if path.exists():
            data += path.read_bytes()
    return data.decode("latin-1") + data.decode("utf-16-le", errors="ignore")


def test_a_retry_or_double_click_changes_nothing_twice(leaky_box: Sandbox) -> None:
    """Repeating take, relay reply (as a Slack retry) and close posts nothing twice."""
    box = leaky_box
    ws = box.workspace
    asker, vera = ws.requester, ws.volunteers[0]
    preview = open_preview(box, asker, ASK)
    box.slack.submit_view(asker.id, preview)
    box.slack.submit_view(asker.id, preview)
    box.fake.wait_for(
        "chat.postMessage", predicate=lambda c: c.args["channel"] == ws.volunteers_channel
    )
    case_id = int(card(box)["blocks"][-2]["elements"][0]["value"])
    eventually(box, lambda s: (s.get(AnonymousCase, case_id) or AnonymousCase()).thread_ts)
    message = card(box)
    take(box, vera)
    box.slack.click(vera.id, AnonymousIds.TAKE, message=message)
    box.fake.wait_for("chat.postEphemeral", predicate=lambda c: "already taken" in str(c.args))
    root = thread_root(box, asker)
    stored = box.fake.add_user_message(
        box.fake.im_channel(asker.id), asker.id, "hi", thread_ts=root["ts"]
    )
    event = {
        "type": "message",
        "channel": box.fake.im_channel(asker.id),
        "user": asker.id,
        "text": "hi",
        "ts": stored["ts"],
        "thread_ts": root["ts"],
        "channel_type": "im",
    }
    event_id = box.slack.new_event_id()
    for retry in (None, 1, 2):
        box.slack.event(event, event_id=event_id, retry_num=retry)
    # Relayed before the close: closed first, the reply would rightly not be relayed at all.
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == vera.id and "writes" in str(c.args),
    )
    close(box, vera, "helped")
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "was closed" in str(c.args))
    settle(box)
    posts = box.fake.calls_to("chat.postMessage")
    assert len([c for c in posts if c.args["channel"] == ws.volunteers_channel]) == 1
    assert len([c for c in posts if c.args["channel"] == vera.id and "writes" in str(c.args)]) == 1
    assert len([c for c in posts if "was closed" in str(c.args)]) == 1
    assert len([c for c in box.fake.calls_to("chat.update")]) == 2  # taken, closed
