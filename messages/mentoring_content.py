"""Mentoring content: interests, the maturity framework and the meeting library (SPEC 4).

Pure: reads `interests.yml`, `maturity.yml` and `library.yml` from one directory (the
`mentoring` folder of ALLYBOT_CONTENT_DIR) and checks everything Slack will later need of
them, so that an organisation's rewrite fails at start-up with one line naming the file and
the problem rather than as a payload Slack refuses in the middle of a sign-up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUBDIRECTORY = "mentoring"
INTERESTS_FILE = "interests.yml"
MATURITY_FILE = "maturity.yml"
LIBRARY_FILE = "library.yml"

# Slack's limits for the places this content ends up in (SPEC 6, Slack fidelity).
OPTION_TEXT_MAX = 75  # an interest label or a behaviour, as a select or checkbox option
SELECT_OPTIONS_MAX = 100  # the interests multi-select
CHECKBOX_OPTIONS_MAX = 10  # one checkbox group; longer levels are split
CHECKBOX_GROUPS_MAX = 20  # maturity inputs in one view (a view has at most 100 blocks)
LEVELS_MIN, LEVELS_MAX = 4, 5
TITLE_MAX = 150
PROSE_MAX = 1000
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ContentError(ValueError):
    """Mentoring content that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class Interest:
    """Something a participant would like to talk about."""

    id: str
    label: str


@dataclass(frozen=True)
class Behaviour:
    """One inclusive behaviour of a maturity level's checklist."""

    id: str
    text: str
    level: int


@dataclass(frozen=True)
class Level:
    """A step of the maturity framework with its behaviour checklist."""

    level: int
    id: str
    name: str
    summary: str
    behaviours: tuple[Behaviour, ...]


@dataclass(frozen=True)
class CheckboxGroup:
    """Behaviours shown as one checkbox input (at most CHECKBOX_OPTIONS_MAX of them)."""

    level: int
    part: int
    parts: int
    behaviours: tuple[Behaviour, ...]


@dataclass(frozen=True)
class Framework:
    """The allyship maturity framework: 4 or 5 levels, numbered from 1."""

    levels: tuple[Level, ...]

    def behaviours(self) -> tuple[Behaviour, ...]:
        """Every behaviour, level by level."""
        return tuple(b for level in self.levels for b in level.behaviours)

    def behaviour(self, behaviour_id: str) -> Behaviour | None:
        """The behaviour with this id, if any."""
        return next((b for b in self.behaviours() if b.id == behaviour_id), None)

    def name(self, level: int) -> str:
        """The level's name, e.g. Advocate."""
        return next(lv.name for lv in self.levels if lv.level == level)

    def level_for(self, behaviour_ids: Iterable[str]) -> int:
        """The highest level whose checklist, and every one below, is at least half ticked."""
        ticked = set(behaviour_ids)
        reached = 1
        for level in self.levels:
            done = sum(b.id in ticked for b in level.behaviours)
            if done < math.ceil(len(level.behaviours) / 2):
                break
            reached = level.level
        return reached

    def checkbox_groups(self) -> tuple[CheckboxGroup, ...]:
        """The checklists as checkbox inputs, each level split into groups of at most 10."""
        groups: list[CheckboxGroup] = []
        for level in self.levels:
            chunks = [
                level.behaviours[k : k + CHECKBOX_OPTIONS_MAX]
                for k in range(0, len(level.behaviours), CHECKBOX_OPTIONS_MAX)
            ]
            groups.extend(
                CheckboxGroup(level.level, n, len(chunks), chunk)
                for n, chunk in enumerate(chunks, start=1)
            )
        return tuple(groups)


@dataclass(frozen=True)
class LibraryItem:
    """What a pair might cover at one meeting."""

    meeting: int
    id: str
    title: str
    prompt: str
    activity: str


@dataclass(frozen=True)
class Library:
    """The meeting-by-meeting content, in order."""

    cadence_days: int
    items: tuple[LibraryItem, ...]

    def item_for_meeting(self, meeting: int) -> LibraryItem:
        """The item for meeting number `meeting` (from 1); past the end, the last item."""
        return self.items[min(max(meeting, 1), len(self.items)) - 1]


@dataclass(frozen=True)
class MentoringContent:
    """Everything mentoring says that organisations may rewrite."""

    interests: tuple[Interest, ...]
    framework: Framework
    library: Library

    def interest_labels(self) -> dict[str, str]:
        """Interest id to label, for pairing's reasons."""
        return {i.id: i.label for i in self.interests}

    def level_names(self) -> dict[int, str]:
        """Level number to name, for pairing's reasons."""
        return {lv.level: lv.name for lv in self.framework.levels}


def load_mentoring_content(directory: Path) -> MentoringContent:
    """Read and check the three mentoring files in `directory`; ContentError if unusable."""
    return MentoringContent(
        interests=_interests(_Reader(directory / INTERESTS_FILE)),
        framework=_framework(_Reader(directory / MATURITY_FILE)),
        library=_library(_Reader(directory / LIBRARY_FILE)),
    )


