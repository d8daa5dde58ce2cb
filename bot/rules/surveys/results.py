"""Survey results that cannot expose anyone (SPEC 3, issue 11).

This module is the pure part: it takes answers (each with a group, usually the business unit
chosen in the form, and no respondent id) and returns what may be shown, by the rule in
bot.rules.surveys.disclosure. Nothing here reads a database or a clock.

Every question's figures are over the same respondents: an answer left empty is counted as
"no answer" rather than dropped, so two questions' counts never differ by the few people
who skipped one. A group whose answers are all alike is shown as "all answered alike" (which
reveals each member's answer) only when the group is shown at all, i.e. large enough.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.rules.surveys.disclosure import (
    Cell,
    Figure,
    PartitionRelease,
    Reason,
    check_min_group,
    figure,
    protect_partition,
)

LIKERT_POINTS = 5
OVERALL_LABEL = "All answers"
NO_GROUP_LABEL = "No unit given"


# questions and answers


class QuestionKind(StrEnum):
    """The question types a survey content file may use."""

    LIKERT = "likert"
    CHOICE = "choice"
    TEXT = "text"


@dataclass(frozen=True)
class Option:
    """One answer a question offers: the stored value and the label people saw."""

    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """A survey question: a Likert scale (values "1".."5"), a single choice, or free text."""

    id: str
    kind: QuestionKind
    text: str
    options: tuple[Option, ...] = ()

    @classmethod
    def likert(cls, question_id: str, text: str, labels: Sequence[str]) -> Question:
        """A 1-5 scale with a label per point."""
        if len(labels) != LIKERT_POINTS:
            raise ValueError(f"{question_id}: a Likert question needs {LIKERT_POINTS} labels")
        options = tuple(Option(str(point), label) for point, label in enumerate(labels, 1))
        return cls(question_id, QuestionKind.LIKERT, text, options)

    @classmethod
    def choice(cls, question_id: str, text: str, options: Sequence[tuple[str, str]]) -> Question:
        """A single choice among (value, label) options."""
        values = [value for value, _ in options]
        if not values or len(set(values)) != len(values):
            raise ValueError(f"{question_id}: a choice needs options with distinct values")
        chosen = tuple(Option(value, label) for value, label in options)
        return cls(question_id, QuestionKind.CHOICE, text, chosen)

    @classmethod
    def free_text(cls, question_id: str, text: str) -> Question:
        """A free-text question."""
        return cls(question_id, QuestionKind.TEXT, text)


@dataclass(frozen=True)
class Answer:
    """One person's answers, with no id: their group (None: not given) and values by question."""

    group: str | None
    values: Mapping[str, str | int | None]


# results


@dataclass(frozen=True)
class Distribution:
    """A shown group's answers to a choice or Likert question."""

    respondents: int
    counts: tuple[tuple[Option, int], ...]
    no_answer: int
    mean: float | None = None
    all_alike: Option | None = None

    def share(self, value: str) -> float:
        """The share of those who answered that chose ``value`` (0 when nobody answered)."""
        answered = self.respondents - self.no_answer
        count = next((n for option, n in self.counts if option.value == value), 0)
        return count / answered if answered else 0.0


@dataclass(frozen=True)
class Comments:
    """A shown group's free-text answers, in a neutral order (sorted, never as they came)."""

    respondents: int
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Withheld:
    """A group's figures left out, and why."""

    threshold: int
    reason: Reason

    @property
    def text(self) -> str:
        """What the admin reads instead of the figures."""
        if self.reason is Reason.SUBTRACTION:
            return (
                "withheld so that the figures shown cannot be subtracted to reveal "
                f"fewer than {self.threshold} answers"
            )
        return f"fewer than {self.threshold} answers"


@dataclass(frozen=True)
class GroupResult:
    """One group's result for one question: shown figures or why they are withheld."""

    group: str | None
    label: str
    shown: Distribution | Comments | None
    withheld: Withheld | None


