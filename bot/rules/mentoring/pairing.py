"""Optimal mentoring pairs: the most people matched, then the best total score (SPEC 4).

A pure function from participants to a proposal, with no session and no Slack, so it can be
benchmarked and property-tested alone. One `linear_sum_assignment` solve does the work:
mentees are rows, each mentor is repeated once per place it offers, allowed cells are worth
`pair_bonus + (mentor_bonus on a mentor's first place) + score` and forbidden cells nothing.
`mentor_bonus` is larger than any total score and `pair_bonus` larger than every mentor bonus
and score together, so the solve maximises, in this order: the number of pairs, the number
of mentors with a mentee (with a capacity above 1, everyone gets one mentee before anyone
gets two: the most people matched), then the total score. Forbidden cells the solver may
still pick are worth nothing and are dropped, which is the same as leaving both unmatched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

IntMatrix = npt.NDArray[np.int64]
BoolMatrix = npt.NDArray[np.bool_]


class PairingError(ValueError):
    """The participants or options cannot be paired as given; the message says why."""


class Role(StrEnum):
    """Which side of the pair someone signed up for."""

    MENTOR = "mentor"
    MENTEE = "mentee"


@dataclass(frozen=True)
class Participant:
    """One person's sign-up, as pairing needs it (ids are opaque: Slack ids or CSV ids)."""

    id: str
    role: Role
    business_unit: str = ""
    country: str = ""
    seniority: str = ""
    interests: frozenset[str] = frozenset()
    maturity: int = 1
    reports_to: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Weights:
    """Points per compatibility factor; integers keep the totals exact."""

    shared_interest: int = 3
    maturity_step: int = 2
    different_unit: int = 2
    different_country: int = 1


@dataclass(frozen=True)
class CohortOptions:
    """What the admins decided for this cohort's pairing."""

    # Pairs (either order) formed in earlier cohorts; ids outside this cohort are ignored.
    previous_pairs: frozenset[tuple[str, str]] = frozenset()
    allow_repeats: bool = False
    # Mentees per mentor; above 1 only applies when mentees outnumber mentors (SPEC 4).
    capacity: int = 1
    # Pairs the admins ruled out during review (`mentoring exclude`), either order.
    excluded_pairs: frozenset[tuple[str, str]] = frozenset()
    # (mentor, mentee) pairs the admins fixed during review (`mentoring swap`).
    required_pairs: tuple[tuple[str, str], ...] = ()
    # Sign-ups may name a manager or colleague who is not in the cohort: drop those names.
    ignore_unknown_references: bool = False
    weights: Weights = field(default_factory=Weights)
    interest_labels: Mapping[str, str] = field(default_factory=dict)
    level_names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pair:
    """A proposed pair with its score and the reasons in words."""

    mentor: str
    mentee: str
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Unmatched:
    """Someone left without a partner, and why."""

    id: str
    role: Role
    reason: str


@dataclass(frozen=True)
class Proposal:
    """Pairing's answer: the pairs (by mentor, then mentee id) and the unmatched."""

    pairs: tuple[Pair, ...]
    unmatched: tuple[Unmatched, ...]
    capacity: int

    @property
    def total_score(self) -> int:
        """The sum of the pairs' scores."""
        return sum(p.score for p in self.pairs)


NO_ALLOWED_PARTNER = "no allowed partner"
MORE_MENTEES = "more mentees than mentor places"
MORE_MENTORS = "more mentors than mentees"
PARTNERS_TAKEN = "every allowed partner is paired with someone else"


def effective_capacity(mentors: int, mentees: int, capacity: int) -> int:
    """Mentees per mentor: the admins' capacity if mentees outnumber mentors, else 1."""
    if capacity < 1:
        raise PairingError(f"mentor capacity must be at least 1; got {capacity}")
    return capacity if mentees > mentors else 1


