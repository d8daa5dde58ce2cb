"""Organisation content that Slack could not take stops start-up with one line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONTENT_DIR, ConfigError, load_settings
from messages.content import ContentError, load_content
from tests.helpers import base_env


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target, ignore=shutil.ignore_patterns("mentoring"))
    return target


def _lexicon(directory: Path, text: str) -> Path:
    path = directory / "lexicon.yml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_REST = """
purpose: We help.
not_for: [Emergencies]
terms: [{term: Ally, definition: A colleague.}]
"""


@pytest.mark.parametrize(
    ("lexicon", "problem"),
    [
        (f"can_ask_for: [{{id: {'x' * 151}, label: L, description: D}}]" + GOOD_REST, "151"),
        ("can_ask_for: [{id: a, label: L}, {id: a, label: M}]" + GOOD_REST, "used twice"),
        (
            "can_ask_for: ["
            + ", ".join(f"{{id: c{i}, label: L{i}}}" for i in range(101))
            + "]"
            + GOOD_REST,
            "at most 100",
        ),
        ("can_ask_for: [{id: a, label: L}\npurpose: [", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("can_ask_for: [{id: a, label: L}]\nnot_for: [x]\nterms: []\n", "purpose"),
    ],
)
def test_unusable_lexicon_is_refused_naming_the_file(
    tmp_path: Path, lexicon: str, problem: str
) -> None:
    """A category id over 150, duplicate ids, too many categories or bad YAML name the file."""
    directory = _copy(tmp_path)
    path = _lexicon(directory, lexicon)
    with pytest.raises(ContentError) as failure:
        load_content(directory)
    message = str(failure.value)
    assert message.startswith(f"{path}: ") and problem in message
    assert "\n" not in message


def test_unreadable_handbook_is_refused(tmp_path: Path) -> None:
    """A handbook that is not UTF-8 text stops loading with the file's name."""
    directory = _copy(tmp_path)
    (directory / "handbook.md").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ContentError, match=r"handbook\.md: cannot be read"):
        load_content(directory)


def test_long_labels_are_capped_to_an_option_text(tmp_path: Path) -> None:
    """A category label is what a select option shows: kept within Slack's 75 characters."""
    directory = _copy(tmp_path)
    _lexicon(directory, f"can_ask_for: [{{id: a, label: {'L' * 200}}}]" + GOOD_REST)
    [category] = load_content(directory).categories
    assert len(category.label) == 75 and category.label.endswith("…")


def test_start_up_names_the_variable_the_file_and_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_settings raises one line: ALLYBOT_CONTENT_DIR, the file, what is wrong."""
    directory = _copy(tmp_path)
    path = _lexicon(directory, f"can_ask_for: [{{id: {'x' * 151}, label: L}}]" + GOOD_REST)
    for name in list(os.environ):
        if name.startswith(("SLACK_", "ALLYBOT_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    for name, value in {**base_env(), "ALLYBOT_CONTENT_DIR": str(directory)}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as failure:
        load_settings()
    message = str(failure.value)
    assert message.startswith("ALLYBOT_CONTENT_DIR: ") and str(path) in message
    assert "151 characters" in message and "\n" not in message
