"""Mentoring content is loaded and checked at start-up, with the shipped files as fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONTENT_DIR, ConfigError, load_settings
from messages.content import load_content
from tests.helpers import base_env


def _organisation_dir(tmp_path: Path, *, mentoring: bool) -> Path:
    directory = tmp_path / "content"
    directory.mkdir()
    for name in ("lexicon.yml", "handbook.md"):
        shutil.copy(DEFAULT_CONTENT_DIR / name, directory / name)
    if (DEFAULT_CONTENT_DIR / "survey.yml").exists():
        shutil.copy(DEFAULT_CONTENT_DIR / "survey.yml", directory / "survey.yml")
    if mentoring:
        shutil.copytree(DEFAULT_CONTENT_DIR / "mentoring", directory / "mentoring")
    return directory


def test_a_content_dir_without_mentoring_uses_the_shipped_files(tmp_path: Path) -> None:
    """An organisation's lexicon written before mentoring existed still starts."""
    content = load_content(_organisation_dir(tmp_path, mentoring=False))
    assert content.mentoring is not None and content.mentoring.interests


def test_a_broken_mentoring_file_stops_start_up_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line names the variable and the file."""
    directory = _organisation_dir(tmp_path, mentoring=True)
    (directory / "mentoring" / "maturity.yml").write_text("levels: [", encoding="utf-8")
    for name, value in base_env(ALLYBOT_CONTENT_DIR=str(directory)).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=r"ALLYBOT_CONTENT_DIR.*maturity\.yml"):
        load_settings(_env_file=None)
