"""Demo scene: the awareness surveys, programme figures and the misuse review (SPEC 3)."""

from __future__ import annotations

from pathlib import Path

from bot.devkit.demo.transcript import Transcript
from bot.devkit.sandbox import Sandbox


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Play this feature's scene."""
