"""What survey and programme counts may be shown without exposing anyone (SPEC 3, issue 11).

A pure rule over counts: nothing here reads a database or a clock.

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

``figure`` and ``breakdown`` are the "fewer than N" helpers for the programme figures
(SPEC 3, issue 11 part 5): the same rule, for one count or a breakdown of one total.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

MIN_GROUP_FLOOR = 3
DEFAULT_MIN_GROUP = 5

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


def group_order(key: object) -> tuple[bool, str, str]:
    """A sort key for groups: None (no unit given) first, then by name (only for determinism)."""
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
        smallest = min(shown, key=lambda key: (counts[key], group_order(key)))
        withheld[smallest] = Reason.SUBTRACTION
    total = sum(counts.values())
    cells = tuple(
        Cell(key, counts[key], key not in withheld, withheld.get(key))
        for key in sorted(counts, key=group_order)
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
