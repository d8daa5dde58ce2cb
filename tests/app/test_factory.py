"""The registrar's guard: errors raised by listeners never cost Slack its ack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_bolt import Ack, App

from bot.app.server import BackgroundServer
from bot.devkit.fakeslack import SignedClient
from bot.devkit.sandbox import Sandbox
from bot.rules.errors import NotAllowed
from handlers.common.listeners import Listeners
from handlers.common.permissions import ANYONE


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox on SQLite whose app also has a listener that refuses right after its ack."""
    with Sandbox(f"sqlite:///{tmp_path / 'a.db'}") as sandbox:
        yield sandbox
        sandbox.db.dispose()


def _refusing_app(box: Sandbox) -> App:
    """The sandbox's app plus a listener registered as ours are (by the registrar) that refuses."""

    def on_refuse_command(ack: Ack) -> None:
        ack()
        raise NotAllowed("You may not do that.")

    Listeners(box.app).command("/refuse", allow=ANYONE)(on_refuse_command)
    return box.app


def test_a_refusal_right_after_the_ack_keeps_the_ack(box: Sandbox) -> None:
    """Thirty refusals raised just after ack() all answer 200 and the person is told each time.

    Without the guard, Bolt's runner drops most of these acks (seen: 404s).
    """
    server = BackgroundServer(_refusing_app(box), box.db).start()
    try:
        slack = SignedClient(
            server.url, box.settings.slack_signing_secret.get_secret_value(), box.fake
        )
        user = box.workspace.colleague.id
        statuses = [
            slack.slash("/refuse", "", user_id=user, channel_id="C0GENERAL").status
            for _ in range(30)
        ]
    finally:
        server.stop()
    assert statuses == [200] * 30
    told = box.fake.wait_for(
        "chat.postEphemeral",
        count=30,
        timeout=15,
        predicate=lambda c: "You may not do that." in c.args["text"],
    )
    assert len(told) == 30
