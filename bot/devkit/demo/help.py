"""Demo scene: a newcomer asks what the programme is."""

from __future__ import annotations

from pathlib import Path

from bot.devkit.demo.transcript import Transcript
from bot.devkit.sandbox import Sandbox


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Someone types `/ally help` and sees the programme's purpose and commands."""
    show.scene("Finding out about the programme")
    person = box.workspace.colleague
    show.step(f"{person.real_name} types `/ally help` in #general")
    box.slack.slash("/ally", "help", user_id=person.id, channel_id=box.workspace.general_channel)
    box.fake.wait_for("chat.postEphemeral")