@dataclass(frozen=True)
class QuestionResult:
    """A question's results: overall, then per group."""

    question: Question
    overall: GroupResult
    groups: tuple[GroupResult, ...]


@dataclass(frozen=True)
class SurveyResults:
    """Everything about a survey that may be shown to admins, and nothing more."""

    min_group: int
    respondents: Figure
    groups: PartitionRelease[str | None]
    text_groups: PartitionRelease[str | None]
    questions: tuple[QuestionResult, ...]


def group_label(group: str | None) -> str:
    """How a group is named in results."""
    return NO_GROUP_LABEL if group is None else group


def results(
    questions: Sequence[Question], answers: Iterable[Answer], *, min_group: int
) -> SurveyResults:
    """A closed survey's results, with every group too small to show withheld (SPEC 3)."""
    check_min_group(min_group)
    rows = list(answers)
    sizes = Counter(row.group for row in rows)
    groups = protect_partition(dict(sizes), min_group)
    text_groups = _within(protect_partition(dict(sizes), 2 * min_group), groups)
    by_group: dict[str | None, list[Answer]] = {key: [] for key in sizes}
    for row in rows:
        by_group[row.group].append(row)
    out = []
    for question in questions:
        release = text_groups if question.kind is QuestionKind.TEXT else groups
        overall = _group_result(question, None, OVERALL_LABEL, rows)
        if not release.total_published:
            overall = _withheld(None, OVERALL_LABEL, release.threshold, Reason.TOO_FEW)
        per_group = tuple(
            _group_result(question, cell.key, group_label(cell.key), by_group[cell.key])
            if cell.published
            else _withheld(cell.key, group_label(cell.key), release.threshold, cell.reason)
            for cell in release.cells
        )
        out.append(QuestionResult(question, overall, per_group))
    respondents = (
        Figure(groups.total, min_group) if groups.total_published else figure(0, min_group)
    )
    return SurveyResults(min_group, respondents, groups, text_groups, tuple(out))


def _within(
    text: PartitionRelease[str | None], counts: PartitionRelease[str | None]
) -> PartitionRelease[str | None]:
    """Free text only for groups whose count is shown too, so comments publish no new count.

    Withholding more only grows the withheld sum, which stays 0 or at least the threshold.
    """
    cells = tuple(
        cell
        if not cell.published or counts.cell(cell.key).published
        else Cell(cell.key, cell.count, False, Reason.SUBTRACTION)
        for cell in text.cells
    )
    return PartitionRelease(text.threshold, text.total, text.total_published, cells)


def _withheld(group: str | None, label: str, threshold: int, reason: Reason | None) -> GroupResult:
    return GroupResult(group, label, None, Withheld(threshold, reason or Reason.TOO_FEW))


def _group_result(
    question: Question, group: str | None, label: str, rows: list[Answer]
) -> GroupResult:
    """The figures of a group already known to be safe to show."""
    values = [_value(question, row.values.get(question.id)) for row in rows]
    given = [value for value in values if value is not None]
    no_answer = len(values) - len(given)
    if question.kind is QuestionKind.TEXT:
        return GroupResult(group, label, Comments(len(rows), tuple(sorted(given))), None)
    tally = Counter(given)
    counts = tuple((option, tally[option.value]) for option in question.options)
    mean = None
    if question.kind is QuestionKind.LIKERT and given:
        mean = round(sum(int(value) for value in given) / len(given), 2)
    alike = None
    if given and len(tally) == 1:
        alike = next(option for option in question.options if option.value == given[0])
    return GroupResult(group, label, Distribution(len(rows), counts, no_answer, mean, alike), None)


def _value(question: Question, raw: str | int | None) -> str | None:
    """The answer as stored text; None for no answer; ValueError for a value not offered."""
    if raw is None:
        return None
    value = str(raw).strip()
    if not value:
        return None
    if question.kind is not QuestionKind.TEXT and value not in {
        option.value for option in question.options
    }:
        raise ValueError(f"{question.id}: {value!r} is not one of the question's options")
    return value