class _Reader:
    """One YAML file and the errors about it, each naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.error("missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error(f"cannot be read ({exc})") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise self.error(f"is not valid YAML{where}") from None
        if not isinstance(data, dict):
            raise self.error("should be a mapping of keys to values at the top level")
        self.data: dict[str, Any] = data

    def error(self, problem: str) -> ContentError:
        return ContentError(f"{self.path}: {' '.join(problem.split())}")

    def entries(self, key: str) -> list[tuple[str, Mapping[str, Any]]]:
        """The non-empty list under `key`, each entry a mapping, with where it sits."""
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.error(f"'{key}' should be a non-empty list")
        out: list[tuple[str, Mapping[str, Any]]] = []
        for n, entry in enumerate(value, start=1):
            if not isinstance(entry, dict):
                raise self.error(f"{key} entry {n} should be a mapping")
            out.append((f"{key} entry {n}", entry))
        return out

    def text(self, entry: Mapping[str, Any], key: str, where: str, limit: int, why: str) -> str:
        """A required, non-empty string of at most `limit` characters."""
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{where}: '{key}' should be non-empty text")
        value = " ".join(value.split())
        if len(value) > limit:
            raise self.error(
                f"{where}: '{key}' is {len(value)} characters; at most {limit} ({why})"
            )
        return value

    def ident(self, entry: Mapping[str, Any], where: str, seen: set[str]) -> str:
        """A unique id: lower-case letters, digits, '_' and '-', at most 64 characters."""
        value = entry.get("id")
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            raise self.error(
                f"{where}: id {value!r} should be 1 to 64 lower-case letters, digits, '_' or '-'"
            )
        if value in seen:
            raise self.error(f"{where}: id '{value}' is used twice")
        seen.add(value)
        return value

    def integer(self, entry: Mapping[str, Any], key: str, where: str) -> int:
        value = entry.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.error(f"{where}: '{key}' should be a whole number from 1")
        return value


def _interests(reader: _Reader) -> tuple[Interest, ...]:
    seen: set[str] = set()
    interests = tuple(
        Interest(
            id=reader.ident(entry, where, seen),
            label=reader.text(entry, "label", where, OPTION_TEXT_MAX, "it is a select option"),
        )
        for where, entry in reader.entries("interests")
    )
    if len(interests) > SELECT_OPTIONS_MAX:
        raise reader.error(
            f"{len(interests)} interests; at most {SELECT_OPTIONS_MAX} (a select's options)"
        )
    return interests


def _framework(reader: _Reader) -> Framework:
    entries = reader.entries("levels")
    if not LEVELS_MIN <= len(entries) <= LEVELS_MAX:
        raise reader.error(f"{len(entries)} levels; the framework needs 4 or 5")
    level_ids: set[str] = set()
    behaviour_ids: set[str] = set()
    levels = []
    for n, (where, entry) in enumerate(entries, start=1):
        number = reader.integer(entry, "level", where)
        if number != n:
            raise reader.error(f"{where}: level is {number}; levels are numbered 1, 2, 3 in order")
        level_id = reader.ident(entry, where, level_ids)
        name = reader.text(entry, "name", where, OPTION_TEXT_MAX, "it labels the level")
        summary = reader.text(entry, "summary", where, PROSE_MAX, "it is shown as prose")
        items = entry.get("behaviours")
        if not isinstance(items, list) or not items:
            raise reader.error(f"{where}: 'behaviours' should be a non-empty list")
        behaviours = []
        for k, item in enumerate(items, start=1):
            at = f"{where} behaviour {k}"
            if not isinstance(item, dict):
                raise reader.error(f"{at} should be a mapping with id and text")
            behaviours.append(
                Behaviour(
                    id=reader.ident(item, at, behaviour_ids),
                    text=reader.text(item, "text", at, OPTION_TEXT_MAX, "it is a checkbox option"),
                    level=number,
                )
            )
        levels.append(Level(number, level_id, name, summary, tuple(behaviours)))
    framework = Framework(tuple(levels))
    groups = len(framework.checkbox_groups())
    if groups > CHECKBOX_GROUPS_MAX:
        raise reader.error(
            f"the checklists need {groups} checkbox groups of at most {CHECKBOX_OPTIONS_MAX}; "
            f"at most {CHECKBOX_GROUPS_MAX} fit in the sign-up form"
        )
    return framework


def _library(reader: _Reader) -> Library:
    cadence = reader.integer(reader.data, "cadence_days", "top level")
    seen: set[str] = set()
    items = []
    for n, (where, entry) in enumerate(reader.entries("items"), start=1):
        meeting = reader.integer(entry, "meeting", where)
        if meeting != n:
            raise reader.error(f"{where}: meeting is {meeting}; meetings are numbered 1, 2, 3")
        items.append(
            LibraryItem(
                meeting=meeting,
                id=reader.ident(entry, where, seen),
                title=reader.text(entry, "title", where, TITLE_MAX, "it is a heading"),
                prompt=reader.text(entry, "prompt", where, PROSE_MAX, "it is shown as prose"),
                activity=reader.text(entry, "activity", where, PROSE_MAX, "it is shown as prose"),
            )
        )
    return Library(cadence_days=cadence, items=tuple(items))
