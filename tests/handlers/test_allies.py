"""Ally sign-up and the admins' business units, through the wire."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.devkit.sandbox import Sandbox
from bot.rules import allies
from handlers.allies import Ids
from handlers.common.units import unit_groups
from storage.models.programme import BusinessUnit, Member
from tests.helpers import settle, until


def test_join_opens_signup_with_configured_units_and_saves(sandbox: Sandbox) -> None:
    """`/ally join` opens ally_signup (options = BU names); submitting makes an ally."""
    box = sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(user))
    assert view["callback_id"] == Ids.SIGNUP_VIEW
    select = next(b for b in view["blocks"] if b.get("block_id") == Ids.BUSINESS_UNIT)["element"]
    assert select["action_id"] == Ids.BUSINESS_UNIT
    assert [o["value"] for o in select["options"]] == ["Engineering", "Finance", "People", "Sales"]
    box.slack.submit_view(user, view, {Ids.BUSINESS_UNIT: "Sales", Ids.AVAILABILITY: "available"})
    until(lambda: box.fake.dm_messages(user))
    with box.db.session() as s:
        assert allies.profile(s, user_id=user) == allies.Profile("Sales", True)


def test_join_button_prefills_and_changes_availability(sqlite_sandbox: Sandbox) -> None:
    """The Home button reopens the modal prefilled; an ally can switch availability off."""
    box = sqlite_sandbox
    user = box.workspace.allies[0].id
    with box.db.session() as s:
        allies.join(s, user_id=user, business_unit="People", available=True)
    box.slack.click_raw(user, Ids.JOIN, "edit")
    view = until(lambda: box.fake.current_view(user))
    select = next(b for b in view["blocks"] if b.get("block_id") == Ids.BUSINESS_UNIT)["element"]
    assert select["initial_option"]["value"] == "People"
    box.slack.submit_view(
        user, view, {Ids.BUSINESS_UNIT: "People", Ids.AVAILABILITY: "unavailable"}
    )
    until(lambda: box.fake.dm_messages(user))
    with box.db.session() as s:
        assert allies.profile(s, user_id=user) == allies.Profile("People", False)


def test_leave_from_the_modal(sqlite_sandbox: Sandbox) -> None:
    """Leave the allies: the profile is gone, the modal says so."""
    box = sqlite_sandbox
    user = box.workspace.allies[0].id
    with box.db.session() as s:
        allies.join(s, user_id=user, business_unit="People", available=True)
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(user))
    box.slack.click(user, Ids.LEAVE, view=view)
    box.fake.wait_for("views.update")
    with box.db.session() as s:
        assert allies.profile(s, user_id=user) is None


def test_admin_adds_a_unit_and_imports_a_csv(sandbox: Sandbox) -> None:
    """`bu add` adds a unit; `bu import` checks every line before applying all of them."""
    box = sandbox
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", "bu add Customer Success", user_id=admin, channel_id="C0GENERAL")
    until(lambda: "Added the business unit" in json.dumps(box.fake.ephemerals(admin)))
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(admin))
    bad = "email,bu\npriya@example.com,Sales\nU0TOM,Nowhere"
    answer = box.slack.submit_view(admin, view, {Ids.CSV: bad}).json()
    assert "line 3" in answer["errors"]["csv"]
    unknown = "priya@example.com,Sales\nnobody@example.com,Sales"
    box.slack.submit_view(admin, view, {Ids.CSV: unknown})
    until(lambda: "line 2" in json.dumps(box.fake.dm_messages(admin)))
    with box.db.session() as s:
        assert s.get(Member, box.workspace.requester.id) is None
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(admin))
    good = f"priya@example.com, customer success\n{box.workspace.colleague.id},Sales"
    box.slack.submit_view(admin, view, {Ids.CSV: good})
    until(lambda: "Imported 2" in json.dumps(box.fake.dm_messages(admin)))
    with box.db.session() as s:
        unit = allies.member_unit(s, user_id=box.workspace.requester.id)
        assert unit is not None and unit.name == "Customer Success"


def test_non_admin_cannot_use_bu(sqlite_sandbox: Sandbox) -> None:
    """`/ally-admin bu add` from a non-admin is refused and adds nothing."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally-admin", "bu add Hackers", user_id=user, channel_id="C0GENERAL")
    until(lambda: box.fake.ephemerals(user))
    with box.db.session() as s:
        assert allies.business_unit_named(s, "Hackers") is None


