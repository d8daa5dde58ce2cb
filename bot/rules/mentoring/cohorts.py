"""Cohorts (SPEC 4): create, call, review the pairing, confirm, close; plain Python over a session.

A cohort is `open` while the admins review the pairing, `running` once they confirmed pairs
(sign-up stays open: later sign-ups wait in the pool) and `closed` at the end. Slack work that
must happen exactly once (introductions, notices, closing assessments) is a due item written
in the same unit of work as the change; the handlers run it at once, the scheduler if that
fails, and each step is recorded so nothing is sent twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from bot.config import parse_duration
from bot.jobs import queue as jobs
from bot.rules.errors import Conflict, InvalidInput, NotFound
from bot.rules.mentoring.content import MentoringContent
from bot.rules.mentoring.pairing import (
    CohortOptions,
    Pair,
    PairingError,
    Participant,
    Proposal,
    Role,
    propose_pairs,
)
from storage import mentoring as store
from storage.models.mentoring import MentoringCohort, MentoringPair, MentoringParticipant

OPEN = "open"
RUNNING = "running"
CLOSED = "closed"
ACTIVE = "active"
PAUSED = "paused"
LEFT = "left"
ENDED = "ended"

NAME_MAX = 80
MONTHS_MAX = 36
# Due kinds: Slack follow-ups written with the change that needs them.
INTROS = "mentoring_intros"
PARTNER_LEFT = store.PARTNER_LEFT
CLOSING = "mentoring_closing"
# How long the scheduler waits before it steps in for a listener that did not finish.
GRACE = timedelta(minutes=1)
# A month, for a cohort's length (its end date is a guide, not a contract).
MONTH = timedelta(days=30)

COHORT_USAGE = "`/ally-admin mentoring cohort NAME MONTHS CADENCE` (e.g. `Spring 6 2w`)"
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class CohortSpec:
    """What `mentoring cohort` asked for."""

    name: str
    months: int
    cadence: timedelta


def parse_cohort(args: str) -> CohortSpec:
    """`NAME MONTHS CADENCE` (the name may hold spaces); InvalidInput naming what is wrong."""
    words = args.split()
    if len(words) < 3:
        raise InvalidInput(f"Give a name, a length in months and a cadence: {COHORT_USAGE}.")
    name, months_text, cadence_text = " ".join(words[:-2]), words[-2], words[-1]
    if not months_text.isdigit() or not 1 <= int(months_text) <= MONTHS_MAX:
        raise InvalidInput(
            f"`{months_text[:20]}` is not a number of months: use a whole number from 1 to "
            f"{MONTHS_MAX}. {COHORT_USAGE}."
        )
    try:
        cadence = parse_duration(cadence_text)
    except ValueError:
        raise InvalidInput(
            f"`{cadence_text[:20]}` is not a cadence: use a number and a unit, e.g. `2w`, "
            f"`14d`, `15s`. {COHORT_USAGE}."
        ) from None
    return CohortSpec(name=check_name(name), months=int(months_text), cadence=cadence)


def check_name(name: str) -> str:
    """A cohort name as typed: plain, short text."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX or _MENTION.search(name) or "<" in name:
        raise InvalidInput(f"A cohort name is plain text of 1 to {NAME_MAX} characters.")
    return name


def create(session: Session, *, spec: CohortSpec, actor: str) -> MentoringCohort:
    """Create a cohort; Conflict if the name is taken (names compare without case)."""
    if store.cohort_by_name(session, name=spec.name) is not None:
        raise Conflict(f"A cohort called {spec.name} already exists; choose another name.")
    cohort = MentoringCohort(
        name=spec.name,
        months=spec.months,
        cadence_seconds=int(spec.cadence.total_seconds()),
        created_by=actor,
    )
    session.add(cohort)
    session.flush()
    carry_over(session, cohort=cohort)
    return cohort


