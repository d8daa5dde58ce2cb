"""Survey results that cannot expose anyone, and small-count figures (SPEC 3, issue 11).

This module is the pure part: it takes answers (each with a group, usually the business unit
chosen in the form, and no respondent id) and returns what may be shown. Nothing here reads a
database or a clock.

The rules (SPEC 3):
- a group's figures are shown only with at least ``min_group`` answers (default 5, never
  below 3), free text only with at least twice that;
- never two published figures whose difference isolates fewer than ``min_group`` answers.

How the second rule is kept (``protect_partition``): the groups of a survey form a partition of
its respondents (every answer belongs to exactly one group; "no unit given" is a group too),
and the overall total is a published figure. Given the published cells and the total, the only
count that arithmetic on them can reach about the withheld cells is their sum (the total minus
every published cell; any smaller combination still contains whole published cells, each of
at least ``min_group``). So the rule is: after withholding the small cells, if the withheld
cells add up to 1..min_group-1 answers, withhold the smallest published cell as well, and
repeat. The withheld cells then add up to zero or to at least ``min_group``: by subtraction
one learns about a set of at least ``min_group`` people, never fewer, and never one group of
them. Figures inside a group (how many chose each option) are shown for published groups
only, and the total's distribution minus the published groups' is again the distribution of at
least ``min_group`` answers. Free text uses the same rule with twice the threshold.

Every question's figures are over the same respondents: an answer left empty is counted as
"no answer" rather than dropped, so two questions' counts never differ by the few people
who skipped one. A group whose answers are all alike is shown as "all answered alike" (which
reveals each member's answer) only when the group is shown at all, i.e. large enough.

A comparison of two surveys (before and after) is built from the two surveys' own safe results
only, so it shows nothing that either result does not.

``figure`` and ``breakdown`` are the "fewer than N" helpers for the programme figures
(SPEC 3, issue 11 part 5); they live here, beside the rule they share, until the programme
figures have a module of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

MIN_GROUP_FLOOR = 3
DEFAULT_MIN_GROUP = 5
LIKERT_POINTS = 5
OVERALL_LABEL = "All answers"
NO_GROUP_LABEL = "No unit given"

K = TypeVar("K", bound=Hashable)


def check_min_group(min_group: int) -> int:
    """``min_group`` itself, or ValueError when it is under the SPEC's floor of 3."""
    if min_group < MIN_GROUP_FLOOR:
        raise ValueError(f"the minimum group must be at least {MIN_GROUP_FLOOR}, not {min_group}")
    return min_group


# the rule for one partition


class Reason(StrEnum):
    """Why a figure is withheld."""

    TOO_FEW = "too_few"
    SUBTRACTION = "subtraction"


@dataclass(frozen=True)
class Cell(Generic[K]):
    """One group's count in a partition, and whether it may be shown."""

    key: K
    count: int
    published: bool
    reason: Reason | None = None


@dataclass(frozen=True)
class PartitionRelease(Generic[K]):
    """Which counts of a partition may be shown: the cells and the total."""

    threshold: int
    total: int
    total_published: bool
    cells: tuple[Cell[K], ...]

    def cell(self, key: K) -> Cell[K]:
        """The cell of one group (KeyError for a group not in the partition)."""
        for cell in self.cells:
            if cell.key == key:
                return cell
        raise KeyError(key)

    @property
    def withheld_total(self) -> int:
        """What subtraction can reveal: the withheld cells' sum (0 or at least the threshold
        whenever the total is shown; with the total withheld, every cell is withheld)."""
        return sum(cell.count for cell in self.cells if not cell.published)


def _order(key: object) -> tuple[bool, str, str]:
    # None (no unit given) first, then by name: only to make the choice deterministic.
    return (key is not None, str(key).casefold() if key is not None else "", str(key))


