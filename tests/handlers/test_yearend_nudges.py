"""Nudges: the preview, contacts, one invitation per unit per year, paced through due items."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.devkit import factories
from bot.devkit.sandbox import Sandbox
from bot.privacy import privacy
from bot.rules import allies, forget
from bot.rules.points import ledger
from bot.rules.yearend import nudges
from handlers.yearend import nudges as sending
from handlers.yearend.ids import Ids
from storage.models.schedule import DueItem, SendRecord
from storage.types import utcnow
from tests.handlers.yearend_flows import volunteers
from tests.helpers import settle

CONTACT = "U0COLLEAGUE"


def _admin(box: Sandbox, text: str) -> list[dict]:
    box.fake.reset_calls()
    box.slack.slash("/ally-admin", text, user_id=box.workspace.admin.id, channel_id="C0GENERAL")
    return [c.args for c in box.fake.wait_for("chat.postEphemeral")]


def _year(box: Sandbox) -> None:
    """Engineering has an ally; People a volunteer; Sales points; Finance nothing; Legal
    nothing but a contact."""
    with box.db.session() as s:
        allies.join(s, user_id="U0ALLY1", business_unit="Engineering", available=True)
    factories.member(box.db, "U0VOL1", "People")
    volunteers(box, ["U0VOL1"])
    sales = factories.business_unit(box.db, "Sales")
    factories.business_unit(box.db, "Legal")
    with box.db.session() as s:
        ledger.add_entry(
            s, business_unit_id=sales, amount=5, kind=ledger.CASE, reason="r", source="case:1:x"
        )


def test_contacts_preview_and_one_invitation_per_unit(sandbox: Sandbox) -> None:
    """`bu contact` names Legal's contact; the preview lists Finance and Legal only; many sends
    schedule one DM to the contact and one public post for Finance, paced by the sweep."""
    box = sandbox
    _year(box)
    [answer] = _admin(box, f"bu contact legal <@{CONTACT}|tom>")
    assert "now a contact for Legal" in answer["text"]
    [answer] = _admin(box, f"bu contact Legal <@{CONTACT}>")
    assert "already a contact" in answer["text"]
    year = utcnow().year
    [preview] = _admin(box, "nudges")
    shown = str(preview["blocks"])
    assert "Finance" in shown and "Legal" in shown
    for busy in ("Engineering", "Sales", "People"):
        assert f"{busy}:" not in shown
    blocks = preview["blocks"]
    message = {
        "ts": "1.0",
        "channel": "C0GENERAL",
        "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks,
    }
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda _: box.slack.click(box.workspace.admin.id, Ids.SEND_NUDGES, message=message),
                range(4),
            )
        )
    settle(box)
    assert box.fake.calls_to("chat.postMessage") == []  # nothing sent inside a listener
    for minutes in (1, 2, 3):
        box.run_due(utcnow() + timedelta(minutes=minutes))
    dms = [c for c in box.fake.calls_to("chat.postMessage") if c.args["channel"] == CONTACT]
    posts = [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args["channel"] == box.workspace.announcements_channel
    ]
    assert len(dms) == 1 and "Legal" in str(dms[0].args["blocks"])
    assert len(posts) == 1 and "Finance" in str(posts[0].args["blocks"])
    assert "Legal" not in str(posts[0].args["blocks"])
    # Sending again this year changes nothing.
    box.slack.click(box.workspace.admin.id, Ids.SEND_NUDGES, message=message)
    box.fake.wait_for("chat.postEphemeral", predicate=lambda c: "already invited" in str(c.args))
    box.run_due(utcnow() + timedelta(minutes=5))
    assert len(box.fake.calls_to("chat.postMessage")) == 2
    assert str(year) in str(dms[0].args["blocks"])


def test_a_non_admin_cannot_send(sandbox: Sandbox) -> None:
    """send_nudges from a non-admin is refused and schedules nothing."""
    box = sandbox
    _year(box)
    box.slack.click_raw(box.workspace.colleague.id, Ids.SEND_NUDGES, str(utcnow().year))
    box.fake.wait_for(
        "chat.postEphemeral", predicate=lambda c: "Only programme admins" in str(c.args)
    )
    settle(box)
    box.run_due(utcnow() + timedelta(minutes=5))
    assert box.fake.calls_to("chat.postMessage") == []


def test_bad_contact_commands_are_explained(sandbox: Sandbox) -> None:
    """An unknown unit, a missing mention, and the other `bu` words still work."""
    box = sandbox
    _year(box)
    assert "no business unit called" in _admin(box, f"bu contact Marketing <@{CONTACT}>")[0]["text"]
    assert "Mention the contact" in _admin(box, "bu contact Legal")[0]["text"]
    assert "Legal" in str(_admin(box, "bu")[0])


def test_escaped_admin_text_finds_units_with_ampersands(sandbox: Sandbox) -> None:
    """With should_escape, Slack sends `R&amp;D`: the unit "R&D" is still found by name."""
    box = sandbox
    factories.business_unit(box.db, "R&D")
    [answer] = _admin(box, f"bu contact R&amp;D <@{CONTACT}|tom>")
    assert "now a contact for R&amp;D" in answer["text"]


def test_forgotten_and_unreachable_contacts_never_block_the_others(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Legal's contacts: one deactivated, one unknown to Slack, one who asked to be forgotten
    after the send was scheduled, and two who can be reached. The sweep skips the first three
    (no retries, no alert) and invites the others once each, also when the item fails part-way
    and runs again."""
    box = sandbox
    legal = factories.business_unit(box.db, "Legal")
    contacts = ("U0INACTIVE", "U0GHOST", "U0GONE", CONTACT, "U0ASKER")
    year = utcnow().year
    with box.db.session() as s:
        nudges.schedule(s, year=year, found=[nudges.Target(legal, "Legal", contacts)], now=utcnow())
    with box.db.session() as s:
        forget.forget(s, privacy(box.settings), user_id="U0GONE")
    box.fake.fail_next("chat.postMessage", status=200, error="account_inactive")
    shown = sending.render_blocks
    crashed: list[bool] = []

    def crash_once_on_the_last(name: str, **kwargs: object) -> list[dict]:
        third = len(box.fake.calls_to("chat.postMessage")) == 3
        if name == "yearend/nudge.json.j2" and third and not crashed:
            crashed.append(True)
            raise RuntimeError("the worker died part-way")
        return shown(name, **kwargs)

    monkeypatch.setattr(sending, "render_blocks", crash_once_on_the_last)
    for minutes in (1, 5, 15, 40, 90):
        box.run_due(utcnow() + timedelta(minutes=minutes))
    assert crashed
    sent = [c.args["channel"] for c in box.fake.calls_to("chat.postMessage")]
    assert sent.count(CONTACT) == 1 and sent.count("U0ASKER") == 1
    assert "U0GONE" not in sent and "forgotten" not in sent
    assert sent.count("U0INACTIVE") == 1 and sent.count("U0GHOST") == 1  # tried once, skipped
    with box.db.session() as s:
        item = s.execute(select(DueItem).where(DueItem.kind == nudges.NUDGE_UNIT)).scalars().one()
        assert item.status == "done", item.status
        records = s.execute(
            select(SendRecord).where(col(SendRecord.key).startswith(f"{item.key}/"))
        ).scalars()
        keys = {r.key for r in records if r.done_at is not None}
    assert keys == {f"{item.key}/contact:{n}" for n in range(5)}  # by place, never by ID
    assert not any(
        "failed" in str(c.args.get("text")) for c in box.fake.calls_to("chat.postMessage")
    )
