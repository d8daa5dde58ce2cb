"""The year-end awards: figures, competition ranking, the stated tie-breaker, no default wins."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.points import ledger as points_ledger
from bot.rules.yearend import awards
from bot.rules.yearend.awards import (
    LedgerEntry,
    Outcome,
    UnitLedger,
    awards_from_ledger,
    compute_awards,
    ledger_totals,
    year_bounds,
)
from bot.rules.yearend.standings import AwardKind, AwardStandings, TieRule, chart_data

PARIS = ZoneInfo("Europe/Paris")
START, END = year_bounds(2026, PARIS)
UNITS = ["Engineering", "Sales", "Marketing", "Finance", "Legal"]


def paris(month: int, day: int, hour: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 30, tzinfo=PARIS)


def entry(unit: str, amount: int, kind: str, at: datetime) -> LedgerEntry:
    return LedgerEntry(unit, amount, kind, at)


# A year built by hand. Engineering, Marketing and Sales all end on 25 points.
LEDGER = [
    entry("Engineering", 10, "allyship", paris(3, 1)),
    entry("Engineering", 10, "allyship", paris(4, 1)),
    entry("Engineering", 5, "case", paris(5, 1)),
    # the evening of 31 December 2025 in Paris: last year, although it is 2025 in UTC too
    entry("Engineering", 10, "allyship", paris(12, 31, 23, year=2025)),
    entry("Sales", 5, "story", paris(2, 1)),
    entry("Sales", 15, "event", paris(6, 1)),
    entry("Sales", 10, "adjustment", paris(7, 1)),
    entry("Sales", -5, "adjustment", paris(7, 2)),
    entry("Marketing", 15, "event", paris(1, 10)),
    entry("Marketing", 10, "allyship", paris(9, 1)),
    # a success inside the pair cooldown: counted, no points, not a qualifying act for points
    entry("Finance", 0, "allyship", paris(12, 31, 23)),
    # 00:30 on 1 January 2027 in Paris is still 2026 in UTC: next year here
    entry("Finance", 10, "allyship", paris(1, 1, 0, year=2027)),
]


def helped(
    item: str,
    unit: str,
    at: datetime,
    person: str,
    person_unit: str | None,
    *,
    ally: str,
    succeeded: bool = True,
    creative: bool = False,
) -> Outcome:
    """A successful allyship (``match:``) or accepted story crediting `unit` for `person`."""
    kind = "allyship" if item.startswith("match:") else "story"
    return Outcome(item, kind, unit, succeeded, at, creative, person, person_unit, ally)


OUTCOMES = [
    helped("match:1", "Engineering", paris(3, 1), "p1", "Sales", ally="a1"),
    helped("match:2", "Engineering", paris(4, 1), "p1", "Sales", ally="a1"),
    helped("match:3", "Engineering", paris(4, 10), "p2", "Engineering", ally="a1"),
    helped("match:4", "Engineering", paris(4, 11), "p3", None, ally="a1", succeeded=False),
    helped("story:1", "Sales", paris(2, 1), "p4", "Marketing", ally="a2", creative=True),
    # a story whose reporter is the ally: accepted, but it counts for nothing
    helped("story:2", "Sales", paris(2, 2), "a3", "Sales", ally="a3", creative=True),
    Outcome("event:1", "event", "Sales", True, paris(6, 1), creative=True),
    Outcome("event:2", "event", "Marketing", False, paris(6, 2), creative=True),
    helped("match:5", "Marketing", paris(9, 1), "p5", "Finance", ally="a4"),
    helped("match:6", "Marketing", paris(9, 2), "p6", "Legal", ally="a4"),
    helped("story:3", "Marketing", paris(8, 1), "p1", "Sales", ally="a5", creative=True),
    helped("match:7", "Finance", paris(1, 1, 0, year=2027), "p7", "Sales", ally="a6"),
]


def year() -> tuple[AwardStandings, AwardStandings, AwardStandings]:
    return awards_from_ledger(units=UNITS, ledger=LEDGER, outcomes=OUTCOMES, start=START, end=END)


def lines(standings: AwardStandings) -> list[tuple[str, int, int, TieRule | None]]:
    return [(line.unit, line.figure, line.rank, line.tie_rule) for line in standings.lines]


def test_ally_of_the_year_ranks_a_three_way_tie_by_the_stated_tie_breaker() -> None:
    """Three units on 25 points share rank 1; hand adjustments, then the last act, order them."""
    ally, _, _ = year()
    assert lines(ally) == [
        ("Engineering", 25, 1, None),
        ("Marketing", 25, 1, TieRule.LAST_ACT),
        ("Sales", 25, 1, TieRule.HAND_ADJUSTED),
        ("Finance", 0, 4, None),
        ("Legal", 0, 4, TieRule.SHARED),
    ]
    assert ally.winners == ("Engineering",)
    assert [line.text for line in ally.lines][:1] == ["Engineering: 25 points"]
    sales = ally.lines[2]
    assert (sales.hand_adjusted, sales.last_act) == (15, paris(6, 1))
    assert ally.lines[0].last_act == paris(5, 1)
    assert ally.lines[3].last_act is None  # a 0-point row is no qualifying act
    assert ally.decided_by == (
        "Engineering, Marketing and Sales tied at 25; "
        "earlier last qualifying act (2026-05-01 against 2026-09-01) decided for Engineering"
    )
    assert ally.tied


def test_most_influential_weighs_people_helped_by_the_other_units_they_belong_to() -> None:
    """People times (1 + other units); failures, self-help and other years count nothing."""
    _, influential, _ = year()
    assert lines(influential) == [
        ("Marketing", 12, 1, None),  # p5, p6, p1 from Finance, Legal, Sales: 3 * 4
        ("Engineering", 4, 2, None),  # p1 twice and p2 of its own unit: 2 * 2
        ("Sales", 2, 3, None),  # p4 from Marketing; the self-story by a3 counts nothing
        ("Finance", 0, 4, None),  # its success was in 2027
        ("Legal", 0, 4, TieRule.SHARED),
    ]
    assert influential.formula == awards.INFLUENCE_FORMULA
    assert influential.lines[0].text == (
        "Marketing: 12 (3 people helped \N{MULTIPLICATION SIGN} (1 + 3 other units))"
    )
    assert influential.winners == ("Marketing",)
    assert influential.decided_by.startswith("Marketing has the highest figure")
    assert not influential.tied


def test_most_creative_counts_accepted_creative_items_only() -> None:
    """Declined items and a story about oneself earn no creative credit."""
    _, _, creative = year()
    assert lines(creative) == [
        ("Sales", 2, 1, None),  # story:1 and event:1 (story:2 is about its reporter)
        ("Marketing", 1, 2, None),  # story:3; event:2 was declined
        ("Engineering", 0, 3, None),
        ("Finance", 0, 3, TieRule.SHARED),
        ("Legal", 0, 3, TieRule.SHARED),
    ]
    assert creative.lines[0].text == "Sales: 2 creative items (1 story, 1 event)"
    assert creative.winners == ("Sales",)


def test_no_activity_means_no_winner() -> None:
    """Units with nothing in the year are listed at 0 and nobody wins by default."""
    for standings in compute_awards(units=UNITS, ledger=[], outcomes=[]):
        assert standings.winners == ()
        assert {line.figure for line in standings.lines} == {0}
        assert {line.rank for line in standings.lines} == {1}
        assert standings.decided_by == "no award: no unit has a figure above zero"
    assert compute_awards(units=[], ledger=[], outcomes=[])[0].winners == ()


def test_negative_points_never_win() -> None:
    """A unit whose only row is a negative adjustment is ranked but does not win."""
    ally, _, _ = awards_from_ledger(
        units=["A", "B"], ledger=[entry("A", -5, "adjustment", paris(3, 1))], outcomes=[]
    )
    assert lines(ally) == [("B", 0, 1, None), ("A", -5, 2, None)]
    assert ally.winners == ()


def test_hand_adjustments_decide_before_the_last_act() -> None:
    """A unit with a later last act still wins when fewer of its points were adjusted by hand."""
    ledger = [
        entry("A", 20, "allyship", paris(12, 1)),
        entry("B", 25, "allyship", paris(1, 1)),
        entry("B", -5, "adjustment", paris(2, 1)),
    ]
    ally, _, _ = awards_from_ledger(units=["A", "B"], ledger=ledger, outcomes=[])
    assert lines(ally) == [("A", 20, 1, None), ("B", 20, 1, TieRule.HAND_ADJUSTED)]
    assert ally.winners == ("A",)
    assert "fewer points adjusted by hand (0 against 5) decided for A" in ally.decided_by


def test_a_tie_no_rule_separates_is_shared() -> None:
    """Equal figures, adjustments and last acts: the award is shared, not decided by name."""
    at = paris(3, 1)
    outcomes = [
        Outcome("event:1", "event", "Zeta", True, at, creative=True),
        Outcome("event:2", "event", "Alpha", True, at, creative=True),
    ]
    _, _, creative = compute_awards(units=["Zeta", "Alpha", "Mid"], ledger=[], outcomes=outcomes)
    assert creative.winners == ("Alpha", "Zeta")
    assert lines(creative)[:2] == [("Alpha", 1, 1, None), ("Zeta", 1, 1, TieRule.SHARED)]
    assert "share the award" in creative.decided_by


def test_a_retried_outcome_counts_once_and_a_conflicting_one_is_refused() -> None:
    """The same item twice is one outcome; two different outcomes for one item are an error."""
    story = Outcome("story:9", "story", "A", True, paris(3, 1), creative=True, person="p")
    _, influential, creative = compute_awards(units=["A"], ledger=[], outcomes=[story, story])
    assert (influential.lines[0].figure, creative.lines[0].figure) == (1, 1)
    declined = Outcome("story:9", "story", "A", False, paris(3, 1), person="p")
    with pytest.raises(ValueError, match="story:9"):
        compute_awards(units=["A"], ledger=[], outcomes=[story, declined])


def test_ledger_totals_match_what_the_sql_aggregate_returns() -> None:
    """Points sum every row; hand adjustments sum absolute amounts; the last act earned points."""
    totals = ledger_totals(LEDGER, start=START, end=END)
    assert totals["Sales"] == UnitLedger("Sales", 25, 15, paris(6, 1))
    assert totals["Finance"] == UnitLedger("Finance", 0, 0, None)
    assert "Legal" not in totals


def test_kinds_are_spelled_as_the_ledger_writes_them() -> None:
    """The pure module's kind strings are the ones bot.rules.points stores."""
    assert (awards.ALLYSHIP, awards.CASE, awards.STORY, awards.EVENT, awards.ADJUSTMENT) == (
        points_ledger.ALLYSHIP,
        points_ledger.CASE,
        points_ledger.STORY,
        points_ledger.EVENT,
        points_ledger.ADJUSTMENT,
    )


