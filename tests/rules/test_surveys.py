"""Survey results never expose a small group, directly or by subtracting published figures."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.surveys.comparison import compare
from bot.rules.surveys.disclosure import (
    PartitionRelease,
    Reason,
    breakdown,
    check_min_group,
    figure,
    protect_partition,
)
from bot.rules.surveys.results import (
    Answer,
    Comments,
    Distribution,
    GroupResult,
    Question,
    SurveyResults,
    results,
)

LABELS = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]
KNOW = Question.likert("know_what_to_ask", "I know what I can ask an ally for.", LABELS)
WOULD = Question.choice("would_ask", "Would you ask for help?", [("yes", "Yes"), ("no", "No")])
WHY = Question.free_text("why", "Anything else?")
QUESTIONS = [KNOW, WOULD, WHY]


def answers(group: str | None, count: int, know: int = 4, would: str = "yes") -> list[Answer]:
    return [
        Answer(group, {"know_what_to_ask": know, "would_ask": would, "why": f"{group} {i}"})
        for i in range(count)
    ]


def by_label(result: SurveyResults, question_id: str) -> dict[str, GroupResult]:
    question = next(q for q in result.questions if q.question.id == question_id)
    return {group.label: group for group in (question.overall, *question.groups)}


# examples


def test_a_small_group_and_its_complement_are_both_withheld() -> None:
    """Sales has 2 answers: showing the total and Engineering's count would reveal them."""
    survey = results(
        QUESTIONS, answers("Sales", 2, know=1) + answers("Engineering", 10), min_group=5
    )
    know = by_label(survey, "know_what_to_ask")
    assert know["All answers"].shown is not None
    assert know["Sales"].withheld is not None and know["Sales"].withheld.reason is Reason.TOO_FEW
    assert know["Sales"].withheld.text == "fewer than 5 answers"
    engineering = know["Engineering"].withheld
    assert engineering is not None and engineering.reason is Reason.SUBTRACTION
    assert "subtracted" in engineering.text
    assert survey.respondents.text == "12"


def test_the_next_smallest_group_is_withheld_until_the_withheld_add_up_to_enough() -> None:
    """Sales 2 and Legal 1 withheld add to 3; Ops (6), the smallest shown, is withheld too."""
    rows = answers("Sales", 2) + answers("Legal", 1) + answers("Ops", 6) + answers("Eng", 9)
    release = results(QUESTIONS, rows, min_group=5).groups
    shown = {cell.key: cell.published for cell in release.cells}
    assert shown == {"Sales": False, "Legal": False, "Ops": False, "Eng": True}
    assert release.cell("Ops").reason is Reason.SUBTRACTION
    assert release.withheld_total == 9


def test_two_small_groups_that_add_up_to_enough_need_no_complement() -> None:
    """Sales 2 + Legal 3 withheld are 5 together: Engineering stays shown."""
    rows = answers("Sales", 2) + answers("Legal", 3) + answers("Engineering", 7)
    release = results(QUESTIONS, rows, min_group=5).groups
    assert [c.key for c in release.cells if c.published] == ["Engineering"]


def test_shown_groups_carry_their_distribution_mean_and_no_answers() -> None:
    """A shown group's counts include those who skipped the question, as "no answer"."""
    rows = [*answers("Eng", 4, know=5), Answer("Eng", {"know_what_to_ask": None})]
    rows += answers("Ops", 5, know=2)
    know = by_label(results(QUESTIONS, rows, min_group=5), "know_what_to_ask")
    eng = know["Eng"].shown
    assert isinstance(eng, Distribution)
    assert (eng.respondents, eng.no_answer, eng.mean) == (5, 1, 5.0)
    assert [count for _, count in eng.counts] == [0, 0, 0, 0, 4]
    assert eng.share("5") == 1.0
    overall = know["All answers"].shown
    assert isinstance(overall, Distribution)
    assert overall.mean == round((4 * 5 + 5 * 2) / 9, 2)


def test_all_answered_alike_only_for_a_group_large_enough_to_show() -> None:
    """A unanimous group of 5 is "all answered alike"; a unanimous group of 4 is not shown."""
    rows = answers("Eng", 5, would="no") + answers("Ops", 4, would="no") + answers("HR", 6)
    rows += answers("Legal", 1)  # Ops and Legal withheld add up to 5: Eng can be shown
    would = by_label(results(QUESTIONS, rows, min_group=5), "would_ask")
    eng = would["Eng"].shown
    assert isinstance(eng, Distribution) and eng.all_alike is not None
    assert eng.all_alike.label == "No"
    assert would["Ops"].shown is None
    hr = would["HR"].shown
    assert isinstance(hr, Distribution) and hr.all_alike is not None  # HR: all "yes"
    overall = would["All answers"].shown
    assert isinstance(overall, Distribution) and overall.all_alike is None


