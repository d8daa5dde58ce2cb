"""The App Home and `/ally status`."""

from __future__ import annotations

import json
import time

from bot.devkit import factories
from bot.devkit.sandbox import Sandbox
from bot.rules import allies
from handlers.allies import Ids as AlliesIds
from handlers.requests.ids import Ids as RequestsIds


def _home(box: Sandbox, user: str) -> dict:
    deadline = time.monotonic() + 15
    while box.fake.home_view(user) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    home = box.fake.home_view(user)
    assert home is not None
    return home


def test_home_shows_purpose_ask_button_and_join(sqlite_sandbox: Sandbox) -> None:
    """A newcomer's home: purpose, "Ask for an ally", and a join button."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.app_home_opened(user)
    dumped = json.dumps(_home(box, user))
    assert "allyship programme" in dumped
    assert RequestsIds.OPEN_MODAL in dumped and AlliesIds.JOIN in dumped


def test_home_shows_requests_and_ally_profile(sqlite_sandbox: Sandbox) -> None:
    """An ally with a request sees its state and their BU and availability."""
    box = sqlite_sandbox
    user = box.workspace.allies[0].id
    with box.db.session() as s:
        allies.join(s, user_id=user, business_unit="Finance", available=False)
    box.slack.shortcut(RequestsIds.SHORTCUT, user)
    box.fake.wait_for("views.open")
    view = box.fake.current_view(user)
    assert view is not None
    box.slack.submit_view(
        user,
        view,
        {
            RequestsIds.KIND: "named",
            RequestsIds.CATEGORY: "listening",
            RequestsIds.DETAILS: "<!here> hi",
            RequestsIds.CONSENT: True,
        },
    )
    box.fake.wait_for("chat.postMessage", count=2)
    box.slack.app_home_opened(user)
    dumped = json.dumps(_home(box, user))
    assert "Finance" in dumped and "unavailable" in dumped
    assert "waiting for offers" in dumped and "&lt;!here&gt;" in dumped
    assert "<!here>" not in dumped
    box.slack.slash("/ally", "status", user_id=user, channel_id="C0GENERAL")
    [status] = box.fake.wait_for("chat.postEphemeral")
    assert "Finance" in json.dumps(status.args["blocks"])


def test_home_shows_business_unit_standings_but_no_people(sqlite_sandbox: Sandbox) -> None:
    """The home lists this year's BU standings with their points, and names no individual."""
    from bot.rules.points import ledger

    box = sqlite_sandbox
    factories.member(box.db, box.workspace.allies[0].id, "Engineering")
    with box.db.session() as s:
        unit = ledger.find_business_unit(s, "Engineering")
        assert unit is not None and unit.id is not None
        ledger.add_entry(
            s,
            business_unit_id=unit.id,
            amount=10,
            kind="allyship",
            reason="successful allyship",
            source="match:1:ally",
        )
    user = box.workspace.colleague.id
    box.slack.app_home_opened(user)
    dumped = json.dumps(_home(box, user))
    assert "Engineering: 10 points" in dumped
    assert box.workspace.allies[0].id not in dumped