def test_chart_data_lists_units_with_a_figure_best_first() -> None:
    """The chart shows the units above zero in standings order, capped at the limit."""
    ally, influential, _ = year()
    chart = chart_data(ally)
    assert chart.labels == ("Engineering", "Marketing", "Sales")
    assert chart.values == (25, 25, 25)
    assert chart.title == "Ally of the year"
    assert chart_data(influential, limit=2).labels == ("Marketing", "Engineering")
    empty = compute_awards(units=UNITS, ledger=[], outcomes=[])[0]
    assert chart_data(empty).labels == ()


# properties

UNIT_NAMES = st.sampled_from(["A", "B", "C", "D"])
TIMES = st.integers(min_value=0, max_value=40).map(
    lambda day: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)
)
LEDGER_ROWS = st.lists(
    st.builds(
        LedgerEntry,
        unit=UNIT_NAMES,
        amount=st.integers(min_value=-10, max_value=20),
        kind=st.sampled_from(["allyship", "case", "story", "event", "adjustment"]),
        at=TIMES,
    ),
    max_size=25,
)


@st.composite
def outcome_lists(draw: st.DrawFn) -> list[Outcome]:
    count = draw(st.integers(min_value=0, max_value=20))
    people = st.none() | st.sampled_from(["p1", "p2", "p3", "p4"])
    return [
        Outcome(
            item=f"item:{index}",
            kind=draw(st.sampled_from(["allyship", "story", "event"])),
            unit=draw(st.none() | UNIT_NAMES),
            succeeded=draw(st.booleans()),
            at=draw(TIMES),
            creative=draw(st.booleans()),
            person=draw(people),
            person_unit=draw(st.none() | UNIT_NAMES),
            ally=draw(people),
        )
        for index in range(count)
    ]


