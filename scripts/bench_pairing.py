"""Benchmark: optimal mentoring pairing at scale (run on purpose, not in CI).

    .venv/bin/python scripts/bench_pairing.py [--mentors 1000] [--mentees 1000] [--repeat 3]
        [--capacity 1] [--budget-s 1.0] [--seed 12] [--no-compare] [--write-csv PATH]

Generates a cohort (seeded, so every run sees the same people) with a few percent of
reporting lines, exclusions and earlier pairs, and times `propose_pairs` end to end:
validation, the numpy scores, the hard constraints, the one `linear_sum_assignment` solve and
the reasons in words. The median of `--repeat` runs counts; it exits 1 above `--budget-s`.

It then checks every proposed pair against the constraints, and compares with the PyPI
package mentor-match (`pip install -e '.[bench]'`): one pass of its Munkres solver on the
same people, the same constraints (as its Disqualify rules) and the same score (as one rule
per pair), timed in the same run. If mentor-match is not installed the comparison is skipped
with a message. It exits 1 if ours is not at least 50 times faster, or matches fewer people,
or reaches a lower total score. `--write-csv` also saves the cohort in `allybot pair`'s input
format, to time the command itself: `time .venv/bin/allybot pair PATH --out /dev/null`.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.rules.mentoring.csvio import COLUMNS
from bot.rules.mentoring.pairing import (
    CohortOptions,
    Participant,
    Proposal,
    Role,
    Weights,
    propose_pairs,
)

INTERESTS = [f"interest_{k}" for k in range(15)]
UNITS = [f"Unit {k}" for k in range(12)]
COUNTRIES = ["FR", "DE", "UK", "US", "IN", "BR", "JP", "ES", "NL", "PL", "SG", "ZA"]
SENIORITY = ["IC", "Manager", "Director", "VP"]
CONSTRAINT_RATE = 0.03  # share of people with a reporting line, exclusions, an earlier pair
SPEEDUP_TARGET = 50


def cohort(
    mentors: int, mentees: int, seed: int
) -> tuple[list[Participant], frozenset[tuple[str, str]]]:
    """Seeded people and earlier pairs; constraints mostly cross the two roles."""
    rng = random.Random(seed)
    mentor_ids = [f"M{k:05d}" for k in range(mentors)]
    mentee_ids = [f"E{k:05d}" for k in range(mentees)]

    def person(pid: str, role: Role, others: list[str], everyone: list[str]) -> Participant:
        reports = {rng.choice(everyone)} if rng.random() < CONSTRAINT_RATE else set()
        exclude = set(rng.sample(others, 2)) if rng.random() < CONSTRAINT_RATE else set()
        level_low, level_high = (2, 5) if role is Role.MENTOR else (1, 4)
        return Participant(
            id=pid,
            role=role,
            business_unit=rng.choice(UNITS),
            country=rng.choice(COUNTRIES),
            seniority=rng.choice(SENIORITY),
            interests=frozenset(rng.sample(INTERESTS, rng.randint(1, 4))),
            maturity=rng.randint(level_low, level_high),
            reports_to=frozenset(reports - {pid}),
            exclude=frozenset(exclude - {pid}),
        )

    everyone = mentor_ids + mentee_ids
    people = [person(p, Role.MENTOR, mentee_ids, everyone) for p in mentor_ids]
    people += [person(p, Role.MENTEE, mentor_ids, everyone) for p in mentee_ids]
    previous = frozenset(
        (m, rng.choice(mentee_ids)) for m in mentor_ids if rng.random() < CONSTRAINT_RATE
    )
    return people, previous


def write_csv(path: str, people: list[Participant], previous: frozenset[tuple[str, str]]) -> None:
    """The cohort in `allybot pair`'s input format (SPEC 5.2)."""
    earlier: dict[str, list[str]] = {}
    for a, b in sorted(previous):
        earlier.setdefault(a, []).append(b)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for p in people:
            writer.writerow(
                (
                    p.id,
                    p.role.value,
                    p.business_unit,
                    p.country,
                    p.seniority,
                    ";".join(sorted(p.interests)),
                    p.maturity,
                    ";".join(sorted(p.reports_to)),
                    ";".join(sorted(p.exclude)),
                    ";".join(earlier.get(p.id, [])),
                )
            )


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def scalar_score(mentor: Participant, mentee: Participant, weights: Weights) -> int:
    """The same score as the vectorised one, one pair at a time (for mentor-match)."""

    def differ(a: str, b: str) -> bool:
        return bool(a and b and a.casefold() != b.casefold())

    return (
        weights.shared_interest * len(mentor.interests & mentee.interests)
        + weights.maturity_step * max(0, mentor.maturity - mentee.maturity)
        + weights.different_unit * differ(mentor.business_unit, mentee.business_unit)
        + weights.different_country * differ(mentor.country, mentee.country)
    )


def allowed(mentor: Participant, mentee: Participant, options: CohortOptions) -> bool:
    """The hard constraints, one pair at a time."""
    a, b = mentor.id, mentee.id
    if a in mentee.reports_to or b in mentor.reports_to:
        return False
    if a in mentee.exclude or b in mentor.exclude:
        return False
    return options.allow_repeats or not ({(a, b), (b, a)} & options.previous_pairs)


