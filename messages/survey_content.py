"""Survey content (`survey.yml` in ALLYBOT_CONTENT_DIR): read and checked once, at start-up.

Anything Slack could refuse stops start-up with one line naming the file and the problem
(a duplicate survey or question id, an unknown question type, an option over Slack's 75
characters, a title longer than a survey run stores); the texts that are merely long are
capped by the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SURVEY_FILE = "survey.yml"
KINDS = ("likert", "choice", "text")
LIKERT_LABELS = ("Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree")
OPTION_TEXT_MAX = 75  # an option's text (radio buttons, selects)
RADIO_OPTIONS_MAX = 10  # radio buttons in one input
TITLE_MAX = 200  # storage.models.surveys.SurveyRun.title holds 200 (PostgreSQL enforces it)
QUESTIONS_MAX = 40  # a view holds at most 100 blocks: intro, questions, unit
QUESTION_TEXT_MAX = 2000  # an input's label is capped at 2000 characters
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
# Block ids Slack already uses in the form, which a question id may not take.
RESERVED_IDS = frozenset({"business_unit", "intro"})


class SurveyContentError(ValueError):
    """A survey file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class QuestionDef:
    """One question as the content file writes it."""

    id: str
    kind: str
    text: str
    options: tuple[tuple[str, str], ...] = ()
    optional: bool = True


@dataclass(frozen=True)
class SurveyDef:
    """A survey an admin can start."""

    id: str
    title: str
    intro: str
    questions: tuple[QuestionDef, ...]


class _Problem(Exception):
    pass


def load_surveys(directory: Path) -> tuple[SurveyDef, ...]:
    """The surveys of `survey.yml` in `directory` (none if there is no such file)."""
    path = directory / SURVEY_FILE
    if not path.exists():
        return ()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SurveyContentError(f"{path}: cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise SurveyContentError(f"{path}: is not valid YAML{line}") from None
    try:
        return _surveys(data)
    except _Problem as exc:
        raise SurveyContentError(f"{path}: {exc}") from None


def _surveys(data: Any) -> tuple[SurveyDef, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("surveys"), list):
        raise _Problem("must be a mapping with a list of surveys")
    surveys: list[SurveyDef] = []
    for entry in data["surveys"]:
        if not isinstance(entry, dict):
            raise _Problem("each survey must be a mapping with id, title and questions")
        survey_id = _id(entry, "survey")
        if any(s.id == survey_id for s in surveys):
            raise _Problem(f"survey id {survey_id!r} is used twice")
        title = _text(entry, "title", f"survey {survey_id!r}")
        if len(title) > TITLE_MAX:
            raise _Problem(
                f"survey {survey_id!r}: title is {len(title)} characters; at most {TITLE_MAX}"
            )
        intro = str(entry.get("intro") or "").strip()
        surveys.append(SurveyDef(survey_id, title, intro, _questions(survey_id, entry)))
    return tuple(surveys)


def _questions(survey_id: str, entry: dict[str, Any]) -> tuple[QuestionDef, ...]:
    raw = entry.get("questions")
    where = f"survey {survey_id!r}"
    if not isinstance(raw, list) or not raw:
        raise _Problem(f"{where} needs a list of questions")
    if len(raw) > QUESTIONS_MAX:
        raise _Problem(f"{where} has {len(raw)} questions; a form holds at most {QUESTIONS_MAX}")
    out: list[QuestionDef] = []
    for item in raw:
        if not isinstance(item, dict):
            raise _Problem(f"{where}: each question must be a mapping")
        qid = _id(item, "question")
        if qid in RESERVED_IDS:
            raise _Problem(f"{where}: question id {qid!r} is reserved")
        if any(q.id == qid for q in out):
            raise _Problem(f"{where}: question id {qid!r} is used twice")
        kind = str(item.get("type") or "").strip()
        if kind not in KINDS:
            raise _Problem(
                f"{where}: question {qid!r} has unknown type {kind!r} (use {', '.join(KINDS)})"
            )
        text = _text(item, "text", f"question {qid!r}")
        if len(text) > QUESTION_TEXT_MAX:
            raise _Problem(f"{where}: question {qid!r} is over {QUESTION_TEXT_MAX} characters")
        options = _options(where, qid, kind, item)
        out.append(QuestionDef(qid, kind, text, options, bool(item.get("optional", True))))
    return tuple(out)


def _options(where: str, qid: str, kind: str, item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    if kind == "text":
        return ()
    if kind == "likert":
        labels = item.get("labels", list(LIKERT_LABELS))
        if not isinstance(labels, list) or len(labels) != len(LIKERT_LABELS):
            raise _Problem(f"{where}: question {qid!r} needs {len(LIKERT_LABELS)} labels")
        pairs = [(str(point), str(label).strip()) for point, label in enumerate(labels, 1)]
    else:
        raw = item.get("options")
        if not isinstance(raw, list) or len(raw) < 2:
            raise _Problem(f"{where}: question {qid!r} needs at least two options")
        if len(raw) > RADIO_OPTIONS_MAX:
            raise _Problem(
                f"{where}: question {qid!r} has {len(raw)} options; Slack shows at most "
                f"{RADIO_OPTIONS_MAX}"
            )
        pairs = []
        for option in raw:
            if not isinstance(option, dict):
                raise _Problem(f"{where}: question {qid!r}: each option needs an id and a label")
            pairs.append((_id(option, "option"), str(option.get("label") or "").strip()))
        values = [value for value, _ in pairs]
        if len(set(values)) != len(values):
            raise _Problem(f"{where}: question {qid!r} uses an option id twice")
    for value, label in pairs:
        if not label:
            raise _Problem(f"{where}: question {qid!r}: option {value!r} has no label")
        if len(label) > OPTION_TEXT_MAX:
            raise _Problem(
                f"{where}: question {qid!r}: option {label[:30]!r}... is {len(label)} "
                f"characters; Slack allows {OPTION_TEXT_MAX}"
            )
    return tuple(pairs)


def _id(entry: dict[str, Any], what: str) -> str:
    value = str(entry.get("id") or "").strip()
    if not ID_PATTERN.fullmatch(value):
        raise _Problem(f"{what} id {value[:30]!r} must be 1-50 lower-case letters, digits, - or _")
    return value


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str | int | float) or not str(value).strip():
        raise _Problem(f"{where}: {key} must be non-empty text")
    return " ".join(str(value).split())