@settings(max_examples=150, deadline=None)
@given(ledger=LEDGER_ROWS, outcomes=outcome_lists(), seed=st.integers(0, 2**32))
def test_standings_do_not_depend_on_input_order(
    ledger: list[LedgerEntry], outcomes: list[Outcome], seed: int
) -> None:
    """Shuffling the ledger, the outcomes and the units changes nothing."""
    first = awards_from_ledger(units=["A", "B", "C", "D", "E"], ledger=ledger, outcomes=outcomes)
    shuffle = random.Random(seed)
    units = ["A", "B", "C", "D", "E"]
    for items in (ledger, outcomes, units):
        shuffle.shuffle(items)
    assert awards_from_ledger(units=units, ledger=ledger, outcomes=outcomes) == first


@settings(max_examples=150, deadline=None)
@given(ledger=LEDGER_ROWS, outcomes=outcome_lists())
def test_winners_hold_the_top_figure_and_ranks_are_competition_ranks(
    ledger: list[LedgerEntry], outcomes: list[Outcome]
) -> None:
    """Winners have the top figure, above zero; rank is 1 + the number of better figures."""
    for standings in awards_from_ledger(units=["A", "E"], ledger=ledger, outcomes=outcomes):
        figures = [line.figure for line in standings.lines]
        assert figures == sorted(figures, reverse=True)
        for line in standings.lines:
            assert line.rank == 1 + sum(1 for figure in figures if figure > line.figure)
        top = max(figures)
        if top <= 0:
            assert standings.winners == ()
        else:
            assert standings.winners
            for winner in standings.winners:
                assert next(li for li in standings.lines if li.unit == winner).figure == top
        assert {line.unit for line in standings.lines} >= {"A", "E"}


@settings(max_examples=100, deadline=None)
@given(ledger=LEDGER_ROWS)
def test_points_are_the_sum_of_the_years_rows(ledger: list[LedgerEntry]) -> None:
    """Ally of the year's figure is each unit's plain sum of ledger amounts (brute force)."""
    ally, _, _ = awards_from_ledger(units=[], ledger=ledger, outcomes=[])
    expected = {row.unit: 0 for row in ledger}
    for row in ledger:
        expected[row.unit] += row.amount
    assert {line.unit: line.figure for line in ally.lines} == expected


def test_award_kinds_come_in_announcement_order() -> None:
    """The three standings come as ally of the year, most influential, most creative."""
    assert [standings.award for standings in year()] == list(AwardKind)
