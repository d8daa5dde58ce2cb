"""Ally sign-up and the admins' business units, through the wire."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bot import allies
from bot.sandbox import Sandbox
from storage.models.programme import Member


def _until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "the expected state was not reached"
            return value
        time.sleep(0.02)


def test_join_opens_signup_with_configured_units_and_saves(sandbox: Sandbox) -> None:
    """`/ally join` opens ally_signup (options = BU names); submitting makes an ally."""
    box = sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = _until(lambda: box.fake.current_view(user))
    assert view["callback_id"] == "ally_signup"
    select = next(b for b in view["blocks"] if b.get("block_id") == "business_unit")["element"]
    assert select["action_id"] == "business_unit"
    assert [o["value"] for o in select["options"]] == ["Engineering", "Finance", "People", "Sales"]
    box.slack.submit_view(user, view, {"business_unit": "Sales", "availability": "available"})
    _until(lambda: box.fake.dm_messages(user))
    with box.db.session() as s:
        assert allies.profile(s, user_id=user) == allies.Profile("Sales", True)


def test_join_button_prefills_and_changes_availability(sqlite_sandbox: Sandbox) -> None:
    """The Home button reopens the modal prefilled; an ally can switch availability off."""
    box = sqlite_sandbox
    user = box.workspace.allies[0].id
    with box.db.session() as s:
        allies.join(s, user_id=user, business_unit="People", available=True)
    box.slack.click_raw(user, "join_allies", "edit")
    view = _until(lambda: box.fake.current_view(user))
    select = next(b for b in view["blocks"] if b.get("block_id") == "business_unit")["element"]
    assert select["initial_option"]["value"] == "People"
    box.slack.submit_view(user, view, {"business_unit": "People", "availability": "unavailable"})
    _until(lambda: box.fake.dm_messages(user))
    with box.db.session() as s:
        assert allies.profile(s, user_id=user) == allies.Profile("People", False)


def test_leave_from_the_modal(sqlite_sandbox: Sandbox) -> None:
    """Leave the allies: the profile is gone, the modal says so."""
    box = sqlite_sandbox
    user = box.workspace.allies[0].id
    with box.db.session() as s:
        allies.join(s, user_id=user, business_unit="People", available=True)
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = _until(lambda: box.fake.current_view(user))
    box.slack.click(user, "leave_allies", view=view)
    box.fake.wait_for("views.update")
    with box.db.session() as s:
        assert allies.profile(s, user_id=user) is None


def test_admin_adds_a_unit_and_imports_a_csv(sandbox: Sandbox) -> None:
    """`bu add` adds a unit; `bu import` checks every line before applying all of them."""
    box = sandbox
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", "bu add Customer Success", user_id=admin, channel_id="C0GENERAL")
    _until(lambda: "Added the business unit" in json.dumps(box.fake.ephemerals(admin)))
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    view = _until(lambda: box.fake.current_view(admin))
    bad = "email,bu\npriya@example.com,Sales\nU0TOM,Nowhere"
    answer = box.slack.submit_view(admin, view, {"csv": bad}).json()
    assert "line 3" in answer["errors"]["csv"]
    unknown = "priya@example.com,Sales\nnobody@example.com,Sales"
    box.slack.submit_view(admin, view, {"csv": unknown})
    _until(lambda: "line 2" in json.dumps(box.fake.dm_messages(admin)))
    with box.db.session() as s:
        assert s.get(Member, box.workspace.requester.id) is None
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    view = _until(lambda: box.fake.current_view(admin))
    good = f"priya@example.com, customer success\n{box.workspace.colleague.id},Sales"
    box.slack.submit_view(admin, view, {"csv": good})
    _until(lambda: "Imported 2" in json.dumps(box.fake.dm_messages(admin)))
    with box.db.session() as s:
        unit = allies.member_unit(s, user_id=box.workspace.requester.id)
        assert unit is not None and unit.name == "Customer Success"


def test_non_admin_cannot_use_bu(sqlite_sandbox: Sandbox) -> None:
    """`/ally-admin bu add` from a non-admin is refused and adds nothing."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally-admin", "bu add Hackers", user_id=user, channel_id="C0GENERAL")
    _until(lambda: box.fake.ephemerals(user))
    with box.db.session() as s:
        assert allies.business_unit_named(s, "Hackers") is None