def test_free_text_needs_twice_the_minimum() -> None:
    """Comments show for a group of 10 with a minimum of 5, not for a group of 9."""
    rows = answers("Eng", 10) + answers("Ops", 9) + answers("HR", 12)
    why = by_label(results(QUESTIONS, rows, min_group=5), "why")
    assert why["Ops"].withheld is not None and why["Ops"].withheld.reason is Reason.TOO_FEW
    assert why["Ops"].withheld.text == "fewer than 10 answers"
    # Ops' 9 alone would leave 9 under 10 by subtraction: the smallest shown (Eng) goes too.
    assert why["Eng"].withheld is not None and why["Eng"].withheld.reason is Reason.SUBTRACTION
    hr = why["HR"].shown
    assert isinstance(hr, Comments) and hr.texts == tuple(sorted(f"HR {i}" for i in range(12)))
    assert isinstance(why["All answers"].shown, Comments)
    # counts for the same groups are fine at 5
    know = by_label(results(QUESTIONS, rows, min_group=5), "know_what_to_ask")
    assert all(group.shown is not None for group in know.values())


def test_no_unit_given_is_a_group_like_any_other() -> None:
    """Answers without a unit form their own group: withheld when small, complement too."""
    rows = answers(None, 2) + answers("Eng", 8)
    survey = results(QUESTIONS, rows, min_group=5)
    know = by_label(survey, "know_what_to_ask")
    assert know["No unit given"].withheld is not None
    assert know["Eng"].withheld is not None
    assert know["All answers"].shown is not None


def test_a_survey_too_small_shows_nothing() -> None:
    """Four answers in all: not even the total is shown."""
    survey = results(QUESTIONS, answers("Eng", 4), min_group=5)
    assert survey.respondents.text == "fewer than 5"
    for question in survey.questions:
        assert question.overall.shown is None
        assert all(group.shown is None for group in question.groups)


def test_an_answer_outside_the_options_is_an_error() -> None:
    """A stored value the question never offered is refused, not silently counted."""
    with pytest.raises(ValueError, match="would_ask"):
        results(QUESTIONS, [Answer("Eng", {"would_ask": "maybe"})] * 5, min_group=5)


def test_min_group_below_three_is_invalid() -> None:
    """SPEC 3: the minimum group is never below 3."""
    assert check_min_group(3) == 3
    for bad in (2, 1, 0):
        with pytest.raises(ValueError, match="at least 3"):
            results(QUESTIONS, [], min_group=bad)
        with pytest.raises(ValueError):
            figure(10, bad)


def test_before_and_after_compare_only_what_each_survey_shows() -> None:
    """The change is given for groups shown in both surveys; a withheld side stays withheld."""
    before = results(QUESTIONS, answers("Eng", 6, know=2) + answers("Ops", 6, know=3), min_group=5)
    after_rows = answers("Eng", 7, know=4) + answers("Ops", 3, know=5) + answers("HR", 9)
    extra = Question.likert("new", "A new question", LABELS)
    after = results([*QUESTIONS, extra], after_rows, min_group=5)
    comparison = compare(before, after)
    assert comparison.only_after == ("new",)
    assert comparison.only_before == ()
    know = next(q for q in comparison.questions if q.question.id == "know_what_to_ask")
    groups = {change.label: change for change in know.groups}
    assert groups["Eng"].mean_change is None  # Ops (3) withheld pulls Eng (7) out after
    assert groups["Ops"].after is not None and groups["Ops"].after.withheld is not None
    assert groups["HR"].before is None and groups["HR"].mean_change is None
    assert know.overall.mean_change == round((7 * 4 + 3 * 5 + 9 * 4) / 19 - 2.5, 2)


def test_programme_figures_show_fewer_than_n() -> None:
    """A count under the minimum reads "fewer than N"; a breakdown hides its complement too."""
    assert figure(5, 5).text == "5"
    assert figure(4, 5).text == "fewer than 5"
    assert figure(0, 5).text == "fewer than 5"
    total, parts = breakdown({"harassment": 2, "career": 9, "other": 14}, 5)
    assert total.text == "25"
    assert parts["harassment"].text == "fewer than 5"
    assert parts["career"].text == "withheld"
    assert parts["other"].text == "14"
    total, parts = breakdown({"a": 0, "b": 7}, 5)
    assert (total.text, parts["a"].text, parts["b"].text) == ("7", "fewer than 5", "7")


# properties


