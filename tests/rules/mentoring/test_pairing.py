"""Pairing: hard constraints always hold, the most people are matched, the total is optimal."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from bot.rules.mentoring.pairing import (
    MORE_MENTEES,
    MORE_MENTORS,
    NO_ALLOWED_PARTNER,
    CohortOptions,
    Pair,
    PairingError,
    Participant,
    Proposal,
    Role,
    Weights,
    propose_pairs,
)

MENTOR, MENTEE = Role.MENTOR, Role.MENTEE


def person(pid: str, role: Role, **fields: object) -> Participant:
    """A participant with sets given as any iterable."""
    for key in ("interests", "reports_to", "exclude"):
        if key in fields:
            fields[key] = frozenset(fields[key])  # type: ignore[arg-type]
    return Participant(id=pid, role=role, **fields)  # type: ignore[arg-type]


# The oracle: the SPEC's rules one pair at a time, written apart from the vectorised code.


def oracle_allowed(mentor: Participant, mentee: Participant, options: CohortOptions) -> bool:
    """No reporting line, exclusion, earlier pair (unless allowed), or self-pairing."""
    a, b = mentor.id, mentee.id
    if a == b or a in mentee.reports_to or b in mentor.reports_to:
        return False
    if a in mentee.exclude or b in mentor.exclude:
        return False
    if {a, b} in [set(p) for p in options.excluded_pairs]:
        return False
    return options.allow_repeats or {a, b} not in [set(p) for p in options.previous_pairs]


def oracle_score(mentor: Participant, mentee: Participant, weights: Weights) -> int:
    """Shared interests, maturity gap, different unit and country, scored pair by pair."""

    def differ(x: str, y: str) -> bool:
        return bool(x.strip() and y.strip() and x.strip().casefold() != y.strip().casefold())

    return (
        weights.shared_interest * len(mentor.interests & mentee.interests)
        + weights.maturity_step * max(0, mentor.maturity - mentee.maturity)
        + weights.different_unit * differ(mentor.business_unit, mentee.business_unit)
        + weights.different_country * differ(mentor.country, mentee.country)
    )


@dataclass
class Best:
    """The brute-force optimum, in order: pairs, mentors with a mentee, total score."""

    pairs: int = -1
    mentors: int = -1
    score: int = -1
    people: int = -1


def brute_force(
    mentors: list[Participant], mentees: list[Participant], options: CohortOptions, capacity: int
) -> Best:
    """Try every assignment of each mentee to a mentor or to nobody."""
    best = Best()
    places = [capacity] * len(mentors)

    def walk(j: int, pairs: int, score: int) -> None:
        if j == len(mentees):
            used = sum(p < capacity for p in places)
            if (pairs, used, score) > (best.pairs, best.mentors, best.score):
                best.pairs, best.mentors, best.score = pairs, used, score
            best.people = max(best.people, pairs + used)
            return
        walk(j + 1, pairs, score)
        for i, mentor in enumerate(mentors):
            if places[i] and oracle_allowed(mentor, mentees[j], options):
                places[i] -= 1
                walk(j + 1, pairs + 1, score + oracle_score(mentor, mentees[j], options.weights))
                places[i] += 1

    walk(0, 0, 0)
    return best


def maximum_matching_size(
    mentors: list[Participant], mentees: list[Participant], options: CohortOptions, capacity: int
) -> int:
    """Cardinality of a maximum bipartite matching, mentors repeated once per place."""
    graph = np.array(
        [
            [oracle_allowed(m, e, options) for m in mentors for _ in range(capacity)]
            for e in mentees
        ],
        dtype=np.int8,
    )
    matching = maximum_bipartite_matching(csr_matrix(graph), perm_type="column")
    return int((matching >= 0).sum())


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[list[Participant], CohortOptions]:
    """Up to five mentors and five mentees with random constraints between them."""
    n_mentors = draw(st.integers(1, 5))
    n_mentees = draw(st.integers(1, 5))
    ids = [f"m{i}" for i in range(n_mentors)] + [f"e{j}" for j in range(n_mentees)]
    people = []
    for pid in ids:
        others = [o for o in ids if o != pid]
        people.append(
            Participant(
                id=pid,
                role=MENTOR if pid.startswith("m") else MENTEE,
                business_unit=draw(st.sampled_from(["", "Eng", "Ops", "eng "])),
                country=draw(st.sampled_from(["", "FR", "DE"])),
                interests=frozenset(draw(st.sets(st.sampled_from("abcd")))),
                maturity=draw(st.integers(1, 5)),
                reports_to=frozenset(draw(st.sets(st.sampled_from(others), max_size=1))),
                exclude=frozenset(draw(st.sets(st.sampled_from(others), max_size=2))),
            )
        )
    pairs = [(m, e) for m in ids if m.startswith("m") for e in ids if e.startswith("e")]
    previous = draw(st.sets(st.sampled_from(pairs), max_size=3))
    options = CohortOptions(
        previous_pairs=frozenset((b, a) if draw(st.booleans()) else (a, b) for a, b in previous),
        allow_repeats=draw(st.booleans()),
        capacity=draw(st.integers(1, 3)),
        excluded_pairs=frozenset(draw(st.sets(st.sampled_from(pairs), max_size=2))),
    )
    draw(st.randoms()).shuffle(people)
    return people, options


def split(people: list[Participant]) -> tuple[list[Participant], list[Participant]]:
    mentors = [p for p in people if p.role is MENTOR]
    return mentors, [p for p in people if p.role is MENTEE]


@settings(max_examples=300, deadline=None)
@given(cohorts())
def test_pairing_matches_the_brute_force_optimum(
    cohort: tuple[list[Participant], CohortOptions],
) -> None:
    """Never a forbidden pair or an overfull mentor; most pairs, then people, then total score."""
    people, options = cohort
    proposal = propose_pairs(people, options)
    mentors, mentees = split(people)
    by_id = {p.id: p for p in people}
    capacity = options.capacity if len(mentees) > len(mentors) else 1
    assert proposal.capacity == capacity

    for pair in proposal.pairs:
        mentor, mentee = by_id[pair.mentor], by_id[pair.mentee]
        assert mentor.role is MENTOR and mentee.role is MENTEE
        assert oracle_allowed(mentor, mentee, options)
        assert pair.score == oracle_score(mentor, mentee, options.weights)
    mentee_ids = [p.mentee for p in proposal.pairs]
    assert len(mentee_ids) == len(set(mentee_ids))
    for mentor in mentors:
        assert sum(p.mentor == mentor.id for p in proposal.pairs) <= capacity

    best = brute_force(mentors, mentees, options, capacity)
    assert len(proposal.pairs) == best.pairs
    used = len({p.mentor for p in proposal.pairs})
    assert used == best.mentors
    assert len(proposal.pairs) + used == best.people
    assert len(proposal.pairs) == maximum_matching_size(mentors, mentees, options, capacity)
    assert proposal.total_score == best.score

    matched = {p.mentor for p in proposal.pairs} | set(mentee_ids)
    assert {u.id for u in proposal.unmatched} == set(by_id) - matched


@settings(max_examples=100, deadline=None)
@given(cohorts(), st.randoms())
def test_the_same_people_in_any_order_give_the_same_pairs(
    cohort: tuple[list[Participant], CohortOptions], rng: random.Random
) -> None:
    """Determinism: input order does not change the proposal."""
    people, options = cohort
    shuffled = list(people)
    rng.shuffle(shuffled)
    assert propose_pairs(shuffled, options) == propose_pairs(people, options)


def small_cohort() -> list[Participant]:
    return [
        person("ana", MENTOR, business_unit="Engineering", country="FR", maturity=4,
               interests={"trans_inclusion", "allyship_at_work"}),
        person("bo", MENTOR, business_unit="Sales", country="DE", maturity=3,
               interests={"pronouns"}),
        person("cy", MENTEE, business_unit="Engineering", country="DE", maturity=1,
               interests={"trans_inclusion", "allyship_at_work", "pronouns"}),
        person("di", MENTEE, business_unit="Finance", country="DE", maturity=2,
               interests={"pronouns"}, reports_to={"bo"}),
    ]  # fmt: skip


def test_reasons_read_as_words() -> None:
    """Each pair says why: shared interests by name, maturity gap, unit and country."""
    options = CohortOptions(
        interest_labels={"trans_inclusion": "Trans inclusion", "allyship_at_work": "Allyship"},
        level_names={1: "Unaware", 2: "Aware", 3: "Active", 4: "Advocate"},
    )
    proposal = propose_pairs(small_cohort(), options)
    assert proposal.pairs == (
        Pair(
            "ana",
            "di",
            score=2 * 2 + 2 + 1,
            reasons=(
                "mentor 2 maturity levels ahead (Advocate vs Aware)",
                "different business units",
                "different countries",
            ),
        ),
        Pair(
            "bo",
            "cy",
            score=3 + 2 * 2 + 2,
            reasons=(
                "share 1 interest: pronouns",
                "mentor 2 maturity levels ahead (Active vs Unaware)",
                "different business units",
            ),
        ),
    )


def test_a_reporting_line_is_never_paired_even_at_a_cost() -> None:
    """di reports to bo, so bo takes cy although ana and cy share two interests."""
    pairs = {(p.mentor, p.mentee) for p in propose_pairs(small_cohort()).pairs}
    assert ("bo", "di") not in pairs
    assert pairs == {("ana", "di"), ("bo", "cy")}


def test_cardinality_comes_before_score() -> None:
    """One more pair beats a much better single pair."""
    people = [
        person("m1", MENTOR, interests={"a", "b", "c"}, maturity=5),
        person("m2", MENTOR),
        person("e1", MENTEE, interests={"a", "b", "c"}),
        person("e2", MENTEE, exclude={"m2"}),
    ]
    proposal = propose_pairs(people)
    assert {(p.mentor, p.mentee) for p in proposal.pairs} == {("m1", "e2"), ("m2", "e1")}


def test_previous_pairs_are_forbidden_unless_allowed() -> None:
    """An earlier cohort's pair comes back only when the admins allow repeats."""
    people = [person("m", MENTOR), person("e", MENTEE)]
    previous = frozenset({("e", "m")})
    refused = propose_pairs(people, CohortOptions(previous_pairs=previous))
    assert refused.pairs == ()
    assert {(u.id, u.reason) for u in refused.unmatched} == {
        ("m", NO_ALLOWED_PARTNER),
        ("e", NO_ALLOWED_PARTNER),
    }
    allowed = propose_pairs(people, CohortOptions(previous_pairs=previous, allow_repeats=True))
    assert [(p.mentor, p.mentee) for p in allowed.pairs] == [("m", "e")]


