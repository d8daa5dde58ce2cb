"""The Slack endpoint: signatures always checked, malformed requests answered with a 4xx."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from bot.devkit.sandbox import Sandbox
from tests.helpers import settle

FORM = "application/x-www-form-urlencoded"


def _help_body(box: Sandbox) -> bytes:
    return urlencode(
        {
            "command": "/ally",
            "text": "help",
            "user_id": box.workspace.colleague.id,
            "channel_id": "C0GENERAL",
            "team_id": "T0001",
            "trigger_id": "1.2.3",
            "response_url": box.fake.new_response_url(),
        }
    ).encode()


def test_wrong_signing_secret_is_401_and_no_web_api_call(sqlite_sandbox: Sandbox) -> None:
    """A request signed with another secret is refused and causes nothing."""
    box = sqlite_sandbox
    box.fake.reset_calls()
    response = box.slack.post_raw(_help_body(box), FORM, signing_secret="not-the-secret")
    assert response.status == 401
    settle(box)  # a wrongly accepted request would have shown its calls by now
    assert box.fake.calls == []


def test_stale_timestamp_is_401(sqlite_sandbox: Sandbox) -> None:
    """A correctly signed request older than five minutes is refused (replay)."""
    box = sqlite_sandbox
    box.fake.reset_calls()
    stale = str(int(time.time()) - 6 * 60)
    response = box.slack.post_raw(_help_body(box), FORM, timestamp=stale)
    assert response.status == 401
    settle(box)
    assert box.fake.calls == []


def test_unsigned_request_is_401(sqlite_sandbox: Sandbox) -> None:
    """No signature, no service."""
    box = sqlite_sandbox
    assert box.slack.post_raw(_help_body(box), FORM, sign=False).status == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bnot-json", FORM),
        (b"{not json", "application/json"),
        (b"payload=" + json.dumps({"type": "block_actions"}).encode(), FORM),
        (b"", FORM),
        ("\u00ff\u00fe garbage=&&=".encode(), "application/octet-stream"),
    ],
)
def test_malformed_signed_requests_get_a_4xx_not_a_crash(
    sqlite_sandbox: Sandbox, body: bytes, content_type: str
) -> None:
    """Signed garbage is answered with a client error and the app keeps working."""
    box = sqlite_sandbox
    response = box.slack.post_raw(body, content_type)
    assert 400 <= response.status < 500
    ok = box.slack.slash(
        "/ally", "help", user_id=box.workspace.colleague.id, channel_id="C0GENERAL"
    )
    assert ok.status == 200


def test_twenty_requests_at_once_are_all_acknowledged(sqlite_sandbox: Sandbox) -> None:
    """A burst of 20 slash commands is queued and answered, none refused."""
    box = sqlite_sandbox
    users = [p.id for p in box.workspace.everyone]

    def ask(i: int) -> int:
        return box.slack.slash(
            "/ally", "help", user_id=users[i % len(users)], channel_id="C0GENERAL"
        ).status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(ask, range(20)))
    assert statuses == [200] * 20
    box.fake.wait_for("chat.postEphemeral", count=20, timeout=20)


def test_url_verification_is_answered(sqlite_sandbox: Sandbox) -> None:
    """Slack's URL check when the events URL is saved gets its challenge back."""
    response = sqlite_sandbox.slack.url_verification("abc123")
    assert response.status == 200
    assert "abc123" in response.body