def check(proposal: Proposal, people: dict[str, Participant], options: CohortOptions) -> None:
    """Every pair allowed, correctly scored, each mentee once, mentors within capacity."""
    mentees: set[str] = set()
    load: dict[str, int] = {}
    for pair in proposal.pairs:
        mentor, mentee = people[pair.mentor], people[pair.mentee]
        assert mentor.role is Role.MENTOR and mentee.role is Role.MENTEE
        assert allowed(mentor, mentee, options), pair
        assert pair.score == scalar_score(mentor, mentee, options.weights), pair
        assert pair.mentee not in mentees, pair
        mentees.add(pair.mentee)
        load[pair.mentor] = load.get(pair.mentor, 0) + 1
        assert load[pair.mentor] <= proposal.capacity, pair


@dataclass
class Theirs:
    seconds: float
    solve_seconds: float
    pairs: int
    total: int


def mentor_match(people: list[Participant], options: CohortOptions) -> Theirs | None:
    """One pass of mentor-match's Munkres solver with our constraints and score as rules."""
    try:
        import matching.rules.rule as rl
        from matching.mentee import Mentee
        from matching.mentor import Mentor
        from matching.process import (
            create_matches,
            generate_match_matrix,
            match_and_assign_participants,
        )
    except ImportError:
        print(
            "mentor-match is not installed: comparison skipped "
            "(install it with: .venv/bin/pip install -e '.[test,bench]')"
        )
        return None

    by_id = {p.id: p for p in people}

    class Score:
        """Our score for the pair, as a mentor-match rule."""

        def evaluate(self, match: Any) -> bool:
            return True

        def apply(self, match: Any) -> int:
            return scalar_score(by_id[match.mentor.email], by_id[match.mentee.email], weights)

    weights = options.weights
    mentors = [Mentor(grade=p.maturity, email=p.id) for p in people if p.role is Role.MENTOR]
    mentees = [Mentee(grade=p.maturity, email=p.id) for p in people if p.role is Role.MENTEE]
    rules = [
        rl.Disqualify(
            lambda match: not allowed(by_id[match.mentor.email], by_id[match.mentee.email], options)
        ),
        Score(),
    ]
    start = time.perf_counter()
    grid = create_matches(generate_match_matrix(mentors, mentees, rules))
    solve_start = time.perf_counter()
    match_and_assign_participants(grid)
    end = time.perf_counter()
    pairs = [(m.email, e.email) for m in mentors for e in m.mentees]
    for mentor_id, mentee_id in pairs:
        assert allowed(by_id[mentor_id], by_id[mentee_id], options)
    total = sum(scalar_score(by_id[m], by_id[e], weights) for m, e in pairs)
    return Theirs(end - start, end - solve_start, len(pairs), total)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentors", type=int, default=1000)
    parser.add_argument("--mentees", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--capacity", type=int, default=1)
    parser.add_argument("--budget-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-compare", action="store_true", help="skip mentor-match")
    parser.add_argument("--write-csv", metavar="PATH", help="save the cohort for allybot pair")
    args = parser.parse_args()

    people, previous = cohort(args.mentors, args.mentees, args.seed)
    if args.write_csv:
        write_csv(args.write_csv, people, previous)
    options = CohortOptions(previous_pairs=previous, capacity=args.capacity)
    by_id = {p.id: p for p in people}
    reporting = sum(bool(p.reports_to) for p in people)
    excluding = sum(bool(p.exclude) for p in people)
    print(
        f"cohort: {args.mentors} mentors x {args.mentees} mentees; {reporting} reporting lines, "
        f"{excluding} people with exclusions, {len(previous)} earlier pairs (seed {args.seed})"
    )

    times = []
    proposal: Proposal | None = None
    for _ in range(args.repeat):
        seconds, proposal = timed(lambda: propose_pairs(people, options))
        times.append(seconds)
    assert proposal is not None
    check(proposal, by_id, options)
    median = statistics.median(times)
    print(
        f"allybot:      median {median:.3f} s, worst {max(times):.3f} s over {args.repeat} runs; "
        f"{len(proposal.pairs)} pairs, {len(proposal.unmatched)} unmatched, "
        f"total score {proposal.total_score}; every pair checked"
    )
    failed = median > args.budget_s
    if failed:
        print(f"FAIL: median above the budget of {args.budget_s:.3f} s")

    if not args.no_compare:
        theirs = mentor_match(people, options)
        if theirs is not None:
            speedup = theirs.seconds / median
            print(
                f"mentor-match: {theirs.seconds:.3f} s (Munkres solve alone "
                f"{theirs.solve_seconds:.3f} s); {theirs.pairs} pairs, total score {theirs.total}"
            )
            print(
                f"allybot is {speedup:.0f}x faster ({theirs.solve_seconds / median:.1f}x against "
                f"the solve alone), +{len(proposal.pairs) - theirs.pairs} pairs, "
                f"+{proposal.total_score - theirs.total} total score"
            )
            if speedup < SPEEDUP_TARGET:
                print(f"FAIL: less than {SPEEDUP_TARGET}x faster than mentor-match")
                failed = True
            if len(proposal.pairs) < theirs.pairs or proposal.total_score < theirs.total:
                print("FAIL: fewer pairs or a lower total score than mentor-match")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
