"""The admins' review of a cohort's pairing (SPEC 4): propose, swap, exclude, confirm.

A proposal is stored on the cohort under a new number each time it is made; confirming takes
the number shown, once, so a double click or a stale card confirms nothing twice. The
confirm makes the pairs, schedules their first check-in and the introductions' due item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from bot.jobs import queue as jobs
from bot.rules.errors import Conflict, InvalidInput
from bot.rules.mentoring import checkins, cohorts
from bot.rules.mentoring.content import MentoringContent
from bot.rules.mentoring.pairing import PairingError, Proposal, Role, propose_pairs
from storage.models.mentoring import MentoringCohort, MentoringPair


def _solve(
    session: Session, cohort: MentoringCohort, content: MentoringContent, people: list[Any]
) -> Proposal:
    try:
        return propose_pairs(
            [cohorts.participant_of(p) for p in people], cohorts.options(session, cohort, content)
        )
    except PairingError as error:
        raise InvalidInput(f"These people cannot be paired: {error}.") from None


PAIR_USAGE = "`mentoring pair NAME [--capacity N] [--allow-repeats]`"
_CAPACITY = re.compile(r"\s--capacity(?:\s+(\S+))?(?=\s|$)")
_REPEATS = re.compile(r"\s--allow-repeats(?=\s|$)")
CAPACITY_MAX = 10


@dataclass(frozen=True)
class PairRequest:
    """`mentoring pair`'s words: the cohort's name and what the admins allow (None: unchanged)."""

    name: str
    capacity: int | None = None
    allow_repeats: bool | None = None


def parse_pair_request(text: str) -> PairRequest:
    """Read `NAME [--capacity N] [--allow-repeats]`; InvalidInput names what is wrong."""
    padded = " " + text
    capacity: int | None = None
    found = _CAPACITY.search(padded)
    if found:
        value = found.group(1) or ""
        if not value.isdigit() or not 1 <= int(value) <= CAPACITY_MAX:
            raise InvalidInput(
                f"A mentor's capacity is a whole number from 1 to {CAPACITY_MAX} (at least 1 "
                f"mentee each); got {value or 'nothing'}. Usage: {PAIR_USAGE}."
            )
        capacity = int(value)
        padded = padded[: found.start()] + padded[found.end() :]
    repeats = _REPEATS.search(padded)
    if repeats:
        padded = padded[: repeats.start()] + padded[repeats.end() :]
    return PairRequest(padded.strip(), capacity, True if repeats else None)


def allow(cohort: MentoringCohort, request: PairRequest) -> None:
    """Record what the admins allowed for this cohort's pairing (kept for the review's re-runs)."""
    if request.capacity is not None:
        cohort.mentor_capacity = request.capacity
    if request.allow_repeats is not None:
        cohort.allow_repeats = request.allow_repeats


def propose(
    session: Session, *, cohort: MentoringCohort, content: MentoringContent
) -> dict[str, Any]:
    """Pair the pool, store the proposal under a new number and return it (never confirms)."""
    if cohort.status == cohorts.CLOSED:
        raise Conflict(f"{cohort.name} is closed.")
    people = cohorts.pool(session, cohort)
    if len(people) < 2:
        raise InvalidInput(
            f"{cohort.name} has {len(people)} {'person' if len(people) == 1 else 'people'} "
            "waiting to be paired; pairing needs at least two (a mentor and a mentee)."
        )
    if len({p.role for p in people}) < 2:
        raise InvalidInput(
            f"Everyone waiting in {cohort.name} signed up as a {people[0].role}; pairing needs "
            "at least one mentor and one mentee."
        )
    proposal = _solve(session, cohort, content, people)
    cohort.proposal_version += 1
    cohort.proposal = {
        "version": cohort.proposal_version,
        "pairs": [
            {"mentor": p.mentor, "mentee": p.mentee, "score": p.score, "reasons": list(p.reasons)}
            for p in proposal.pairs
        ],
        "unmatched": [
            {"id": u.id, "role": u.role.value, "reason": u.reason} for u in proposal.unmatched
        ],
        "total": proposal.total_score,
    }
    session.add(cohort)
    return cohort.proposal


def _members(session: Session, cohort: MentoringCohort, users: list[str]) -> None:
    waiting = {p.user_id: p for p in cohorts.pool(session, cohort)}
    for user in users:
        if user not in waiting:
            raise InvalidInput(
                f"<@{user}> is not waiting to be paired in {cohort.name}: name two people "
                "who signed up and have no confirmed partner."
            )
    if len(set(users)) != 2:
        raise InvalidInput("Name two different people.")


def swap(
    session: Session, *, cohort: MentoringCohort, users: list[str], content: MentoringContent
) -> dict[str, Any]:
    """A mentor and a mentee: pair them. Two of one role: they exchange partners. Re-runs."""
    _members(session, cohort, users)
    roles = {p.user_id: p.role for p in cohorts.pool(session, cohort)}
    a, b = users
    current = {(p["mentor"], p["mentee"]) for p in cohort.proposal.get("pairs", [])}
    partner = {m: e for m, e in current} | {e: m for m, e in current}
    if roles[a] != roles[b]:
        fixed = [(a, b) if roles[a] == Role.MENTOR.value else (b, a)]
    else:
        if a not in partner or b not in partner:
            raise InvalidInput(
                "To exchange partners both must be paired in the current proposal; "
                "run `mentoring pair` first, or name a mentor and a mentee to pair them."
            )
        if roles[a] == Role.MENTOR.value:
            fixed = [(a, partner[b]), (b, partner[a])]
        else:
            fixed = [(partner[b], a), (partner[a], b)]
    touched = {u for pair in fixed for u in pair}
    kept = [list(p) for p in cohort.required_pairs if not touched & set(p)]
    before = list(cohort.required_pairs)
    cohort.required_pairs = kept + [list(p) for p in fixed]
    try:
        return propose(session, cohort=cohort, content=content)
    except InvalidInput:
        cohort.required_pairs = before
        raise


def exclude(
    session: Session, *, cohort: MentoringCohort, users: list[str], content: MentoringContent
) -> dict[str, Any]:
    """Rule out pairing these two (either way round) in this cohort, then re-run."""
    _members(session, cohort, users)
    a, b = users
    cohort.excluded_pairs = [*cohort.excluded_pairs, [a, b]]
    cohort.required_pairs = [p for p in cohort.required_pairs if set(p) != {a, b}]
    return propose(session, cohort=cohort, content=content)


@dataclass(frozen=True)
class Confirmed:
    """What a confirm made: the new pairs, the people told they wait, the follow-up's key."""

    pair_ids: list[int]
    unmatched_ids: list[int]
    key: str


