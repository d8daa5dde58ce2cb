"""A rejected request is logged by its type and length, never by what it says (SPEC 6)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest

from bot.devkit.fakeslack import SignedClient
from bot.devkit.sandbox import Sandbox
from tests.helpers import SIGNING_SECRET

SECRET_TEXT = "my name is Priya Raman, U0SECRET"
SECRETS = ("Priya", "Raman", "U0SECRET")


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every logger at DEBUG, as the most talkative configuration would."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.Logger.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.clear()
    yield caplog


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


def _assert_nothing_of(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    for line in _logged(caplog):
        for secret in secrets:
            assert secret not in line, f"{secret!r} logged: {line[:500]}"


def _rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [line for line in _logged(caplog) if "rejected a request" in line]


def test_a_dm_reply_with_a_bad_signature_is_not_logged(
    sqlite_sandbox: Sandbox, every_log: pytest.LogCaptureFixture
) -> None:
    """An anonymous requester's DM reply signed with a rotated secret: 401, its kind and size
    logged, neither its text nor the person's user id."""
    box = sqlite_sandbox
    requester = box.workspace.requester.id
    rotated = SignedClient(box.server.url, "a-rotated-secret", box.fake)
    box.fake.reset_calls()
    answer = rotated.dm_message(requester, None, SECRET_TEXT)
    assert answer.status == 401
    _assert_nothing_of(every_log, *SECRETS, requester)
    [line] = _rejections(every_log)
    assert "bad or stale signature" in line
    assert "type event_callback/message" in line
    assert " bytes" in line
    assert box.fake.calls == []


def test_a_dm_reply_with_a_stale_timestamp_is_not_logged(
    sqlite_sandbox: Sandbox, every_log: pytest.LogCaptureFixture
) -> None:
    """The same reply signed correctly but ten minutes late (a skewed clock): 401, no text."""
    box = sqlite_sandbox
    requester = box.workspace.requester.id
    late = SignedClient(box.server.url, SIGNING_SECRET, box.fake, clock=lambda: time.time() - 600)
    answer = late.dm_message(requester, None, SECRET_TEXT)
    assert answer.status == 401
    _assert_nothing_of(every_log, *SECRETS, requester)
    [line] = _rejections(every_log)
    assert "type event_callback/message" in line


def test_the_logged_length_is_the_body_length(
    sqlite_sandbox: Sandbox, every_log: pytest.LogCaptureFixture
) -> None:
    """The rejection line gives the body's length in bytes, so an operator can match it up."""
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "é"}})
    answer = sqlite_sandbox.slack.post_raw(body.encode(), "application/json", signing_secret="x")
    assert answer.status == 401
    [line] = _rejections(every_log)
    assert f"{len(body.encode())} bytes" in line


def test_a_malformed_signed_request_is_not_logged(
    sqlite_sandbox: Sandbox, every_log: pytest.LogCaptureFixture
) -> None:
    """A signed payload that is not an object is refused (400) without logging what it says."""
    answer = sqlite_sandbox.slack.post_form({"payload": json.dumps([SECRET_TEXT])})
    assert answer.status == 400
    _assert_nothing_of(every_log, *SECRETS)
    assert any("rejected a malformed request" in line for line in _logged(every_log))


def test_a_good_signature_is_still_accepted(sqlite_sandbox: Sandbox) -> None:
    """The quieter check still lets a correctly signed slash command through to its answer."""
    box = sqlite_sandbox
    person = box.workspace.colleague.id
    answer = box.slack.slash(
        "/ally", "help", user_id=person, channel_id=box.workspace.general_channel
    )
    assert answer.status == 200
    [call] = box.fake.wait_for("chat.postEphemeral")
    assert call.args["user"] == person
