"""The call for stories: one post per cron fire time across replicas and restarts; its button
opens the story form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app.scheduler import STORIES_CALL_CATCH_UP, schedule_stories_call
from bot.devkit.sandbox import Sandbox
from handlers.yearend.ids import Ids
from tests.helpers import until


def test_the_call_is_posted_once_per_fire_time_and_opens_the_form(sandbox: Sandbox) -> None:
    """Two replicas and a restart scheduling the same fire time make one post; its button opens
    allyship_story."""
    box = sandbox
    fired = datetime(2026, 12, 1, 10, 0, 20, tzinfo=UTC)  # the default cron, in UTC
    key = schedule_stories_call(box.db, box.settings, fired)
    assert key is not None
    assert key == schedule_stories_call(box.db, box.settings, fired + timedelta(seconds=30))
    # A restart two days later catches up the same fire time: still one item.
    later = fired + timedelta(days=2)
    assert key == schedule_stories_call(box.db, box.settings, later, within=STORIES_CALL_CATCH_UP)
    assert box.run_due(fired + timedelta(minutes=1)) == 1
    assert box.run_due(fired + timedelta(minutes=2)) == 0
    [post] = box.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == box.workspace.announcements_channel
    assert "2026" in post.args["text"]
    message = box.fake.messages(box.workspace.announcements_channel)[-1]
    person = box.workspace.colleague.id
    box.slack.click(person, Ids.OPEN_STORY, message=message)
    view = until(lambda: box.fake.current_view(person))
    assert view["callback_id"] == Ids.STORY_VIEW


def test_no_call_outside_its_window(sandbox: Sandbox) -> None:
    """Nothing is scheduled when the cron has not fired within the window."""
    box = sandbox
    assert schedule_stories_call(box.db, box.settings, datetime(2026, 6, 1, tzinfo=UTC)) is None