def test_capacity_applies_only_when_mentees_outnumber_mentors() -> None:
    """An even cohort keeps one mentee per mentor whatever the admins set."""
    even = [person("m1", MENTOR), person("m2", MENTOR, exclude={"e1", "e2"}),
            person("e1", MENTEE), person("e2", MENTEE)]  # fmt: skip
    proposal = propose_pairs(even, CohortOptions(capacity=2))
    assert proposal.capacity == 1
    assert len(proposal.pairs) == 1

    uneven = [person("m1", MENTOR), person("e1", MENTEE), person("e2", MENTEE),
              person("e3", MENTEE)]  # fmt: skip
    assert len(propose_pairs(uneven).pairs) == 1
    assert {u.reason for u in propose_pairs(uneven).unmatched} == {MORE_MENTEES}
    two = propose_pairs(uneven, CohortOptions(capacity=2))
    assert len(two.pairs) == 2
    assert [u.reason for u in two.unmatched] == [MORE_MENTEES]


def test_with_a_capacity_every_mentor_gets_one_before_anyone_gets_two() -> None:
    """The most people matched: a weaker mentor still gets a mentee over a better second pair."""
    strong = {"interests": {"a", "b", "c"}, "maturity": 5}
    people = [
        person("m1", MENTOR, **strong),
        person("m2", MENTOR, **strong),
        person("m3", MENTOR),
        *(person(f"e{k}", MENTEE, interests={"a", "b", "c"}) for k in range(4)),
    ]
    proposal = propose_pairs(people, CohortOptions(capacity=2))
    assert len(proposal.pairs) == 4
    assert {p.mentor for p in proposal.pairs} == {"m1", "m2", "m3"}
    assert proposal.unmatched == ()


