"""Survey content: the shipped survey loads; a bad survey.yml stops start-up naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_CONTENT_DIR, ConfigError, load_settings
from messages.content import ContentError, load_content
from tests.helpers import base_env


def test_the_shipped_awareness_survey_asks_what_the_issue_names() -> None:
    """The default survey: meaning, what to ask for, seen addressed, ask and offer; a text."""
    survey = load_content(DEFAULT_CONTENT_DIR).survey("awareness")
    assert survey is not None
    ids = [q.id for q in survey.questions]
    assert ids == [
        "meaning",
        "know_what_to_ask",
        "seen_addressed",
        "would_ask",
        "would_offer",
        "anything_else",
    ]
    assert {q.kind for q in survey.questions} == {"choice", "likert", "text"}


def _content_with(tmp_path: Path, survey: dict) -> Path:
    directory = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, directory)
    (directory / "survey.yml").write_text(yaml.safe_dump({"surveys": [survey]}), "utf-8")
    return directory


def _survey(*questions: dict) -> dict:
    return {"id": "pulse", "title": "Pulse", "questions": list(questions)}


LIKERT = {"id": "q1", "type": "likert", "text": "I know what to ask for."}


@pytest.mark.parametrize(
    ("survey", "problem"),
    [
        (_survey(LIKERT, {**LIKERT, "text": "again"}), "question id 'q1' is used twice"),
        (_survey({**LIKERT, "type": "slider"}), "unknown type 'slider'"),
        (
            _survey(
                {
                    "id": "q2",
                    "type": "choice",
                    "text": "Pick",
                    "options": [{"id": "a", "label": "x" * 76}, {"id": "b", "label": "B"}],
                }
            ),
            "is 76 characters; Slack allows 75",
        ),
        (_survey({**LIKERT, "labels": ["a", "b"]}), "needs 5 labels"),
        (_survey(), "needs a list of questions"),
        ({**_survey(LIKERT), "title": "T" * 201}, "title is 201 characters; at most 200"),
    ],
)
def test_a_bad_survey_file_stops_start_up_naming_file_and_problem(
    tmp_path: Path, survey: dict, problem: str
) -> None:
    """Duplicate question id, unknown type, over-long option: one line with file and problem."""
    directory = _content_with(tmp_path, survey)
    with pytest.raises(ContentError) as caught:
        load_content(directory)
    message = str(caught.value)
    assert str(directory / "survey.yml") in message and problem in message
    assert "\n" not in message
    with pytest.raises(ConfigError) as stopped:
        load_settings(**base_env(ALLYBOT_CONTENT_DIR=str(directory)))
    assert "ALLYBOT_CONTENT_DIR" in str(stopped.value) and problem in str(stopped.value)
