"""Demo scene: reverse mentoring (SPEC 4), from the call to the report."""

from __future__ import annotations

from pathlib import Path

from bot.devkit.demo.transcript import Transcript
from bot.devkit.sandbox import Sandbox


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Play this feature's scene."""
