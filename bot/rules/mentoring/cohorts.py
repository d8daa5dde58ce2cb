"""Cohorts (SPEC 4): create, call and close a cohort, and its pool; plain Python over a session.

A cohort is `open` while the admins review the pairing (bot.rules.mentoring.review), `running`
once they confirmed pairs (sign-up stays open: later sign-ups wait in the pool) and `closed` at
the end; a pair's own changes after that (a pause, a leave, a new partner) are in
bot.rules.mentoring.partners, its check-ins in bot.rules.mentoring.checkins. Slack work that
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
    Role,
    propose_pairs,
)
from storage import mentoring as store
from storage.models.mentoring import MentoringCohort, MentoringParticipant

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
# The follow-up that tells a partner theirs stepped back and offers the pool; scheduled by a
# pause, a leave and a forget-me alike (bot.rules.mentoring.partners).
PARTNER_LEFT = "mentoring_partner_left"
CLOSING = "mentoring_closing"


class Intros(jobs.Payload):
    """INTROS: the pairs to introduce and the participants left unmatched (participant ids)."""

    pairs: list[int] = []
    unmatched: list[int] = []


class PartnerLeft(jobs.Payload):
    """PARTNER_LEFT: the participant whose partner stepped back, and their cohort."""

    participant: int
    cohort: int | None = None


class Closing(jobs.Payload):
    """CLOSING: the participants told that their cohort closed."""

    participants: list[int] = []


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
    for row in store.unmatched_of_confirmed_cohorts(session, before=id_of(cohort)):
        latest[row.user_id] = row  # oldest first: the latest sign-up wins
    carried = []
    for user_id, row in sorted(latest.items()):
        if store.participant(session, cohort_id=id_of(cohort), user_id=user_id) is not None:
            continue
        session.add(
            MentoringParticipant(
                cohort_id=id_of(cohort),
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


# the pool


def participant_of(row: MentoringParticipant) -> Participant:
    """A sign-up as the pairing sees it."""
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
        for p in store.pairs(session, cohort_id=id_of(cohort), status=ACTIVE)
        for user in (p.mentor_id, p.mentee_id)
    }
    return [
        row
        for row in store.participants(session, cohort_id=id_of(cohort), status=ACTIVE)
        if row.user_id not in paired
    ]


def options(session: Session, cohort: MentoringCohort, content: MentoringContent) -> CohortOptions:
    """The cohort's pairing options: earlier pairs, the review's swaps and exclusions."""
    return CohortOptions(
        previous_pairs=frozenset(store.earlier_pairs(session, cohort_id=id_of(cohort))),
        excluded_pairs=frozenset((str(a), str(b)) for a, b in cohort.excluded_pairs),
        required_pairs=tuple((str(a), str(b)) for a, b in cohort.required_pairs),
        allow_repeats=cohort.allow_repeats,
        capacity=cohort.mentor_capacity,
        # Managers and colleagues named at sign-up are often not in the cohort.
        ignore_unknown_references=True,
        interest_labels=content.interest_labels(),
        level_names=content.level_names(),
    )


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
            [participant_of(p) for p in [me, *others]], options(session, cohort, content)
        )
    except PairingError:
        return None
    return next((p for p in proposal.pairs if me.user_id in (p.mentor, p.mentee)), None)


# close


def close(session: Session, *, cohort: MentoringCohort, now: datetime) -> tuple[list[int], str]:
    """Close the cohort once: pairs end, every participant is sent the closing assessment."""
    result = session.execute(
        update(MentoringCohort)
        .where(col(MentoringCohort.id) == id_of(cohort), col(MentoringCohort.status) != CLOSED)
        .values(status=CLOSED, closed_at=now)
    )
    if jobs.changed(result) != 1:
        raise Conflict(f"{cohort.name} is already closed.")
    for row in store.pairs(session, cohort_id=id_of(cohort), status=ACTIVE):
        row.status, row.ended_at = ENDED, now
        session.add(row)
    people = [
        id_of(p) for p in store.participants(session, cohort_id=id_of(cohort)) if p.status != LEFT
    ]
    key = f"{CLOSING}:{id_of(cohort)}"
    jobs.schedule(
        session, kind=CLOSING, key=key, due_at=now + GRACE, payload=Closing(participants=people)
    )
    return people, key


def id_of(row: Any) -> int:
    """A stored row's id (rows read from the database always have one)."""
    assert row.id is not None
    return int(row.id)