@contextmanager
def _sqlite_writer_held(box: Sandbox) -> Iterator[None]:
    """Another unit of work holds SQLite's write lock (as a slow writer elsewhere would)."""
    database = box.db.engine.url.database
    assert database
    holder = sqlite3.connect(database, timeout=30, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _select(view: dict[str, Any]) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == Ids.BUSINESS_UNIT)
    element: dict[str, Any] = block["element"]
    return element


def _choices(select: dict[str, Any]) -> list[str]:
    options = list(select.get("options") or [])
    for group in select.get("option_groups") or []:
        options.extend(group["options"])
    return [o["value"] for o in options]


def test_join_opens_the_modal_while_another_writer_holds_sqlite(sqlite_sandbox: Sandbox) -> None:
    """`/ally join` and the Home button only read before the ack: answered, and the modal opens."""
    box = sqlite_sandbox
    user = box.workspace.allies[0].id
    with _sqlite_writer_held(box):
        answer = box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
        assert answer.status == 200
        box.fake.wait_for("views.open", predicate=lambda c: c.ok)
        clicked = box.slack.click_raw(user, Ids.JOIN, "edit")
        assert clicked.status == 200
        box.fake.wait_for("views.open", count=2, predicate=lambda c: c.ok)


def test_signup_is_answered_while_another_writer_holds_sqlite(sqlite_sandbox: Sandbox) -> None:
    """Submitting sign-up checks with a read before the ack; the write waits until after it."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(user))
    with _sqlite_writer_held(box):
        answer = box.slack.submit_view(user, view, {Ids.BUSINESS_UNIT: "Sales"})
        assert answer.status == 200
        assert answer.json() is None  # the modal closes
    until(lambda: "You are an ally" in json.dumps(box.fake.dm_messages(user)))
    with box.db.read() as s:
        assert allies.profile(s, user_id=user) == allies.Profile("Sales", True)


def test_signup_with_a_unit_not_in_the_list_is_a_modal_error(sqlite_sandbox: Sandbox) -> None:
    """A business unit that is not (or no longer) in the list is refused in the modal."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(user))
    forged = json.loads(json.dumps(view))
    gone = {"text": {"type": "plain_text", "text": "Gone"}, "value": "Gone"}
    _select(forged)["options"].append(gone)
    with _sqlite_writer_held(box):
        answer = box.slack.submit_view(user, forged, {Ids.BUSINESS_UNIT: "Gone"})
    assert answer.status == 200
    assert "business unit" in answer.json()["errors"][Ids.BUSINESS_UNIT]
    with box.db.read() as s:
        assert allies.profile(s, user_id=user) is None


OPENERS = {
    "join command": lambda box, user: box.slack.slash(
        "/ally", "join", user_id=user, channel_id="C0GENERAL"
    ),
    "join button": lambda box, user: box.slack.click_raw(user, Ids.JOIN, "join"),
    "bu import": lambda box, user: box.slack.slash(
        "/ally-admin", "bu import", user_id=user, channel_id="C0GENERAL"
    ),
}


@pytest.mark.parametrize("opener", list(OPENERS))
def test_a_failed_views_open_is_tried_once_acked_and_explained(
    sqlite_sandbox: Sandbox, opener: str
) -> None:
    """views.open with the trigger is one quick try: no retries past the ack; the person is told."""
    box = sqlite_sandbox
    user = box.workspace.admin.id
    box.fake.fail_next("views.open", status=500, times=10)
    answer = OPENERS[opener](box, user)
    assert answer.status == 200

    def told() -> bool:
        return "could not open" in json.dumps(
            [box.fake.ephemerals(user), box.fake.dm_messages(user)]
        )

    until(told)
    settle(box)
    assert len(box.fake.calls_to("views.open")) == 1


