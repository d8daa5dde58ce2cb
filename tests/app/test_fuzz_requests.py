"""Signed but malformed requests get a 4xx (never a 5xx) and leave the app healthy."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.request
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devkit.fakeslack.client import FORM, JSON, Response, SignedClient
from bot.devkit.sandbox import Sandbox
from handlers import allies, feedback, forget
from handlers.anonymous import ids as anonymous
from handlers.mentoring import ids as mentoring
from handlers.requests import ids as requests
from handlers.surveys import ids as surveys
from handlers.yearend import ids as yearend

# Every callback_id, action_id and block_id the app knows, so mutated payloads reach listeners.
KNOWN_IDS = sorted(
    {
        str(i)
        for ids in (allies, anonymous, feedback, forget, requests, mentoring, surveys, yearend)
        for i in ids.Ids
    }
)


class _Recorder(SignedClient):
    """Builds the bodies SignedClient would send, without sending them."""

    sent: list[tuple[bytes, str]]

    def post_raw(self, body: bytes, content_type: str, **_kwargs: Any) -> Response:
        self.sent.append((body, content_type))
        return Response(200, "")


def _seeds(box: Sandbox) -> dict[str, tuple[bytes, str]]:
    """One well-formed body per kind of request Slack sends, keyed by a name."""
    ws = box.workspace
    user = ws.requester.id
    recorder = _Recorder(box.server.url, "unused", box.fake)
    recorder.sent = []
    view = {
        "id": "V0FUZZ",
        "type": "modal",
        "callback_id": KNOWN_IDS[0],
        "private_metadata": "{}",
        "blocks": [],
        "state": {"values": {}},
    }
    message = {"ts": "1700000000.000100", "channel": ws.allies_channel, "blocks": []}
    recorder.slash("/ally", "help", user_id=user, channel_id=ws.general_channel)
    recorder.shortcut(KNOWN_IDS[0], user)
    recorder.click_raw(user, KNOWN_IDS[0], "1", message=message)
    recorder.click_raw(user, KNOWN_IDS[0], "1", view=view)
    recorder.submit_view(user, view)
    recorder.close_view(user, view)
    options = recorder._base("block_suggestion", user)
    options.update({"action_id": KNOWN_IDS[0], "block_id": "b", "value": "Eng", "view": view})
    recorder.post_payload(options)
    box.fake.add_user_message(box.fake.im_channel(user), user, "hello")
    recorder.event(
        {"type": "message", "channel_type": "im", "user": user, "text": "hi", "ts": "1.2"}
    )
    recorder.event({"type": "app_home_opened", "user": user, "tab": "home"})
    recorder.event(
        {
            "type": "reaction_added",
            "user": user,
            "reaction": "heart",
            "item": {"type": "message", "channel": ws.allies_channel, "ts": "1.2"},
        }
    )
    recorder.url_verification()
    names = [
        "slash",
        "shortcut",
        "message_action",
        "view_action",
        "view_submission",
        "view_closed",
        "block_suggestion",
        "dm_message",
        "app_home_opened",
        "reaction_added",
        "url_verification",
    ]
    return dict(zip(names, recorder.sent, strict=True))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _apply(value: Any, path: tuple[Any, ...], change: tuple[str, Any]) -> Any:
    """The value with the thing at path replaced or removed (unchanged if the path is gone)."""
    op, new = change
    if not path:
        return new
    parent = value
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return value
    last = path[-1]
    present = (
        last in parent
        if isinstance(parent, dict)
        else isinstance(last, int) and (isinstance(parent, list) and last < len(parent))
    )
    if present:
        if op == "drop":
            del parent[last]
        else:
            parent[last] = new
    return value


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "U0FUZZ", "C0FUZZ", "message", "im", "view_submission", *KNOWN_IDS]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "type", "value", "text", "user"]), children, max_size=3
        )
    ),
    max_leaves=6,
)
changes = st.tuples(st.sampled_from(["replace", "drop"]), json_values)
content_types = st.sampled_from([FORM, JSON, "text/plain", "application/json; charset=utf-8", ""])


@st.composite
def mutated_bodies(draw: st.DrawFn, seeds: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """A seed body with a few parts replaced or dropped, or random bytes."""
    kind = draw(st.sampled_from([*sorted(seeds), "random"]))
    if kind == "random":
        body = draw(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
        return body, draw(content_types)
    raw, content_type = seeds[kind]
    if content_type == JSON:
        document: Any = json.loads(raw)
        for path in draw(st.lists(st.sampled_from(_paths(document)), min_size=1, max_size=3)):
            document = _apply(document, path, draw(changes))
        body = json.dumps(document).encode()
    else:
        fields = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        if "payload" in fields:
            payload: Any = json.loads(fields["payload"])
            for path in draw(st.lists(st.sampled_from(_paths(payload)), min_size=1, max_size=3)):
                payload = _apply(payload, path, draw(changes))
            fields["payload"] = json.dumps(payload)
        else:
            for name in draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3)):
                if draw(st.booleans()):
                    fields.pop(name, None)
                else:
                    fields[name] = draw(st.text(max_size=20) | json_values.map(json.dumps))
            if draw(st.integers(0, 9)) == 0:
                fields["payload"] = draw(json_values.map(json.dumps))
        body = urlencode(fields).encode()
    if draw(st.integers(0, 9)) == 0:
        content_type = draw(content_types)
    return body, content_type


def _post_signed(slack: SignedClient, body: bytes, content_type: str) -> Response:
    """Post any bytes with Slack's signature (slack_sdk's signer takes UTF-8 text only)."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(slack.signing_secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
    return slack.post_raw(body, content_type, sign=False, headers=headers)