def carry_over(session: Session, *, cohort: MentoringCohort) -> list[str]:
    """Bring the people an earlier cohort's pairing left unmatched into this one (SPEC 4:
    "kept for the next cohort"), with their answers; signing up again updates them."""
    latest: dict[str, MentoringParticipant] = {}
    for row in store.unmatched_of_confirmed_cohorts(session, before=_id(cohort)):
        latest[row.user_id] = row  # oldest first: the latest sign-up wins
    carried = []
    for user_id, row in sorted(latest.items()):
        if store.participant(session, cohort_id=_id(cohort), user_id=user_id) is not None:
            continue
        session.add(
            MentoringParticipant(
                cohort_id=_id(cohort),
                user_id=user_id,
                role=row.role,
                business_unit=row.business_unit,
                country=row.country,
                seniority=row.seniority,
                interests=list(row.interests),
                reports_to=row.reports_to,
                exclude=list(row.exclude),
                behaviours_before=list(row.behaviours_before),
                level_before=row.level_before,
            )
        )
        carried.append(user_id)
    session.flush()
    return carried


def named(session: Session, name: str, *, lock: bool = False) -> MentoringCohort:
    """The cohort with this name; NotFound otherwise."""
    cohort = store.cohort_by_name(session, name=name, lock=lock)
    if cohort is None:
        raise NotFound(f"There is no cohort called {' '.join(name.split())[:NAME_MAX]}.")
    return cohort


def by_id(session: Session, cohort_id: int, *, lock: bool = False) -> MentoringCohort:
    """The cohort with this id; NotFound otherwise."""
    cohort = store.cohort(session, cohort_id=cohort_id, lock=lock)
    if cohort is None:
        raise NotFound("That cohort no longer exists.")
    return cohort


def cadence(cohort: MentoringCohort) -> timedelta:
    """The cohort's meeting cadence."""
    return timedelta(seconds=cohort.cadence_seconds)


def describe_cadence(cohort: MentoringCohort) -> str:
    """The cadence in words, e.g. `every 2 weeks`."""
    seconds = cohort.cadence_seconds
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return (
                f"every {count} {unit}{'' if count == 1 else 's'}" if count > 1 else f"every {unit}"
            )
    return f"every {seconds} seconds"


def record_call(session: Session, *, cohort_id: int, channel: str, ts: str) -> None:
    """Remember where the call for participants was posted."""
    cohort = by_id(session, cohort_id)
    cohort.call_channel, cohort.call_ts = channel, ts
    session.add(cohort)


def split_mentions(args: str) -> tuple[str, list[str]]:
    """`NAME <@U1> <@U2>`: the name before the first mention and the mentioned IDs."""
    first = _MENTION.search(args)
    name = args[: first.start()] if first else args
    return " ".join(name.split()), _MENTION.findall(args)


# pairing review


def _participant(row: MentoringParticipant) -> Participant:
    return Participant(
        id=row.user_id,
        role=Role(row.role),
        business_unit=row.business_unit,
        country=row.country,
        seniority=row.seniority,
        interests=frozenset(str(i) for i in row.interests),
        maturity=row.level_before,
        reports_to=frozenset([row.reports_to]) if row.reports_to else frozenset(),
        exclude=frozenset(str(u) for u in row.exclude),
    )


def pool(session: Session, cohort: MentoringCohort) -> list[MentoringParticipant]:
    """Active sign-ups without an active pair: who the next pairing considers."""
    paired = {
        user
        for p in store.pairs(session, cohort_id=_id(cohort), status=ACTIVE)
        for user in (p.mentor_id, p.mentee_id)
    }
    return [
        row
        for row in store.participants(session, cohort_id=_id(cohort), status=ACTIVE)
        if row.user_id not in paired
    ]


def options(session: Session, cohort: MentoringCohort, content: MentoringContent) -> CohortOptions:
    """The cohort's pairing options: earlier pairs, the review's swaps and exclusions."""
    return CohortOptions(
        previous_pairs=frozenset(store.earlier_pairs(session, cohort_id=_id(cohort))),
        excluded_pairs=frozenset((str(a), str(b)) for a, b in cohort.excluded_pairs),
        required_pairs=tuple((str(a), str(b)) for a, b in cohort.required_pairs),
        allow_repeats=cohort.allow_repeats,
        capacity=cohort.mentor_capacity,
        # Managers and colleagues named at sign-up are often not in the cohort.
        ignore_unknown_references=True,
        interest_labels=content.interest_labels(),
        level_names=content.level_names(),
    )


