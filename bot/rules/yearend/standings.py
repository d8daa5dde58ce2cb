"""The year-end awards' standings (SPEC 2.6): every unit ranked on an award's figure, the
stated tie-breakers applied, the winners and why they won, and the award's chart.

Ties (SPEC 2.6): competition ranking on the figure (1, 1, 3), then the stated tie-breaker,
"fewer points adjusted by hand, then earlier last qualifying act". We read "points adjusted by
hand" as the sum of the absolute amounts of the unit's adjustment rows in the year (a +5 and a
-5 are two corrections, not none), and a unit with no qualifying act as acting last. When
both tie-breakers leave units level the award is shared: no name or id decides a prize. A unit
wins only with a figure above zero, so a unit with no activity never wins by default.

Pure: bot.rules.yearend.awards computes each unit's figure and hands the rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_NEVER = datetime.max.replace(tzinfo=UTC)


class AwardKind(StrEnum):
    """The three awards, in the order they are announced."""

    ALLY_OF_THE_YEAR = "ally_of_the_year"
    MOST_INFLUENTIAL = "most_influential"
    MOST_CREATIVE = "most_creative"


TITLES = {
    AwardKind.ALLY_OF_THE_YEAR: "Ally of the year",
    AwardKind.MOST_INFLUENTIAL: "Most influential ally",
    AwardKind.MOST_CREATIVE: "Most creative ally",
}
MEASURES = {
    AwardKind.ALLY_OF_THE_YEAR: "most points in the year",
    AwardKind.MOST_INFLUENTIAL: "most people helped, weighted by the other units they belong to",
    AwardKind.MOST_CREATIVE: "most accepted stories and events marked creative",
}
# The multiplication sign, spelled by name: ruff flags the bare character as ambiguous.
TIMES = "\N{MULTIPLICATION SIGN}"


class TieRule(StrEnum):
    """What separated two units with the same figure (SPEC 2.6's stated tie-breaker)."""

    HAND_ADJUSTED = "fewer points adjusted by hand"
    LAST_ACT = "earlier last qualifying act"
    SHARED = "shared: neither tie-breaker separates them"


@dataclass(frozen=True)
class Line:
    """One unit's line in an award's standings.

    ``rank`` is the competition rank on the figure alone (1, 1, 3); ``tie_rule`` says what put
    this line below the one above it when both have the same figure.
    """

    unit: str
    figure: int
    rank: int
    detail: str
    hand_adjusted: int
    last_act: datetime | None
    tie_rule: TieRule | None = None

    @property
    def text(self) -> str:
        """The line as SPEC 5.2 shows it, e.g. ``Engineering: 25 points``."""
        return f"{self.unit}: {self.detail}"


@dataclass(frozen=True)
class AwardStandings:
    """The standings behind one award: every unit, best first, and who won and why."""

    award: AwardKind
    title: str
    measure: str
    formula: str | None
    lines: tuple[Line, ...]
    winners: tuple[str, ...]
    decided_by: str

    @property
    def tied(self) -> bool:
        """Whether the top figure was shared by more than one unit."""
        return sum(1 for line in self.lines if line.rank == 1 and line.figure > 0) > 1


@dataclass(frozen=True)
class ChartData:
    """What a bar chart needs: labels and values, best first, and what the values measure."""

    title: str
    labels: tuple[str, ...]
    values: tuple[int, ...]
    value_label: str


# One unit's row: unit, figure, the figure in words, points adjusted by hand, last act.
Row = tuple[str, int, str, int, datetime | None]


def _tie_key(row: Row) -> tuple[int, int, datetime]:
    _, figure, _, adjusted, last = row
    return (-figure, adjusted, last or _NEVER)


def standings(award: AwardKind, rows: list[Row], *, formula: str | None) -> AwardStandings:
    """Rank the rows on their figure, apply the tie-breakers, and say who won and why."""
    # Units level on every rule are listed by name, for a stable display only: they share.
    ordered = sorted(rows, key=lambda row: (*_tie_key(row), row[0].casefold(), row[0]))
    lines: list[Line] = []
    for index, row in enumerate(ordered):
        unit, figure, detail, adjusted, last = row
        above = ordered[index - 1] if index else None
        same = above is not None and above[1] == figure
        rank = lines[-1].rank if same else index + 1
        rule = _separating_rule(above, row) if same and above is not None else None
        lines.append(Line(unit, figure, rank, detail, adjusted, last, rule))

    top = lines[0] if lines else None
    if top is None or top.figure <= 0:
        return AwardStandings(
            award,
            TITLES[award],
            MEASURES[award],
            formula,
            tuple(lines),
            (),
            "no award: no unit has a figure above zero",
        )
    winners = [top.unit]
    for line in lines[1:]:
        if line.figure != top.figure or line.tie_rule is not TieRule.SHARED:
            break
        winners.append(line.unit)
    tied = [line for line in lines if line.figure == top.figure]
    if len(tied) == 1:
        decided = f"{top.unit} has the highest figure: {top.detail}"
    elif len(winners) > 1:
        decided = (
            f"{_names([line.unit for line in tied])} tied at {top.figure}; "
            f"{TieRule.SHARED.value}, so {_names(winners)} share the award"
        )
    else:
        runner = lines[1]
        decided = (
            f"{_names([line.unit for line in tied])} tied at {top.figure}; "
            f"{_why(runner.tie_rule, top, runner)} decided for {top.unit}"
        )
    return AwardStandings(
        award, TITLES[award], MEASURES[award], formula, tuple(lines), tuple(winners), decided
    )


def _separating_rule(above: Row, below: Row) -> TieRule:
    if above[3] != below[3]:
        return TieRule.HAND_ADJUSTED
    if (above[4] or _NEVER) != (below[4] or _NEVER):
        return TieRule.LAST_ACT
    return TieRule.SHARED


def _why(rule: TieRule | None, top: Line, runner: Line) -> str:
    if rule is TieRule.HAND_ADJUSTED:
        return f"{rule.value} ({top.hand_adjusted} against {runner.hand_adjusted})"
    if rule is TieRule.LAST_ACT:
        first, second = top.last_act, runner.last_act
        same_day = first and second and first.date() == second.date()
        shown = _minute if same_day else _day
        return f"{rule.value} ({shown(top.last_act)} against {shown(runner.last_act)})"
    return str(rule)


def _day(at: datetime | None) -> str:
    return at.date().isoformat() if at else "none"


def _minute(at: datetime | None) -> str:
    return at.isoformat(timespec="minutes") if at else "none"


def _names(units: list[str]) -> str:
    return units[0] if len(units) == 1 else ", ".join(units[:-1]) + " and " + units[-1]


def chart_data(standings: AwardStandings, *, limit: int = 10) -> ChartData:
    """The award's chart: the units with a figure above zero, best first, at most ``limit``."""
    shown = [line for line in standings.lines if line.figure > 0][:limit]
    value_label = {
        AwardKind.ALLY_OF_THE_YEAR: "points",
        AwardKind.MOST_INFLUENTIAL: f"influence (people helped {TIMES} (1 + other units))",
        AwardKind.MOST_CREATIVE: "creative stories and events",
    }[standings.award]
    return ChartData(
        standings.title,
        tuple(line.unit for line in shown),
        tuple(line.figure for line in shown),
        value_label,
    )