def isolating_differences(release: PartitionRelease[str | None]) -> list[int]:
    """Every count arithmetic on the shown figures isolates, found by brute force.

    The shown figures are the shown cells and, when shown, the total. A figure minus any
    subset of other shown figures nested inside it leaves a count of the people in neither.
    """
    shown = [cell.count for cell in release.cells if cell.published]
    found = list(shown)
    if release.total_published:
        found.append(release.total)
        for size in range(1, len(shown) + 1):
            for subset in combinations(shown, size):
                found.append(release.total - sum(subset))
    # pairs of cells are disjoint, so no cell is nested in another
    return found


GROUP_SIZES = st.dictionaries(
    st.sampled_from(["Sales", "Eng", "Ops", "HR", "Legal", "Finance", "R&D", None]),
    st.integers(min_value=1, max_value=25),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(sizes=GROUP_SIZES, min_group=st.integers(min_value=3, max_value=8))
def test_no_published_figure_or_difference_isolates_a_small_group(
    sizes: dict[str | None, int], min_group: int
) -> None:
    """Random groupings: every figure and difference of figures is 0 or at least the minimum."""
    for threshold in (min_group, 2 * min_group):
        release = protect_partition(sizes, threshold)
        for count in isolating_differences(release):
            assert count == 0 or count >= threshold
        for cell in release.cells:
            assert not cell.published or cell.count >= threshold
            assert cell.published or cell.reason is not None
        if release.total_published:
            assert release.withheld_total == 0 or release.withheld_total >= threshold
        else:
            assert not any(cell.published for cell in release.cells)
        if all(count >= threshold for count in sizes.values()):
            assert all(cell.published for cell in release.cells)  # nothing withheld needlessly


@st.composite
def survey_rows(draw: st.DrawFn) -> list[Answer]:
    sizes = draw(GROUP_SIZES)
    rows = []
    for group, size in sizes.items():
        for _ in range(size):
            know = draw(st.none() | st.integers(min_value=1, max_value=5))
            would = draw(st.sampled_from([None, "yes", "no"]))
            text = draw(st.sampled_from([None, "", "fine", "more please"]))
            rows.append(Answer(group, {"know_what_to_ask": know, "would_ask": would, "why": text}))
    return rows


def _respondents(group: GroupResult) -> int | None:
    shown = group.shown
    return shown.respondents if isinstance(shown, Distribution | Comments) else None


@settings(max_examples=200, deadline=None)
@given(rows=survey_rows(), min_group=st.integers(min_value=3, max_value=6))
def test_survey_results_never_isolate_a_small_group(rows: list[Answer], min_group: int) -> None:
    """Whole results: shown groups are large enough, and the shown counts of every question,
    taken together with the overall, leave nothing under the minimum by subtraction."""
    survey = results(QUESTIONS, rows, min_group=min_group)
    true_sizes: dict[str | None, int] = {}
    for row in rows:
        true_sizes[row.group] = true_sizes.get(row.group, 0) + 1
    published: set[tuple[str | None, int]] = set()
    for question in survey.questions:
        threshold = 2 * min_group if question.question.kind == "text" else min_group
        overall = _respondents(question.overall)
        assert overall is None or overall == len(rows) >= threshold
        shown = {}
        for group in question.groups:
            count = _respondents(group)
            assert (count is None) == (group.withheld is not None)
            if count is not None:
                assert count == true_sizes[group.group] >= threshold
                shown[group.group] = count
                published.add((group.group, count))
        hidden = sum(size for key, size in true_sizes.items() if key not in shown)
        if overall is not None:
            assert hidden == 0 or hidden >= threshold
            for size in range(1, len(shown) + 1):
                for subset in combinations(shown.values(), size):
                    assert overall - sum(subset) == 0 or overall - sum(subset) >= threshold
    # across questions the counts shown are one set of figures: free text adds no group count
    count_shown = {cell.key for cell in survey.groups.cells if cell.published}
    assert {key for key, _ in published} <= count_shown
    text_shown = {cell.key for cell in survey.text_groups.cells if cell.published}
    assert text_shown <= count_shown


@settings(max_examples=100, deadline=None)
@given(before=survey_rows(), after=survey_rows())
def test_a_comparison_shows_nothing_its_two_results_do_not(
    before: list[Answer], after: list[Answer]
) -> None:
    """Every group result in a comparison is the very result of one of the two surveys."""
    old, new = results(QUESTIONS, before, min_group=5), results(QUESTIONS, after, min_group=5)
    comparison = compare(old, new)
    old_results = {(q.question.id, g.group): g for q in old.questions for g in q.groups}
    new_results = {(q.question.id, g.group): g for q in new.questions for g in q.groups}
    for question in comparison.questions:
        for change in question.groups:
            key = (question.question.id, change.group)
            assert change.before is old_results.get(key)
            assert change.after is new_results.get(key)
            if change.mean_change is not None:
                assert change.before is not None and change.before.shown is not None
                assert change.after is not None and change.after.shown is not None
