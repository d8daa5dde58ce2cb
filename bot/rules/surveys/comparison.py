"""Before and after: a comparison of two surveys (SPEC 3), built from the two surveys' own safe
results only (bot.rules.surveys.results), so it shows nothing that either result does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.rules.surveys.disclosure import group_order
from bot.rules.surveys.results import (
    OVERALL_LABEL,
    Distribution,
    GroupResult,
    Question,
    SurveyResults,
    group_label,
)


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
        keys = sorted(old_groups.keys() | new_groups.keys(), key=group_order)
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
