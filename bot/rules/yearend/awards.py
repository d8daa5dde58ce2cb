"""The year-end awards for business units (SPEC 2.6): a pure function of the ledger and outcomes.

Nothing here reads a database or a clock: the caller passes the units, the year's ledger (rows,
or per-unit totals that SQL can add up in one GROUP BY) and the recorded outcomes, and gets the
standings behind each award. The same input, in any order, gives the same standings.

The awards, as SPEC 2.6 defines them:
- *Ally of the year*: most points in the year (every ledger row of the year, adjustments
  included, since they correct the total).
- *Most influential ally*: most distinct people helped (successful allyships and accepted
  stories, counted by the person helped: a keyed marker, so anonymous asks count without a
  Slack ID), weighted by the distinct *other* units those people belong to. The SPEC leaves
  the weighting open; we use ``people helped times (1 + other units reached)`` so that a unit
  that helped only its own people still scores, and reaching one more unit counts as much as
  the whole first circle. Named askers and story reporters whose identity was deleted
  (forget-me) are one person per unit, ``UNKNOWN_PERSON``, reaching no other unit; an
  anonymous ask whose keyed marker was deleted (forget-me, the retention purge) counts for
  nobody, and nothing is kept to tell its asker apart. So forgetting never raises a figure.
  The formula is returned with the standings.
- *Most creative ally*: most accepted stories and events marked creative (SPEC 5.2: "only
  accepted items count for the award").

Their ranking, ties and charts are in bot.rules.yearend.standings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.rules.yearend.standings import TIMES, AwardKind, AwardStandings, standings

# Ledger kinds and outcome kinds, spelled as bot.rules.points writes them; kept here as strings so
# this module imports nothing that opens a session (a test checks they match).
ALLYSHIP = "allyship"
CASE = "case"
STORY = "story"
EVENT = "event"
ADJUSTMENT = "adjustment"

# Everyone helped whose identity was deleted (forget-me) counts as this single person per unit.
UNKNOWN_PERSON = "unknown"
INFLUENCE_FORMULA = (
    f"people helped {TIMES} (1 + other business units those people belong to); "
    "named people whose data was deleted count as one person per unit, anonymous asks "
    "whose marker was deleted not at all"
)


# inputs


@dataclass(frozen=True)
class LedgerEntry:
    """One points ledger row: the unit it counts for, its signed amount, its kind and time."""

    unit: str
    amount: int
    kind: str
    at: datetime


@dataclass(frozen=True)
class UnitLedger:
    """A unit's ledger for the year, added up (what a GROUP BY over the ledger returns).

    ``points`` is the sum of every row; ``hand_adjusted`` the sum of |amount| over adjustment
    rows; ``last_act`` the latest row that earned points (amount > 0, not an adjustment).
    """

    unit: str
    points: int = 0
    hand_adjusted: int = 0
    last_act: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """One recorded outcome: a match's feedback, or a story's or event's assessment.

    ``item`` is unique per outcome (``match:12``, ``story:3``, ``event:5``); ``unit`` is the unit
    credited (the ally's, or the organising one); ``succeeded`` is "it worked" or "accepted";
    ``at`` is when that was decided. ``person`` and ``ally`` are keyed markers of the same key
    (the person helped: the requester, or a story's reporter), never Slack IDs.
    """

    item: str
    kind: str
    unit: str | None
    succeeded: bool
    at: datetime
    creative: bool = False
    person: str | None = None
    person_unit: str | None = None
    ally: str | None = None


# the computation


def year_bounds(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar year in the programme's time zone, as [start, end)."""
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def _within(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or at >= start) and (end is None or at < end)


def ledger_totals(
    entries: Iterable[LedgerEntry], *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, UnitLedger]:
    """Add up the year's ledger rows per unit (the pure twin of the SQL aggregate)."""
    points: dict[str, int] = defaultdict(int)
    adjusted: dict[str, int] = defaultdict(int)
    last: dict[str, datetime] = {}
    for entry in entries:
        if not _within(entry.at, start, end):
            continue
        points[entry.unit] += entry.amount
        if entry.kind == ADJUSTMENT:
            adjusted[entry.unit] += abs(entry.amount)
        elif entry.amount > 0 and (entry.unit not in last or entry.at > last[entry.unit]):
            last[entry.unit] = entry.at
    return {
        unit: UnitLedger(unit, points[unit], adjusted[unit], last.get(unit))
        for unit in points.keys() | adjusted.keys()
    }


def compute_awards(
    *,
    units: Iterable[str],
    ledger: Iterable[UnitLedger],
    outcomes: Iterable[Outcome],
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[AwardStandings, AwardStandings, AwardStandings]:
    """The three awards' standings from the year's ledger totals and outcomes.

    ``ledger`` is already limited to the year; ``outcomes`` are filtered to [start, end) here.
    Every unit named in ``units``, the ledger or the outcomes gets a line in every award.
    """
    totals = {row.unit: row for row in ledger}
    kept = _unique(outcome for outcome in outcomes if _within(outcome.at, start, end))
    all_units = set(units) | totals.keys() | {o.unit for o in kept if o.unit is not None}

    people: dict[str, set[str]] = defaultdict(set)
    reached: dict[str, set[str]] = defaultdict(set)
    helped_last: dict[str, datetime] = {}
    creative: dict[str, dict[str, int]] = defaultdict(lambda: {STORY: 0, EVENT: 0})
    creative_last: dict[str, datetime] = {}
    for outcome in kept:
        unit = outcome.unit
        if unit is None or not outcome.succeeded:
            continue
        if _counts_as_help(outcome):
            assert outcome.person is not None
            people[unit].add(outcome.person)
            if outcome.person_unit is not None and outcome.person_unit != unit:
                reached[unit].add(outcome.person_unit)
            helped_last[unit] = max(outcome.at, helped_last.get(unit, outcome.at))
        if _counts_as_creative(outcome):
            creative[unit][outcome.kind] += 1
            creative_last[unit] = max(outcome.at, creative_last.get(unit, outcome.at))

    def adjusted(unit: str) -> int:
        return totals[unit].hand_adjusted if unit in totals else 0

    points_rows = []
    influence_rows = []
    creative_rows = []
    for unit in all_units:
        total = totals.get(unit, UnitLedger(unit))
        points_rows.append(
            (unit, total.points, _points(total.points), adjusted(unit), total.last_act)
        )
        helped, others = len(people[unit]), len(reached[unit])
        influence_rows.append(
            (
                unit,
                helped * (1 + others),
                _influence(helped, others),
                adjusted(unit),
                helped_last.get(unit),
            )
        )
        marks = creative.get(unit, {STORY: 0, EVENT: 0})
        count = marks[STORY] + marks[EVENT]
        creative_rows.append(
            (unit, count, _creative(marks), adjusted(unit), creative_last.get(unit))
        )
    return (
        standings(AwardKind.ALLY_OF_THE_YEAR, points_rows, formula=None),
        standings(AwardKind.MOST_INFLUENTIAL, influence_rows, formula=INFLUENCE_FORMULA),
        standings(AwardKind.MOST_CREATIVE, creative_rows, formula=None),
    )


def awards_from_ledger(
    *,
    units: Iterable[str],
    ledger: Iterable[LedgerEntry],
    outcomes: Iterable[Outcome],
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[AwardStandings, AwardStandings, AwardStandings]:
    """The awards from raw ledger rows: ``ledger_totals`` then ``compute_awards``."""
    totals = ledger_totals(ledger, start=start, end=end).values()
    return compute_awards(units=units, ledger=totals, outcomes=outcomes, start=start, end=end)


def _unique(outcomes: Iterable[Outcome]) -> list[Outcome]:
    """Outcomes by item; the same item twice must be the same outcome (a retry), else an error."""
    by_item: dict[str, Outcome] = {}
    for outcome in outcomes:
        seen = by_item.setdefault(outcome.item, outcome)
        if seen != outcome:
            raise ValueError(f"two different outcomes for {outcome.item}")
    return list(by_item.values())


def _counts_as_help(outcome: Outcome) -> bool:
    # Nobody helps themselves (SPEC 2.4.4): a story whose reporter is the ally, or a request
    # the ally made, counts for nobody.
    return (
        outcome.kind in (ALLYSHIP, STORY)
        and outcome.person is not None
        and outcome.person != outcome.ally
    )


def _counts_as_creative(outcome: Outcome) -> bool:
    # A story about oneself earns nothing (SPEC 2.6), so its creative mark earns nothing either.
    self_story = outcome.kind == STORY and outcome.person is not None
    return (
        outcome.creative
        and outcome.kind in (STORY, EVENT)
        and not (self_story and outcome.person == outcome.ally)
    )


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _points(points: int) -> str:
    return _plural(points, "point")


def _influence(helped: int, others: int) -> str:
    people, units = _plural(helped, "person", "people"), _plural(others, "other unit")
    return f"{helped * (1 + others)} ({people} helped {TIMES} (1 + {units}))"


def _creative(marks: dict[str, int]) -> str:
    count = marks[STORY] + marks[EVENT]
    return (
        f"{_plural(count, 'creative item')} "
        f"({_plural(marks[STORY], 'story', 'stories')}, {_plural(marks[EVENT], 'event')})"
    )