def _add_units(box: Sandbox, names: list[str]) -> None:
    with box.db.session() as s:
        for name in names:
            allies.add_business_unit(s, name)


MANY_UNITS = [f"{letter} Unit {n:03d}" for letter in "ABCDEFG" for n in range(30)]
LONG_UNITS = [f"Department of Long Names and Further Words {n:03d}" for n in range(120)]


def test_signup_offers_every_unit_when_there_are_more_than_100(sandbox: Sandbox) -> None:
    """Over 100 units: grouped options (each group and the group count within Slack's 100)."""
    box = sandbox
    _add_units(box, [*MANY_UNITS, *[f"B Unit {n:03d}" for n in range(30, 130)]])
    with box.db.read() as s:
        every = [bu.name for bu in allies.business_units(s)]
    last = max(every, key=str.casefold)
    user = box.workspace.allies[0].id
    with box.db.session() as s:
        allies.join(s, user_id=user, business_unit=last, available=True)
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(user))
    View(**view).validate_json()
    select = _select(view)
    assert "options" not in select
    assert sorted(_choices(select)) == sorted(every)
    assert len(select["option_groups"]) <= 100
    assert all(0 < len(g["options"]) <= 100 for g in select["option_groups"])
    assert all(len(g["label"]["text"]) <= 75 for g in select["option_groups"])
    assert select["initial_option"]["value"] == last
    box.slack.submit_view(user, view, {Ids.BUSINESS_UNIT: last, Ids.AVAILABILITY: "unavailable"})
    until(lambda: "unavailable" in json.dumps(box.fake.dm_messages(user)))
    with box.db.read() as s:
        assert allies.profile(s, user_id=user) == allies.Profile(last, False)


THOUSANDS = [f"{chr(65 + n % 26)} Department of Long Names {n:05d}" for n in range(3000)]


def test_signup_with_thousands_of_units_takes_a_typed_name(sqlite_sandbox: Sandbox) -> None:
    """Too many units for a view's 250 kB: the unit's name is typed, matched ignoring case;
    an unknown name is a field error on business_unit and nothing is saved."""
    box = sqlite_sandbox
    with box.db.session() as s:
        s.add_all(BusinessUnit(name=name, source="admin") for name in THOUSANDS)
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(user))
    assert len(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()) < 250_000
    field = _select(view)
    assert field["type"] == "plain_text_input" and field["action_id"] == Ids.BUSINESS_UNIT
    # Unknown: a field error naming the unit, on that block only; the form stays open.
    answer = box.slack.submit_view(
        user, view, {Ids.BUSINESS_UNIT: "Nowhere Unit", Ids.AVAILABILITY: "unavailable"}
    )
    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [Ids.BUSINESS_UNIT]
    assert "Nowhere Unit" in body["errors"][Ids.BUSINESS_UNIT]
    assert (box.fake.current_view(user) or {}).get("id") == view["id"]
    with box.db.read() as s:
        assert allies.profile(s, user_id=user) is None
    # Known, typed in other capitals and with spaces: saved under the unit's own name.
    wanted = THOUSANDS[1234]
    answer = box.slack.submit_view(
        user, view, {Ids.BUSINESS_UNIT: f"  {wanted.lower()} ", Ids.AVAILABILITY: "unavailable"}
    )
    assert answer.status == 200 and answer.json() is None
    until(lambda: box.fake.dm_messages(user))
    with box.db.read() as s:
        assert allies.profile(s, user_id=user) == allies.Profile(wanted, False)
    # Reopened, the form shows the ally's unit already typed.
    box.slack.click_raw(user, Ids.JOIN, "edit")
    again = until(lambda: (v := box.fake.current_view(user)) and v["id"] != view["id"] and v)
    assert _select(again)["initial_value"] == wanted


