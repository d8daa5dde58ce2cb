"""Flows shared by the year-end tests and the demo-like checks: forms, cards, clicks."""

from __future__ import annotations

from typing import Any

from bot.devkit import factories
from bot.devkit.sandbox import Sandbox
from bot.rules import allies
from handlers.yearend.ids import Ids
from tests.helpers import until

ALLY = "U0ALLY1"  # Engineering
REPORTER = "U0ASKER"  # Sales
VOL_OTHER = "U0VOL1"  # People: may assess
VOL_SAME = "U0VOL2"  # Engineering: the ally's unit


def setup(box: Sandbox) -> None:
    """The ally in Engineering, the reporter in Sales, one volunteer in each of People and
    Engineering."""
    with box.db.session() as s:
        allies.join(s, user_id=ALLY, business_unit="Engineering", available=True)
    factories.member(box.db, REPORTER, "Sales")
    factories.member(box.db, VOL_OTHER, "People")
    factories.member(box.db, VOL_SAME, "Engineering")
    volunteers(box, [p.id for p in box.workspace.volunteers])


def volunteers(box: Sandbox, people: list[str]) -> None:
    """Who is in the private volunteers channel (the bot is invited, as the README asks)."""
    box.fake.set_members(box.workspace.volunteers_channel, [*people, box.fake.bot_user_id])


def cards(box: Sandbox) -> list[dict[str, Any]]:
    """Every card in the volunteers channel, oldest first."""
    return [
        m
        for m in box.fake.messages(box.workspace.volunteers_channel)
        if "assess" in str(m.get("blocks")) or "allyship" in str(m.get("text"))
    ]


def tell_story(
    box: Sandbox,
    what: str = "Amara spoke up for me in the planning meeting.",
    *,
    reporter: str = REPORTER,
    ally: str = ALLY,
    when: str | None = "2026-11-02",
) -> dict[str, Any]:
    """`/ally story`, then the form; returns the card posted to the volunteers channel."""
    before = len(cards(box))
    box.slack.slash("/ally", "story", user_id=reporter, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(reporter))
    assert view["callback_id"] == Ids.STORY_VIEW
    values: dict[str, Any] = {Ids.ALLY: ally, Ids.WHAT: what}
    if when:
        values[Ids.WHEN] = when
    answer = box.slack.submit_view(reporter, view, values)
    assert answer.status == 200 and answer.json() is None
    return until(lambda: cards(box)[before:] and cards(box)[before])


def log_event(
    box: Sandbox, *, user: str = REPORTER, unit: str = "Engineering", title: str = "Allyship 101"
) -> dict[str, Any]:
    """`/ally event`, then the form; returns the card."""
    before = len(cards(box))
    box.slack.slash("/ally", "event", user_id=user, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(user))
    assert view["callback_id"] == Ids.EVENT_VIEW
    answer = box.slack.submit_view(
        user,
        view,
        {
            Ids.TITLE: title,
            Ids.WHAT: "A lunch-and-learn on everyday allyship.",
            Ids.DATE: "2026-10-10",
            Ids.BUSINESS_UNIT: unit,
        },
    )
    assert answer.status == 200 and answer.json() is None
    return until(lambda: cards(box)[before:] and cards(box)[before])


def fresh(box: Sandbox, card: dict[str, Any]) -> dict[str, Any]:
    """The card as it is now."""
    return box.fake.message(box.workspace.volunteers_channel, card["ts"])


def click(box: Sandbox, user: str, card: dict[str, Any], action: str) -> None:
    """Click a button on the card as it is now."""
    box.slack.click(
        user, action, message=fresh(box, card), channel=box.workspace.volunteers_channel
    )
