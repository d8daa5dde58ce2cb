"""Demo scene: the year-end programme (SPEC 2.6): stories, events, nudges, awards, export."""

from __future__ import annotations

from pathlib import Path

from bot.devkit.demo.transcript import Transcript
from bot.devkit.sandbox import Sandbox


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Play this feature's scene."""