def test_signup_without_units_explains_instead_of_an_empty_select(
    sqlite_sandbox: Sandbox,
) -> None:
    """No business units: a note and no business_unit select (Slack refuses an empty one)."""
    box = sqlite_sandbox
    with box.db.session() as s:
        for unit in allies.business_units(s):
            s.delete(unit)
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "join", user_id=user, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(user))
    assert not [b for b in view["blocks"] if b.get("block_id") == Ids.BUSINESS_UNIT]
    assert "no business units" in json.dumps(view)


def test_unit_groups_stay_within_slacks_limits() -> None:
    """Up to 100 units are plain options; beyond, every unit is in one of <= 100 groups."""
    assert unit_groups([f"Unit {n}" for n in range(100)]) is None
    # 101 initials with 51 units each: no two letters share a group, so plain runs are used
    names = [f"{chr(0x4E00 + i)} {n:02d}" for i in range(101) for n in range(51)]
    for units in (names, [*MANY_UNITS, *LONG_UNITS]):
        groups = unit_groups(units)
        assert groups is not None and len(groups) <= 100
        assert all(0 < len(options) <= 100 for _, options in groups)
        assert sorted(n for _, options in groups for n in options) == sorted(units)


def test_admins_see_every_unit_in_the_import_modal_and_the_list(sqlite_sandbox: Sandbox) -> None:
    """The import modal and `/ally-admin bu` show all units, each text within Slack's limits."""
    box = sqlite_sandbox
    _add_units(box, LONG_UNITS)
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(admin))
    shown = " ".join(
        e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]
    )
    assert all(name in shown for name in LONG_UNITS)
    box.slack.slash("/ally-admin", "bu", user_id=admin, channel_id="C0GENERAL")
    until(lambda: len(box.fake.ephemerals(admin)) >= 1)
    settle(box)
    listed = json.dumps(box.fake.ephemerals(admin))
    assert all(name in listed for name in LONG_UNITS)


@pytest.mark.parametrize("error", ["missing_scope", "ratelimited"])
def test_import_aborts_when_slack_cannot_be_asked_about_emails(
    sandbox: Sandbox, error: str
) -> None:
    """Only users_not_found is a line's problem; any other error imports nothing, says so."""
    box = sandbox
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(admin))
    if error == "ratelimited":  # still limited after the client's retries
        box.fake.fail_next("users.lookupByEmail", status=429, times=10, retry_after=0)
    else:
        box.fake.fail_next("users.lookupByEmail", status=200, error=error)
    good = f"{box.workspace.colleague.id},Sales\npriya@example.com,Sales"
    answer = box.slack.submit_view(admin, view, {Ids.CSV: good})
    assert answer.status == 200
    said = json.dumps(until(lambda: box.fake.dm_messages(admin)))
    assert "could not ask Slack" in said and "Nothing was imported" in said
    assert "No Slack user" not in said
    settle(box)
    with box.db.read() as s:
        assert s.get(Member, box.workspace.colleague.id) is None
        assert s.get(Member, box.workspace.requester.id) is None


def test_import_asks_slack_after_the_ack_and_once_per_address(sqlite_sandbox: Sandbox) -> None:
    """Slow e-mail lookups do not hold the submission's answer; a repeated address is asked once."""
    box = sqlite_sandbox
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", "bu import", user_id=admin, channel_id="C0GENERAL")
    view = until(lambda: box.fake.current_view(admin))
    box.fake.delay("users.lookupByEmail", 3.5)
    text = "priya@example.com,Sales\nPRIYA@example.com,Sales\ntom@example.com,People"
    answer = box.slack.submit_view(admin, view, {Ids.CSV: text})
    assert answer.status == 200
    assert answer.json() is None
    until(lambda: "Imported 2" in json.dumps(box.fake.dm_messages(admin)), timeout=30)
    box.fake.delay("users.lookupByEmail", 0)
    assert len(box.fake.calls_to("users.lookupByEmail")) == 2