def _assert_healthy(box: Sandbox) -> None:
    """/healthz answers 200 and /ally help still answers the person."""
    with urllib.request.urlopen(box.server.url + "/healthz", timeout=5) as reply:  # noqa: S310
        assert reply.status == 200
    box.idle()
    box.fake.reset_calls()
    ws = box.workspace
    answer = box.slack.slash(
        "/ally", "help", user_id=ws.colleague.id, channel_id=ws.general_channel
    )
    assert answer.status == 200
    [call] = box.fake.wait_for("chat.postEphemeral")
    assert call.args["user"] == ws.colleague.id
    assert "/ally help" in str(call.args["blocks"])


@pytest.mark.parametrize("payload", ["[]", '"x"', "3", "null", "true", "[{}]"])
def test_a_signed_payload_that_is_not_an_object_is_a_4xx(
    sqlite_sandbox: Sandbox, payload: str
) -> None:
    """payload= holding valid JSON that is not an object answers 400, not 500."""
    answer = sqlite_sandbox.slack.post_form({"payload": payload})
    assert answer.status == 400, answer
    _assert_healthy(sqlite_sandbox)


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"3", b"null", b"[1, {}]"])
def test_a_signed_json_body_that_is_not_an_object_is_a_4xx(
    sqlite_sandbox: Sandbox, body: bytes
) -> None:
    """An events body that is valid JSON but not an object answers 400, not 500."""
    answer = sqlite_sandbox.slack.post_raw(body, JSON)
    assert answer.status == 400, answer
    _assert_healthy(sqlite_sandbox)


def test_signed_mutated_bodies_never_get_a_5xx(sqlite_sandbox: Sandbox) -> None:
    """Random and mutated bodies for every route, correctly signed, answer 2xx or 4xx."""
    box = sqlite_sandbox
    seeds = _seeds(box)
    failures: list[str] = []

    # The same examples every run, so CI cannot flake; FUZZ_EXPLORE=1 FUZZ_EXAMPLES=5000
    # searches afresh.
    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")),
        deadline=None,
        derandomize=os.environ.get("FUZZ_EXPLORE") is None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated_bodies(seeds))
    def post(sample: tuple[bytes, str]) -> None:
        body, content_type = sample
        answer = _post_signed(box.slack, body, content_type)
        if answer.status >= 500:
            failures.append(f"{answer.status} for {content_type!r} {body[:300]!r}")
        assert answer.status < 500, failures[-1]

    post()
    _assert_healthy(box)


@pytest.mark.parametrize(
    "timestamp", ["abc", "", " ", "1.5", "-1", "1e9", "9" * 400, "1" * 20, "+1700000000", "now"]
)
def test_a_malformed_timestamp_header_is_a_401_and_nothing_is_sent(
    sqlite_sandbox: Sandbox, timestamp: str
) -> None:
    """A timestamp that is not a number is a bad signature (401), never a 5xx; the unverified
    body is not acted on: nobody is told anything and its response_url is never called."""
    box = sqlite_sandbox
    box.fake.reset_calls()
    body = urlencode(
        {
            "command": "/ally",
            "text": "help",
            "user_id": box.workspace.colleague.id,
            "channel_id": box.workspace.general_channel,
            "response_url": box.fake.new_response_url(user_id=box.workspace.colleague.id),
        }
    ).encode()
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=00"}
    answer = box.slack.post_raw(body, FORM, sign=False, headers=headers)
    assert answer.status == 401, answer
    box.idle()
    assert box.fake.calls == [], box.fake.calls
    _assert_healthy(box)
