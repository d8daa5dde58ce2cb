"""Forget-me and retention reach stories: text and names go, the units' points stay."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.devkit.sandbox import Sandbox
from handlers.yearend.ids import Ids
from storage.models.points import PointsEntry
from storage.models.yearend import AllyshipStory
from storage.types import utcnow
from tests.handlers.yearend_flows import (
    ALLY,
    REPORTER,
    VOL_OTHER,
    click,
    fresh,
    setup,
    tell_story,
)
from tests.helpers import settle, until

TEXT = "Amara backed my proposal when others talked over me"


def _forget(box: Sandbox, user_id: str) -> None:
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.slash("/ally", "forget-me", user_id=user_id, channel_id="C0GENERAL")
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view(user_id)
    assert modal is not None
    box.slack.submit_view(user_id, modal)
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == user_id and "data is deleted" in str(c.args),
    )
    settle(box)


def _stories(box: Sandbox) -> list[AllyshipStory]:
    with box.db.session() as s:
        rows = list(s.execute(select(AllyshipStory).order_by(AllyshipStory.id)).scalars())  # type: ignore[arg-type]
        for row in rows:
            s.expunge(row)
        return rows


def _total(box: Sandbox) -> int:
    with box.db.session() as s:
        return sum(r.amount for r in s.execute(select(PointsEntry)).scalars())


def test_forget_me_deletes_story_text_and_names_and_keeps_points(sandbox: Sandbox) -> None:
    """The reporter forgotten: an accepted story loses its text and their name, the points
    stay; a pending story is withdrawn, its card says so, and assessing it is refused."""
    box = sandbox
    setup(box)
    accepted = tell_story(box, TEXT)
    click(box, VOL_OTHER, accepted, Ids.ACCEPT_STORY)
    until(lambda: _total(box) == 5)
    pending = tell_story(box, "Another kind act")
    _forget(box, REPORTER)
    first, second = _stories(box)
    assert first.what is None and first.reporter_id == "forgotten" and first.status == "accepted"
    assert second.what is None and second.status == "withdrawn"
    assert REPORTER not in str(first.reporter_marker)
    assert _total(box) == 5
    box.run_due(utcnow() + timedelta(minutes=1))
    assert TEXT not in str(fresh(box, accepted)["blocks"])
    assert "withdrawn" in str(fresh(box, pending)["blocks"]).lower()
    box.slack.click_raw(
        VOL_OTHER,
        Ids.ACCEPT_STORY,
        f"story:{second.id}",
        channel=box.workspace.volunteers_channel,
    )
    until(lambda: any("withdrawn" in str(e) for e in box.fake.ephemerals(VOL_OTHER)))
    settle(box)
    assert _total(box) == 5


def test_forgetting_the_ally_removes_their_name_from_the_card(sandbox: Sandbox) -> None:
    """The ally forgotten: their mention leaves the card; the unit keeps its points."""
    box = sandbox
    setup(box)
    card = tell_story(box, TEXT)
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: _total(box) == 5)
    _forget(box, ALLY)
    box.run_due(utcnow() + timedelta(minutes=1))
    shown = str(fresh(box, card)["blocks"])
    assert f"<@{ALLY}>" not in shown and TEXT not in shown
    assert _total(box) == 5


def test_story_text_is_deleted_after_the_retention_period(sandbox: Sandbox) -> None:
    """ALLYBOT_RETENTION_DAYS after the decision the text goes; the decision and points stay;
    the card says the text was deleted."""
    box = sandbox
    setup(box)
    card = tell_story(box, TEXT)
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: _total(box) == 5)
    settle(box)
    box.run_due(utcnow() + timedelta(days=box.settings.retention_days - 1))
    assert _stories(box)[0].what == TEXT
    box.run_due(utcnow() + timedelta(days=box.settings.retention_days, hours=1))
    [story] = _stories(box)
    assert story.what is None and story.purged_at is not None and story.status == "accepted"
    assert TEXT not in str(fresh(box, card)["blocks"]) and _total(box) == 5
    box.slack.click_raw(
        VOL_OTHER, Ids.MARK_CREATIVE, f"story:{story.id}", channel=box.workspace.volunteers_channel
    )
    until(lambda: any("retention" in str(e) for e in box.fake.ephemerals(VOL_OTHER)))