def propose_pairs(
    participants: Iterable[Participant], options: CohortOptions | None = None
) -> Proposal:
    """Pair mentors with mentees: most people matched, then highest total score."""
    options = options or CohortOptions()
    people = _validated(list(participants), options)
    mentors = sorted((p for p in people if p.role is Role.MENTOR), key=lambda p: p.id)
    mentees = sorted((p for p in people if p.role is Role.MENTEE), key=lambda p: p.id)
    capacity = effective_capacity(len(mentors), len(mentees), options.capacity)

    allowed = allowed_matrix(mentors, mentees, options)
    shared, gap, other_unit, other_country = _factors(mentors, mentees)
    weights = options.weights
    scores = (
        weights.shared_interest * shared
        + weights.maturity_step * gap
        + weights.different_unit * other_unit
        + weights.different_country * other_country
    )

    places = np.full(len(mentors), capacity, dtype=np.int64)
    chosen: list[tuple[int, int]] = []
    fixed_mentees: set[int] = set()
    mentor_index = {m.id: i for i, m in enumerate(mentors)}
    mentee_index = {m.id: i for i, m in enumerate(mentees)}
    for mentor_id, mentee_id in options.required_pairs:
        i, j = _required(mentor_id, mentee_id, mentor_index, mentee_index)
        if not allowed[j, i]:
            raise PairingError(f"{mentor_id} and {mentee_id} may not be paired")
        if j in fixed_mentees or places[i] == 0:
            raise PairingError(f"{mentor_id} or {mentee_id} is fixed in too many pairs")
        fixed_mentees.add(j)
        places[i] -= 1
        chosen.append((i, j))

    chosen.extend(_solve(scores, allowed, places, capacity, fixed_mentees))
    chosen.sort(key=lambda ij: (mentors[ij[0]].id, mentees[ij[1]].id))
    pairs = tuple(
        Pair(
            mentor=mentors[i].id,
            mentee=mentees[j].id,
            score=int(scores[j, i]),
            reasons=_reasons(mentors[i], mentees[j], int(shared[j, i]), options),
        )
        for i, j in chosen
    )
    unmatched = _unmatched(mentors, mentees, chosen, allowed, capacity)
    return Proposal(pairs=pairs, unmatched=unmatched, capacity=capacity)


def allowed_matrix(
    mentors: list[Participant], mentees: list[Participant], options: CohortOptions
) -> BoolMatrix:
    """Mentee-by-mentor matrix: True where no hard constraint forbids the pair."""
    mentor_index = {m.id: i for i, m in enumerate(mentors)}
    mentee_index = {m.id: j for j, m in enumerate(mentees)}
    allowed = np.ones((len(mentees), len(mentors)), dtype=np.bool_)

    def forbid(a: str, b: str) -> None:
        # Either order; pairs of two mentors or two mentees never arise, so they are ignored.
        if a in mentor_index and b in mentee_index:
            allowed[mentee_index[b], mentor_index[a]] = False
        elif b in mentor_index and a in mentee_index:
            allowed[mentee_index[a], mentor_index[b]] = False

    for person in (*mentors, *mentees):
        for other in person.reports_to | person.exclude:
            forbid(person.id, other)
    for a, b in options.excluded_pairs:
        forbid(a, b)
    if not options.allow_repeats:
        for a, b in options.previous_pairs:
            forbid(a, b)
    return allowed


def _factors(
    mentors: list[Participant], mentees: list[Participant]
) -> tuple[IntMatrix, IntMatrix, IntMatrix, IntMatrix]:
    """Mentee-by-mentor matrices: shared interests, maturity gap, other unit, other country."""
    vocabulary = {
        name: k
        for k, name in enumerate(sorted({i for p in (*mentors, *mentees) for i in p.interests}))
    }

    def interest_rows(group: list[Participant]) -> npt.NDArray[np.float32]:
        rows = np.zeros((len(group), len(vocabulary)), dtype=np.float32)
        for r, person in enumerate(group):
            rows[r, [vocabulary[i] for i in person.interests]] = 1.0
        return rows

    # Counts stay far below 2**24, so float32 products are exact and use BLAS.
    shared = (interest_rows(mentees) @ interest_rows(mentors).T).astype(np.int64)
    mentor_levels = np.array([m.maturity for m in mentors], dtype=np.int64)
    mentee_levels = np.array([m.maturity for m in mentees], dtype=np.int64)
    gap = np.clip(mentor_levels[None, :] - mentee_levels[:, None], 0, None)
    return (
        shared,
        gap,
        _differ(mentors, mentees, "business_unit"),
        _differ(mentors, mentees, "country"),
    )


def _differ(mentors: list[Participant], mentees: list[Participant], attribute: str) -> IntMatrix:
    """1 where both values are known and differ (case-insensitive), else 0."""
    codes: dict[str, int] = {}

    def coded(group: list[Participant]) -> IntMatrix:
        values = (str(getattr(p, attribute)).strip().casefold() for p in group)
        return np.array(
            [codes.setdefault(v, len(codes)) if v else -1 for v in values], dtype=np.int64
        )

    theirs, ours = coded(mentors), coded(mentees)
    known = (ours[:, None] >= 0) & (theirs[None, :] >= 0)
    return (known & (ours[:, None] != theirs[None, :])).astype(np.int64)


def _solve(
    scores: IntMatrix,
    allowed: BoolMatrix,
    places: IntMatrix,
    capacity: int,
    fixed_mentees: set[int],
) -> list[tuple[int, int]]:
    """(mentor, mentee) index pairs of the one assignment solve over the open places."""
    rows = np.array([j for j in range(scores.shape[0]) if j not in fixed_mentees], dtype=np.int64)
    columns = np.repeat(np.arange(scores.shape[1], dtype=np.int64), places)
    if rows.size == 0 or columns.size == 0:
        return []
    sub_scores = scores[np.ix_(rows, columns)]
    sub_allowed = allowed[np.ix_(rows, columns)]
    # A mentor's first open place, unless a fixed pair already gives them a mentee.
    first = np.r_[True, columns[1:] != columns[:-1]] & (places[columns] == capacity)
    most = min(rows.size, columns.size)
    mentor_bonus = int(sub_scores.max(initial=0)) * most + 1
    pair_bonus = mentor_bonus * (most + 1)
    # Integers well below 2**53, so the float64 solve is exact.
    value = np.where(sub_allowed, pair_bonus + mentor_bonus * first[None, :] + sub_scores, 0)
    row_ind, col_ind = linear_sum_assignment(value, maximize=True)
    return [
        (int(columns[c]), int(rows[r]))
        for r, c in zip(row_ind, col_ind, strict=True)
        if sub_allowed[r, c]
    ]