def _solve(
    session: Session, cohort: MentoringCohort, content: MentoringContent, people: list[Any]
) -> Proposal:
    try:
        return propose_pairs([_participant(p) for p in people], options(session, cohort, content))
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
    if cohort.status == CLOSED:
        raise Conflict(f"{cohort.name} is closed.")
    people = pool(session, cohort)
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
    waiting = {p.user_id: p for p in pool(session, cohort)}
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
    roles = {p.user_id: p.role for p in pool(session, cohort)}
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
    return f"{INTROS}:{cohort_id}:{version}"


def confirm(session: Session, *, cohort_id: int, version: int, now: datetime) -> Confirmed:
    """Confirm the proposal shown with this number, once (double clicks, replicas)."""
    result = session.execute(
        update(MentoringCohort)
        .where(
            col(MentoringCohort.id) == cohort_id,
            col(MentoringCohort.proposal_version) == version,
            col(MentoringCohort.confirmed_version) < version,
            col(MentoringCohort.status) != CLOSED,
        )
        .values(confirmed_version=version)
    )
    cohort = by_id(session, cohort_id)
    if jobs.changed(result) != 1:
        if cohort.confirmed_version >= version:
            raise Conflict(f"These pairs of {cohort.name} are already confirmed.")
        if cohort.status == CLOSED:
            raise Conflict(f"{cohort.name} is closed.")
        raise Conflict(
            f"The proposal for {cohort.name} changed since this one was shown; "
            "confirm the latest one."
        )
    waiting = {p.user_id: p for p in pool(session, cohort)}
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
        schedule_checkin(session, pair=row, cohort=cohort, meeting=1)
    unmatched = [_id(p) for u, p in waiting.items() if u not in matched]
    if cohort.status == OPEN:
        cohort.status = RUNNING
        cohort.confirmed_at = now
        cohort.ends_at = now + MONTH * cohort.months
    cohort.required_pairs = []
    session.add(cohort)
    key = intros_key(cohort_id, version)
    jobs.schedule(
        session,
        kind=INTROS,
        key=key,
        due_at=now + GRACE,
        payload={"pairs": pair_ids, "unmatched": unmatched},
    )
    return Confirmed(pair_ids=pair_ids, unmatched_ids=unmatched, key=key)


# check-ins are scheduled here (a pair's start) and in checkins (each next one)

CHECKIN = "mentoring_checkin"


def checkin_key(pair_id: int, meeting: int) -> str:
    """One check-in of one pair: the key that makes it once, whoever sweeps."""
    return f"{CHECKIN}:{pair_id}:{meeting}"


def schedule_checkin(
    session: Session, *, pair: MentoringPair, cohort: MentoringCohort, meeting: int
) -> bool:
    """Schedule the pair's check-in for this meeting, unless it falls after the cohort ends."""
    due = pair.started_at + cadence(cohort) * meeting
    if cohort.ends_at is not None and due > cohort.ends_at:
        return False
    assert pair.id is not None
    jobs.schedule(
        session,
        kind=CHECKIN,
        key=checkin_key(pair.id, meeting),
        due_at=due,
        payload={"pair": pair.id, "meeting": meeting},
    )
    return True