def test_surplus_mentors_are_told_why() -> None:
    """Mentors left over in a mentor-heavy cohort get the reason."""
    people = [person("m1", MENTOR), person("m2", MENTOR), person("e1", MENTEE)]
    proposal = propose_pairs(people)
    assert [(u.id, u.role, u.reason) for u in proposal.unmatched] == [("m2", MENTOR, MORE_MENTORS)]


def test_admin_exclusions_and_fixed_pairs_shape_the_rerun() -> None:
    """`mentoring exclude` forbids a pair; `mentoring swap` fixes pairs, the rest re-solved."""
    people = small_cohort()
    excluded = propose_pairs(people, CohortOptions(excluded_pairs=frozenset({("di", "ana")})))
    assert excluded.pairs[0].mentee == "cy" and len(excluded.pairs) == 1
    fixed = propose_pairs(people, CohortOptions(required_pairs=(("ana", "cy"),)))
    assert {(p.mentor, p.mentee) for p in fixed.pairs} == {("ana", "cy")}
    assert {u.id for u in fixed.unmatched} == {"bo", "di"}
    with pytest.raises(PairingError, match="bo and di may not be paired"):
        propose_pairs(people, CohortOptions(required_pairs=(("bo", "di"),)))


@pytest.mark.parametrize(
    ("people", "message"),
    [
        ([person("m", MENTOR)], "at least two people; got 1"),
        ([person("a", MENTEE), person("b", MENTEE)], "all 2 are mentees"),
        ([person("a", MENTOR), person("a", MENTEE)], "participant a appears twice"),
        ([person("a", MENTOR, reports_to={"zz"}), person("b", MENTEE)],
         "a reports to zz, who is not in the cohort"),
        ([person("a", MENTOR), person("b", MENTEE, exclude={"b"})], "b excludes themselves"),
        ([person("a", MENTOR), person("b", MENTEE, reports_to={"b"})], "b reports to themselves"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_error(people: list[Participant], message: str) -> None:
    """Fewer than two people, one role, duplicates and unknown or self references are refused."""
    with pytest.raises(PairingError, match=message):
        propose_pairs(people)


def test_unknown_references_can_be_ignored() -> None:
    """A manager outside the cohort is dropped when the caller asks for it."""
    people = [person("a", MENTOR, reports_to={"boss"}), person("b", MENTEE)]
    proposal = propose_pairs(people, CohortOptions(ignore_unknown_references=True))
    assert isinstance(proposal, Proposal)
    assert [(p.mentor, p.mentee) for p in proposal.pairs] == [("a", "b")]


def test_capacity_below_one_is_refused() -> None:
    """A capacity of zero is an admin's mistake, not an empty proposal."""
    with pytest.raises(PairingError, match="capacity must be at least 1"):
        propose_pairs([person("a", MENTOR), person("b", MENTEE)], CohortOptions(capacity=0))