def protect_partition(counts: Mapping[K, int], threshold: int) -> PartitionRelease[K]:
    """Withhold small cells, then complementary ones, so no subtraction isolates a few.

    A cell under ``threshold`` (including 0) is withheld; then, while the withheld cells add
    up to 1..threshold-1, the smallest cell still shown is withheld too. The total is shown
    when it reaches ``threshold``.
    """
    if threshold < 1:
        raise ValueError("the threshold must be positive")
    if any(count < 0 for count in counts.values()):
        raise ValueError("counts cannot be negative")
    withheld: dict[K, Reason] = {
        key: Reason.TOO_FEW for key, count in counts.items() if count < threshold
    }
    while 0 < sum(counts[key] for key in withheld) < threshold:
        shown = [key for key in counts if key not in withheld]
        # Unreachable while the total is shown (all withheld would sum to it); kept safe.
        if not shown:
            break
        smallest = min(shown, key=lambda key: (counts[key], _order(key)))
        withheld[smallest] = Reason.SUBTRACTION
    total = sum(counts.values())
    cells = tuple(
        Cell(key, counts[key], key not in withheld, withheld.get(key))
        for key in sorted(counts, key=_order)
    )
    return PartitionRelease(threshold, total, total >= threshold, cells)


# "fewer than N" for the programme figures


@dataclass(frozen=True)
class Figure:
    """A count as it may be shown: the number, or "fewer than N" and why."""

    value: int | None
    threshold: int
    reason: Reason | None = None

    @property
    def text(self) -> str:
        """The number, or the marker that replaces it."""
        if self.value is not None:
            return str(self.value)
        if self.reason is Reason.SUBTRACTION:
            return "withheld"
        return f"fewer than {self.threshold}"


def figure(count: int, min_group: int) -> Figure:
    """One count: itself from ``min_group`` on, else "fewer than N" (SPEC 3)."""
    check_min_group(min_group)
    if count >= min_group:
        return Figure(count, min_group)
    return Figure(None, min_group, Reason.TOO_FEW)


def breakdown(counts: Mapping[K, int], min_group: int) -> tuple[Figure, dict[K, Figure]]:
    """A breakdown of one total: the total's figure and each part's, safe from subtraction."""
    release = protect_partition(counts, check_min_group(min_group))
    parts = {
        cell.key: Figure(cell.count if cell.published else None, min_group, cell.reason)
        for cell in release.cells
    }
    total = Figure(release.total, min_group) if release.total_published else figure(0, min_group)
    return total, parts


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


# before and after


@dataclass(frozen=True)
class GroupChange:
    """One group's result in two surveys; the change only when both are shown."""

    group: str | None
    label: str
    before: GroupResult | None
    after: GroupResult | None
    mean_change: float | None


@dataclass(frozen=True)
class QuestionComparison:
    """A question asked in both surveys: overall and per group, before and after."""

    question: Question
    overall: GroupChange
    groups: tuple[GroupChange, ...]


@dataclass(frozen=True)
class Comparison:
    """Two surveys compared by question id; questions asked in one only are listed apart."""

    questions: tuple[QuestionComparison, ...]
    only_before: tuple[str, ...]
    only_after: tuple[str, ...]


def compare(before: SurveyResults, after: SurveyResults) -> Comparison:
    """Compare two surveys' safe results (never their answers), question by question."""
    after_by_id = {result.question.id: result for result in after.questions}
    before_ids = [result.question.id for result in before.questions]
    compared = []
    for old in before.questions:
        new = after_by_id.get(old.question.id)
        if new is None:
            continue
        old_groups = {group.group: group for group in old.groups}
        new_groups = {group.group: group for group in new.groups}
        keys = sorted(old_groups.keys() | new_groups.keys(), key=_order)
        compared.append(
            QuestionComparison(
                new.question,
                _change(None, OVERALL_LABEL, old.overall, new.overall),
                tuple(
                    _change(key, group_label(key), old_groups.get(key), new_groups.get(key))
                    for key in keys
                ),
            )
        )
    return Comparison(
        tuple(compared),
        tuple(qid for qid in before_ids if qid not in after_by_id),
        tuple(qid for qid in after_by_id if qid not in set(before_ids)),
    )


def _change(
    group: str | None, label: str, before: GroupResult | None, after: GroupResult | None
) -> GroupChange:
    change = None
    if (
        before is not None
        and after is not None
        and isinstance(before.shown, Distribution)
        and isinstance(after.shown, Distribution)
        and before.shown.mean is not None
        and after.shown.mean is not None
    ):
        change = round(after.shown.mean - before.shown.mean, 2)
    return GroupChange(group, label, before, after, change)