def new_pair(
    session: Session, *, cohort: MentoringCohort, pair: Pair, now: datetime
) -> MentoringPair:
    """A pair formed after the confirm (a partner's new partner from the pool)."""
    row = MentoringPair(
        cohort_id=_id(cohort),
        mentor_id=pair.mentor,
        mentee_id=pair.mentee,
        score=pair.score,
        reasons=list(pair.reasons),
        started_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    schedule_checkin(session, pair=row, cohort=cohort, meeting=1)
    jobs.schedule(
        session,
        kind=INTROS,
        key=f"{INTROS}:pair:{row.id}",
        due_at=now + GRACE,
        payload={"pairs": [row.id], "unmatched": []},
    )
    return row


# pause, leave, a new partner


@dataclass(frozen=True)
class SteppedBack:
    """A pause or a leave: the cohort, and the partner to tell (with the follow-up's key)."""

    cohort_name: str
    partner_id: int | None
    key: str | None


def step_back(session: Session, *, user_id: str, status: str, now: datetime) -> SteppedBack:
    """Pause or leave the current cohort (no reason asked); the pair ends, the partner is told."""
    me = store.latest_participation(session, user_id=user_id)
    if me is None or me.status == LEFT:
        raise NotFound("You are not taking part in a mentoring cohort at the moment.")
    cohort = by_id(session, me.cohort_id)
    if me.status == status:
        raise Conflict(
            f"You have already {'paused' if status == PAUSED else 'left'} {cohort.name}."
        )
    me.status, me.updated_at = status, now
    session.add(me)
    current = store.active_pair_of(session, cohort_id=me.cohort_id, user_id=user_id)
    if current is None:
        return SteppedBack(cohort.name, None, None)
    current.status, current.ended_at = ENDED, now
    session.add(current)
    other = current.mentee_id if current.mentor_id == user_id else current.mentor_id
    partner = store.participant(session, cohort_id=me.cohort_id, user_id=other)
    if partner is None:
        return SteppedBack(cohort.name, None, None)
    assert current.id is not None
    key = f"{PARTNER_LEFT}:{current.id}"
    jobs.schedule(
        session,
        kind=PARTNER_LEFT,
        key=key,
        due_at=now + GRACE,
        payload={"participant": _id(partner), "cohort": _id(cohort)},
    )
    return SteppedBack(cohort.name, _id(partner), key)


def offer_partner(
    session: Session, *, participant_id: int, content: MentoringContent
) -> Pair | None:
    """The best partner for this person from the cohort's pool (pairing re-used), if any."""
    me = store.participant_by_id(session, participant_id=participant_id)
    if me is None or me.status != ACTIVE:
        return None
    cohort = by_id(session, me.cohort_id)
    if cohort.status != RUNNING:
        return None
    waiting = pool(session, cohort)
    if me.user_id not in {p.user_id for p in waiting}:
        return None
    others = [p for p in waiting if p.role != me.role]
    if not others:
        return None
    try:
        proposal = propose_pairs(
            [_participant(p) for p in [me, *others]], options(session, cohort, content)
        )
    except PairingError:
        return None
    return next((p for p in proposal.pairs if me.user_id in (p.mentor, p.mentee)), None)


def accept_partner(
    session: Session, *, participant_id: int, user_id: str, content: MentoringContent, now: datetime
) -> MentoringPair:
    """The person said yes to a new partner: pair them with the best one in the pool now."""
    me = store.participant_by_id(session, participant_id=participant_id)
    if me is None or me.user_id != user_id:
        raise NotFound("This offer is not yours, or it has expired.")
    by_id(session, me.cohort_id, lock=True)  # one new pair at a time per cohort
    offer = offer_partner(session, participant_id=participant_id, content=content)
    if offer is None:
        raise Conflict(
            "Nobody in the pool can be your partner right now; the organisers will keep you "
            "in mind."
        )
    return new_pair(session, cohort=by_id(session, me.cohort_id), pair=offer, now=now)


# close


def close(session: Session, *, cohort: MentoringCohort, now: datetime) -> tuple[list[int], str]:
    """Close the cohort once: pairs end, every participant is sent the closing assessment."""
    result = session.execute(
        update(MentoringCohort)
        .where(col(MentoringCohort.id) == _id(cohort), col(MentoringCohort.status) != CLOSED)
        .values(status=CLOSED, closed_at=now)
    )
    if jobs.changed(result) != 1:
        raise Conflict(f"{cohort.name} is already closed.")
    for row in store.pairs(session, cohort_id=_id(cohort), status=ACTIVE):
        row.status, row.ended_at = ENDED, now
        session.add(row)
    people = [
        _id(p) for p in store.participants(session, cohort_id=_id(cohort)) if p.status != LEFT
    ]
    key = f"{CLOSING}:{_id(cohort)}"
    jobs.schedule(
        session, kind=CLOSING, key=key, due_at=now + GRACE, payload={"participants": people}
    )
    return people, key


def _id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)
