"""App Home mentions the story form during the campaign; `/ally help` lists story and event."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.devkit.sandbox import Sandbox
from handlers.yearend.ids import Ids
from tests.helpers import until


@pytest.mark.parametrize(("cron", "shown"), [("0 0 1 1 *", True), ("59 23 31 12 *", False)])
def test_home_offers_the_story_form_during_the_campaign(
    tmp_path: Path, sqlite_template: Path, cron: str, shown: bool
) -> None:
    """After this year's call for stories the Home has a Share a story button; before, not."""
    path = tmp_path / "allybot.db"
    shutil.copy(sqlite_template, path)
    with Sandbox(f"sqlite:///{path}", ALLYBOT_STORIES_CALL_CRON=cron) as box:
        person = box.workspace.colleague.id
        box.slack.app_home_opened(person)
        view = until(lambda: box.fake.home_view(person))
        assert (Ids.OPEN_STORY in str(view["blocks"])) is shown
        box.db.dispose()


def test_help_lists_story_and_event(sqlite_sandbox: Sandbox) -> None:
    """`/ally help` names `/ally story` and `/ally event`."""
    box = sqlite_sandbox
    box.slack.slash("/ally", "help", user_id=box.workspace.colleague.id, channel_id="C0GENERAL")
    [answer] = box.fake.wait_for("chat.postEphemeral")
    assert "/ally story" in answer.args["text"] and "/ally event" in answer.args["text"]