def intros_key(cohort_id: int, version: int) -> str:
    """The due item that introduces one confirmed proposal's pairs."""
    return f"{cohorts.INTROS}:{cohort_id}:{version}"


def confirm(session: Session, *, cohort_id: int, version: int, now: datetime) -> Confirmed:
    """Confirm the proposal shown with this number, once (double clicks, replicas)."""
    result = session.execute(
        update(MentoringCohort)
        .where(
            col(MentoringCohort.id) == cohort_id,
            col(MentoringCohort.proposal_version) == version,
            col(MentoringCohort.confirmed_version) < version,
            col(MentoringCohort.status) != cohorts.CLOSED,
        )
        .values(confirmed_version=version)
    )
    cohort = cohorts.by_id(session, cohort_id)
    if jobs.changed(result) != 1:
        if cohort.confirmed_version >= version:
            raise Conflict(f"These pairs of {cohort.name} are already confirmed.")
        if cohort.status == cohorts.CLOSED:
            raise Conflict(f"{cohort.name} is closed.")
        raise Conflict(
            f"The proposal for {cohort.name} changed since this one was shown; "
            "confirm the latest one."
        )
    waiting = {p.user_id: p for p in cohorts.pool(session, cohort)}
    pair_ids: list[int] = []
    matched: set[str] = set()
    for entry in cohort.proposal.get("pairs", []):
        mentor, mentee = str(entry["mentor"]), str(entry["mentee"])
        if mentor not in waiting or mentee not in waiting:
            continue  # left or paused since the proposal was shown
        row = MentoringPair(
            cohort_id=cohort_id,
            mentor_id=mentor,
            mentee_id=mentee,
            score=int(entry["score"]),
            reasons=list(entry["reasons"]),
            started_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        pair_ids.append(row.id)
        matched |= {mentor, mentee}
        checkins.schedule_checkin(session, pair=row, cohort=cohort, meeting=1)
    unmatched = [cohorts.id_of(p) for u, p in waiting.items() if u not in matched]
    if cohort.status == cohorts.OPEN:
        cohort.status = cohorts.RUNNING
        cohort.confirmed_at = now
        cohort.ends_at = now + cohorts.MONTH * cohort.months
    cohort.required_pairs = []
    session.add(cohort)
    key = intros_key(cohort_id, version)
    jobs.schedule(
        session,
        kind=cohorts.INTROS,
        key=key,
        due_at=now + cohorts.GRACE,
        payload=cohorts.Intros(pairs=pair_ids, unmatched=unmatched),
    )
    return Confirmed(pair_ids=pair_ids, unmatched_ids=unmatched, key=key)
