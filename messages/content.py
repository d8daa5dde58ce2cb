"""The programme's editable content: lexicon, handbook and surveys (ALLYBOT_CONTENT_DIR).

Organisations rewrite these files, so anything Slack could refuse is settled here: an id that
cannot be an option value, more categories than a select lists, or a file that cannot be read
stops start-up with one line naming the file and the problem (ContentError); text that is
merely long (labels, purpose, terms, tips, handbook) is capped or split by the templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from messages.mentoring_content import SUBDIRECTORY as MENTORING_SUBDIRECTORY
from messages.mentoring_content import MentoringContent, load_mentoring_content
from messages.survey_content import SurveyContentError, SurveyDef, load_surveys

LEXICON_FILE = "lexicon.yml"
HANDBOOK_FILE = "handbook.md"
# Slack's limits where content ends up (../shared/SLACK_FACTS.md, "Block Kit limits").
CATEGORY_ID_MAX = 150  # a category id is an option value
CATEGORY_LABEL_MAX = 75  # a category label is an option's text
CATEGORIES_MAX = 100  # the request modal's static select
# The shipped content; an organisation's directory without `mentoring/` uses its files.
SHIPPED_DIR = Path(__file__).resolve().parent / "content"


class ContentError(ValueError):
    """Content that cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Category:
    """Something one can ask an ally for."""

    id: str
    label: str
    description: str


@dataclass(frozen=True)
class Term:
    """A lexicon entry."""

    term: str
    definition: str


@dataclass(frozen=True)
class Content:
    """Everything the programme says that organisations may rewrite."""

    purpose: str
    categories: tuple[Category, ...]
    not_for: tuple[str, ...]
    terms: tuple[Term, ...]
    handbook: str
    tips: tuple[str, ...]
    # Reverse mentoring's interests, maturity framework and library (SPEC 4).
    mentoring: MentoringContent | None = None
    # The awareness surveys of survey.yml (messages.survey_content), checked at start-up.
    surveys: tuple[SurveyDef, ...] = ()

    def category(self, category_id: str) -> Category | None:
        """The category with this id, if any."""
        return next((c for c in self.categories if c.id == category_id), None)

    def survey(self, survey_id: str) -> SurveyDef | None:
        """The survey with this id, if any."""
        return next((s for s in self.surveys if s.id == survey_id), None)

    def find_terms(self, query: str) -> list[Term]:
        """Terms whose name contains the query (case-insensitive)."""
        needle = query.strip().casefold()
        return [t for t in self.terms if needle in t.term.casefold()]


def load_content(directory: Path) -> Content:
    """Read lexicon.yml and handbook.md from the content directory; raise ContentError."""
    lexicon_path = directory / LEXICON_FILE
    lexicon = _read_yaml(lexicon_path)
    handbook = _read_text(directory / HANDBOOK_FILE).strip()
    try:
        surveys = load_surveys(directory)
    except SurveyContentError as exc:
        raise ContentError(str(exc)) from None
    try:
        return Content(
            purpose=_text(lexicon, "purpose"),
            categories=_categories(lexicon_path, lexicon.get("can_ask_for")),
            not_for=tuple(_text_items(lexicon, "not_for")),
            terms=tuple(
                Term(term=_text(t, "term"), definition=_text(t, "definition"))
                for t in _mappings(lexicon, "terms")
            ),
            handbook=handbook,
            tips=tuple(_text_items(lexicon, "handbook_tips", required=False)),
            surveys=surveys,
            # Checked here, at start-up: a bad file stops it with one line naming the file.
            mentoring=load_mentoring_content(mentoring_dir(directory)),
        )
    except _Problem as exc:
        raise ContentError(f"{lexicon_path}: {exc}") from None


def mentoring_dir(directory: Path) -> Path:
    """Where the mentoring files are: the directory's `mentoring/`, else the shipped one.

    Organisations that rewrote the lexicon before mentoring existed keep starting; one that
    adds a `mentoring/` folder must give all three files (a missing one is named).
    """
    own = directory / MENTORING_SUBDIRECTORY
    return own if own.is_dir() else SHIPPED_DIR / MENTORING_SUBDIRECTORY


class _Problem(Exception):
    """A problem inside lexicon.yml, before the file name is put in front."""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ContentError(f"{path}: cannot be read ({reason})") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "malformed"
        raise ContentError(f"{path}: is not valid YAML{line} ({problem})") from None
    if not isinstance(data, dict):
        raise ContentError(f"{path}: must be a mapping with purpose, can_ask_for, not_for, terms")
    return data


def _text(mapping: dict[str, Any], key: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str | int | float) or not str(value).strip():
        raise _Problem(f"{key} must be non-empty text")
    return str(value).strip()


def _mappings(lexicon: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = lexicon.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _Problem(f"{key} must be a list of entries")
    return items


def _text_items(lexicon: dict[str, Any], key: str, *, required: bool = True) -> list[str]:
    items = lexicon.get(key)
    if items is None and not required:
        return []
    if not isinstance(items, list) or not all(
        isinstance(i, str | int | float) and str(i).strip() for i in items
    ):
        raise _Problem(f"{key} must be a list of non-empty texts")
    return [str(i).strip() for i in items]


def _categories(path: Path, raw: Any) -> tuple[Category, ...]:
    entries = _mappings({"can_ask_for": raw}, "can_ask_for")
    if not entries:
        raise _Problem("can_ask_for needs at least one category")
    if len(entries) > CATEGORIES_MAX:
        raise _Problem(
            f"can_ask_for has {len(entries)} categories; the request form lists at most "
            f"{CATEGORIES_MAX}"
        )
    categories: list[Category] = []
    for entry in entries:
        category_id = _text(entry, "id")
        if len(category_id) > CATEGORY_ID_MAX:
            raise _Problem(
                f"category id {category_id[:30]!r}... is {len(category_id)} characters; "
                f"Slack allows {CATEGORY_ID_MAX}"
            )
        if any(c.id == category_id for c in categories):
            raise _Problem(f"category id {category_id!r} is used twice")
        label = _text(entry, "label")
        if len(label) > CATEGORY_LABEL_MAX:
            # A label is an option's text wherever it is chosen: kept to what Slack shows.
            label = label[: CATEGORY_LABEL_MAX - 1] + "…"
        description = str(entry.get("description") or "").strip()
        categories.append(Category(id=category_id, label=label, description=description))
    return tuple(categories)
