"""The signed client sends requests the way Slack does, signed for real."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.devkit.fakeslack import FakeSlack, SignedClient

SECRET = "test-signing-secret"


@dataclass
class Received:
    """One request the stand-in app received."""

    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        """Return the form fields."""
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def payload(self) -> dict[str, Any]:
        """Return the decoded interactivity payload."""
        return json.loads(self.form()["payload"])


@dataclass
class StandInApp:
    """A tiny app that checks Slack signatures and answers with a queued body."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)


@pytest.fixture
def app() -> Iterator[StandInApp]:
    """Serve a stand-in app that answers 401 to badly signed requests."""
    state = StandInApp()
    verifier = SignatureVerifier(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

        def do_POST(self) -> None:
            """Verify, record, answer."""
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            valid = verifier.is_valid(
                body=body,
                timestamp=self.headers.get("X-Slack-Request-Timestamp", "0"),
                signature=self.headers.get("X-Slack-Signature", ""),
            )
            if valid:
                state.received.append(Received(dict(self.headers.items()), body))
            answer = (state.answers.pop(0) if state.answers else "").encode()
            self.send_response(200 if valid else 401)
            self.send_header("Content-Length", str(len(answer) if valid else 0))
            self.end_headers()
            if valid:
                self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A started fake with one person."""
    with FakeSlack() as fake:
        fake.add_user("U1", "ana")
        yield fake


@pytest.fixture
def slack(app: StandInApp, fake: FakeSlack) -> SignedClient:
    """A signed client aimed at the stand-in app."""
    return SignedClient(app.url, SECRET, fake)


REQUEST_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "allyship_request",
    "private_metadata": "{}",
    "title": {"type": "plain_text", "text": "Ask"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "kind",
            "label": {"type": "plain_text", "text": "Kind"},
            "element": {
                "type": "radio_buttons",
                "action_id": "kind",
                "options": [
                    {"text": {"type": "plain_text", "text": "Named"}, "value": "named"},
                    {"text": {"type": "plain_text", "text": "Anonymous"}, "value": "anonymous"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "category",
            "label": {"type": "plain_text", "text": "Category"},
            "element": {
                "type": "static_select",
                "action_id": "category",
                "options": [
                    {"text": {"type": "plain_text", "text": "Meetings"}, "value": "meetings"}
                ],
            },
        },
        {
            "type": "input",
            "block_id": "details",
            "label": {"type": "plain_text", "text": "Details"},
            "element": {"type": "plain_text_input", "action_id": "details", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "timing",
            "optional": True,
            "label": {"type": "plain_text", "text": "Timing"},
            "element": {"type": "plain_text_input", "action_id": "timing"},
        },
        {
            "type": "input",
            "block_id": "consent",
            "label": {"type": "plain_text", "text": "Consent"},
            "element": {
                "type": "checkboxes",
                "action_id": "consent",
                "options": [
                    {"text": {"type": "plain_text", "text": "I agree"}, "value": "agree"},
                    {"text": {"type": "plain_text", "text": "Share"}, "value": "share"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "who",
            "label": {"type": "plain_text", "text": "Who"},
            "element": {"type": "users_select", "action_id": "who"},
        },
        {
            "type": "input",
            "block_id": "when",
            "label": {"type": "plain_text", "text": "When"},
            "element": {"type": "datepicker", "action_id": "when"},
        },
    ],
}


def _open(fake: FakeSlack, view: dict[str, Any], user_id: str = "U1") -> dict[str, Any]:
    client = WebClient(base_url=fake.api_url, token=fake.bot_token)
    return client.views_open(trigger_id=fake.new_trigger_id(user_id), view=view)["view"]


def test_slash_command_is_signed_and_shaped_like_slack(
    app: StandInApp, slack: SignedClient, fake: FakeSlack
) -> None:
    """A slash command arrives signed, form-encoded, with a usable trigger and response_url."""
    response = slack.slash("/ally", "help", user_id="U1")
    assert response.status == 200
    [request] = app.received
    form = request.form()
    assert form["command"] == "/ally"
    assert form["text"] == "help"
    assert form["user_name"] == "ana"
    assert form["channel_name"] == "general"
    assert form["response_url"].startswith(fake.url + "response/")
    _ = WebClient(base_url=fake.api_url, token=fake.bot_token).views_open(
        trigger_id=form["trigger_id"], view=REQUEST_VIEW
    )
    assert fake.current_view("U1") is not None


def test_tampered_or_badly_signed_requests_fail(app: StandInApp, slack: SignedClient) -> None:
    """A wrong secret, a stale timestamp or no signature is answered 401."""
    body = b"command=%2Fally&text="
    form = "application/x-www-form-urlencoded"
    assert slack.post_raw(body, form).status == 200
    assert slack.post_raw(body, form, signing_secret="other").status == 401
    stale = str(int(time.time()) - 600)
    assert slack.post_raw(body, form, timestamp=stale).status == 401
    assert slack.post_raw(body, form, sign=False).status == 401
    now = str(int(time.time()))
    signed_for_other_body = {
        "X-Slack-Request-Timestamp": now,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=now, body=b"command=%2Fally&text=admin"
        )
        or "",
    }
    assert slack.post_raw(body, form, sign=False, headers=signed_for_other_body).status == 401
    assert len(app.received) == 1


def test_clock_sets_the_timestamp(app: StandInApp, fake: FakeSlack) -> None:
    """A client with an old clock produces requests the app refuses."""
    late = SignedClient(app.url, SECRET, fake, clock=lambda: time.time() - 3600)
    assert late.slash("/ally").status == 401


def test_event_retry_headers_and_envelope(app: StandInApp, slack: SignedClient) -> None:
    """Events come in an event_callback envelope; retries carry Slack's retry headers."""
    slack.event({"type": "app_mention", "user": "U1", "text": "hi"}, event_id="Ev1")
    slack.event({"type": "app_mention", "user": "U1", "text": "hi"}, event_id="Ev1", retry_num=1)
    first, retry = app.received
    assert "X-Slack-Retry-Num" not in first.headers
    assert retry.headers["X-Slack-Retry-Num"] == "1"
    assert retry.headers["X-Slack-Retry-Reason"] == "http_timeout"
    envelope = json.loads(retry.body)
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"] == "Ev1"
    assert envelope["authorizations"][0]["user_id"] == "UBOT"


def test_event_ids_are_unique(app: StandInApp, slack: SignedClient) -> None:
    """Generated event_ids differ between deliveries."""
    slack.app_home_opened("U1")
    slack.app_home_opened("U1")
    ids = {json.loads(r.body)["event_id"] for r in app.received}
    assert len(ids) == 2


def test_dm_message_and_reactions_update_the_fake(
    app: StandInApp, slack: SignedClient, fake: FakeSlack
) -> None:
    """A person's DM and reaction are stored in the fake before the event is delivered."""
    slack.dm_message("U1", None, "my story")
    event = json.loads(app.received[-1].body)["event"]
    assert event["channel_type"] == "im"
    assert fake.dm_messages("U1")[0]["ts"] == event["ts"]
    slack.reaction_added("U1", "wave", event["channel"], event["ts"])
    reaction = json.loads(app.received[-1].body)["event"]
    assert reaction["item"] == {"type": "message", "channel": event["channel"], "ts": event["ts"]}
    assert fake.message(event["channel"], event["ts"])["reactions"][0]["users"] == ["U1"]


def test_click_builds_block_actions_from_a_stored_message(
    app: StandInApp, slack: SignedClient, fake: FakeSlack
) -> None:
    """Clicking a posted button sends its value, block_id, container and response_url."""
    client = WebClient(base_url=fake.api_url, token=fake.bot_token)
    button = {
        "type": "button",
        "action_id": "offer_help",
        "value": "req-1",
        "text": {"type": "plain_text", "text": "Offer help"},
    }
    posted = client.chat_postMessage(
        channel="C_GENERAL",
        text="A request",
        blocks=[{"type": "actions", "block_id": "offer", "elements": [button]}],
    )
    message = fake.message(posted["channel"], posted["ts"])
    slack.click("U1", "offer_help", message=message)
    payload = app.received[-1].payload()
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["value"] == "req-1"
    assert payload["actions"][0]["block_id"] == "offer"
    assert payload["container"]["message_ts"] == posted["ts"]
    assert payload["message"]["ts"] == posted["ts"]
    assert payload["user"]["id"] == "U1"
    assert payload["response_url"].startswith(fake.url)
    with pytest.raises(AssertionError, match="no element with action_id 'take_case'"):
        slack.click("U1", "take_case", message=message)


def test_click_raw_for_an_old_button(app: StandInApp, slack: SignedClient) -> None:
    """click_raw sends an action whose message no longer exists in the fake."""
    slack.click_raw("U1", "choose_ally", "offer-9", block_id="old")
    action = app.received[-1].payload()["actions"][0]
    assert (action["action_id"], action["value"], action["block_id"]) == (
        "choose_ally",
        "offer-9",
        "old",
    )


def test_submit_view_fills_state_by_element_type(
    app: StandInApp, slack: SignedClient, fake: FakeSlack
) -> None:
    """Each element type gets Slack's state shape; inputs not given are empty."""
    view = _open(fake, REQUEST_VIEW)
    slack.submit_view(
        "U1",
        view,
        {
            "kind": "anonymous",
            "category": "meetings",
            "details": "Please help",
            "consent": True,
            "who": "U1",
            "when": "2025-01-31",
        },
    )
    payload = app.received[-1].payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == view["id"]
    assert payload["view"]["callback_id"] == "allyship_request"
    values = payload["view"]["state"]["values"]
    assert values["kind"]["kind"]["selected_option"]["value"] == "anonymous"
    assert values["category"]["category"] == {
        "type": "static_select",
        "selected_option": REQUEST_VIEW["blocks"][1]["element"]["options"][0],
    }
    assert values["details"]["details"] == {"type": "plain_text_input", "value": "Please help"}
    assert values["timing"]["timing"] == {"type": "plain_text_input", "value": None}
    assert [o["value"] for o in values["consent"]["consent"]["selected_options"]] == [
        "agree",
        "share",
    ]
    assert values["who"]["who"] == {"type": "users_select", "selected_user": "U1"}
    assert values["when"]["when"] == {"type": "datepicker", "selected_date": "2025-01-31"}


def test_submit_view_rejects_unknown_options(slack: SignedClient, fake: FakeSlack) -> None:
    """An option value the view does not offer fails the test at once."""
    view = _open(fake, REQUEST_VIEW)
    with pytest.raises(AssertionError, match="no option with value 'maybe'"):
        slack.submit_view("U1", view, {"kind": "maybe"})
    with pytest.raises(AssertionError, match="no input"):
        slack.submit_view("U1", view, {"nonsense": "x"})


def test_submit_view_applies_the_app_answer(
    app: StandInApp, slack: SignedClient, fake: FakeSlack
) -> None:
    """An update answer replaces the open view; an empty answer closes it."""
    view = _open(fake, REQUEST_VIEW)
    preview = {
        "type": "modal",
        "callback_id": "anonymous_preview",
        "title": {"type": "plain_text", "text": "Preview"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Looks right?"}}],
    }
    app.answers.append(json.dumps({"response_action": "update", "view": preview}))
    response = slack.submit_view("U1", view, {"details": "x"})
    assert response.json()["response_action"] == "update"
    current = fake.current_view("U1")
    assert current is not None
    assert current["callback_id"] == "anonymous_preview"
    assert current["id"] == view["id"]
    slack.submit_view("U1", current, {})
    assert fake.current_view("U1") is None
    assert [c.response["response_action"] for c in fake.calls_to("response_action")] == [
        "update",
        "close",
    ]