def _reasons(
    mentor: Participant, mentee: Participant, shared: int, options: CohortOptions
) -> tuple[str, ...]:
    """The pair's score in words, in the order of the weights."""
    reasons: list[str] = []
    if shared:
        common = sorted(mentor.interests & mentee.interests)
        names = ", ".join(options.interest_labels.get(i, i) for i in common)
        reasons.append(f"share {shared} interest{'s' if shared > 1 else ''}: {names}")
    gap = mentor.maturity - mentee.maturity
    if gap > 0:
        levels = options.level_names
        ahead = levels.get(mentor.maturity, f"level {mentor.maturity}")
        behind = levels.get(mentee.maturity, f"level {mentee.maturity}")
        reasons.append(
            f"mentor {gap} maturity level{'s' if gap > 1 else ''} ahead ({ahead} vs {behind})"
        )
    if _known_and_differ(mentor.business_unit, mentee.business_unit):
        reasons.append("different business units")
    if _known_and_differ(mentor.country, mentee.country):
        reasons.append("different countries")
    return tuple(reasons) or ("allowed, with nothing in particular in common",)


def _known_and_differ(a: str, b: str) -> bool:
    a, b = a.strip().casefold(), b.strip().casefold()
    return bool(a and b and a != b)


def _unmatched(
    mentors: list[Participant],
    mentees: list[Participant],
    chosen: list[tuple[int, int]],
    allowed: BoolMatrix,
    capacity: int,
) -> tuple[Unmatched, ...]:
    """Everyone without a partner, mentors first, with the likeliest reason."""
    paired_mentors = {i for i, _ in chosen}
    paired_mentees = {j for _, j in chosen}
    left: list[Unmatched] = []
    for i, mentor in enumerate(mentors):
        if i in paired_mentors:
            continue
        if not allowed[:, i].any():
            reason = NO_ALLOWED_PARTNER
        elif len(mentors) > len(mentees):
            reason = MORE_MENTORS
        else:
            reason = PARTNERS_TAKEN
        left.append(Unmatched(mentor.id, Role.MENTOR, reason))
    for j, mentee in enumerate(mentees):
        if j in paired_mentees:
            continue
        if not allowed[j, :].any():
            reason = NO_ALLOWED_PARTNER
        elif len(mentees) > len(mentors) * capacity:
            reason = MORE_MENTEES
        else:
            reason = PARTNERS_TAKEN
        left.append(Unmatched(mentee.id, Role.MENTEE, reason))
    return tuple(left)


def _required(
    mentor_id: str, mentee_id: str, mentor_index: dict[str, int], mentee_index: dict[str, int]
) -> tuple[int, int]:
    if mentor_id not in mentor_index:
        raise PairingError(f"fixed pair names {mentor_id}, who is not a mentor in this cohort")
    if mentee_id not in mentee_index:
        raise PairingError(f"fixed pair names {mentee_id}, who is not a mentee in this cohort")
    return mentor_index[mentor_id], mentee_index[mentee_id]


def _validated(people: list[Participant], options: CohortOptions) -> list[Participant]:
    """The participants, checked (clear errors for what cannot be paired)."""
    if len(people) < 2:
        raise PairingError(f"pairing needs at least two people; got {len(people)}")
    seen: set[str] = set()
    for person in people:
        if not person.id:
            raise PairingError("a participant has an empty id")
        if person.id in seen:
            raise PairingError(f"participant {person.id} appears twice")
        seen.add(person.id)
        if not isinstance(person.role, Role):
            raise PairingError(f"participant {person.id} has no role (mentor or mentee)")
    roles = {p.role for p in people}
    if len(roles) < 2:
        only = next(iter(roles)).value
        raise PairingError(
            f"pairing needs at least one mentor and one mentee; all {len(people)} are {only}s"
        )
    for person in people:
        for label, ids in (("reports to", person.reports_to), ("excludes", person.exclude)):
            if person.id in ids:
                raise PairingError(f"participant {person.id} {label} themselves")
            unknown = sorted(ids - seen)
            # Unknown names can only be ignored: constraints bind people in the cohort alone.
            if unknown and not options.ignore_unknown_references:
                raise PairingError(
                    f"participant {person.id} {label} {unknown[0]}, who is not in the cohort"
                )
    return people
