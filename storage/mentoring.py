"""Queries of the reverse mentoring (SPEC 4); they never commit (the unit of work does)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from storage.models.mentoring import (
    MentoringCheckin,
    MentoringCohort,
    MentoringPair,
    MentoringParticipant,
)
from storage.models.programme import FORGOTTEN

ACTIVE = "active"


def cohort_by_name(session: Session, *, name: str, lock: bool = False) -> MentoringCohort | None:
    """The cohort with this name, compared without case."""
    statement = select(MentoringCohort).where(
        func.lower(col(MentoringCohort.name)) == name.strip().lower()
    )
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def cohort(session: Session, *, cohort_id: int, lock: bool = False) -> MentoringCohort | None:
    """The cohort with this id."""
    statement = select(MentoringCohort).where(col(MentoringCohort.id) == cohort_id)
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def participants(
    session: Session, *, cohort_id: int, status: str | None = None
) -> list[MentoringParticipant]:
    """A cohort's sign-ups, oldest first (optionally only those with this status)."""
    statement = select(MentoringParticipant).where(col(MentoringParticipant.cohort_id) == cohort_id)
    if status is not None:
        statement = statement.where(col(MentoringParticipant.status) == status)
    return list(session.exec(statement.order_by(col(MentoringParticipant.id))))


def participant(session: Session, *, cohort_id: int, user_id: str) -> MentoringParticipant | None:
    """One person's sign-up to a cohort."""
    return session.exec(
        select(MentoringParticipant).where(
            col(MentoringParticipant.cohort_id) == cohort_id,
            col(MentoringParticipant.user_id) == user_id,
        )
    ).first()


def participant_by_id(session: Session, *, participant_id: int) -> MentoringParticipant | None:
    """A sign-up by its id."""
    return session.get(MentoringParticipant, participant_id)


def latest_participation(session: Session, *, user_id: str) -> MentoringParticipant | None:
    """The person's sign-up to the most recent cohort that is not closed, if any."""
    return session.exec(
        select(MentoringParticipant)
        .join(MentoringCohort, col(MentoringCohort.id) == col(MentoringParticipant.cohort_id))
        .where(
            col(MentoringParticipant.user_id) == user_id,
            col(MentoringCohort.status) != "closed",
        )
        .order_by(col(MentoringCohort.id).desc())
    ).first()


def unmatched_of_confirmed_cohorts(session: Session, *, before: int) -> list[MentoringParticipant]:
    """Active sign-ups of earlier cohorts whose pairs were confirmed, never paired there."""
    paired = select(MentoringPair.id).where(
        col(MentoringPair.cohort_id) == col(MentoringParticipant.cohort_id),
        or_(
            col(MentoringPair.mentor_id) == col(MentoringParticipant.user_id),
            col(MentoringPair.mentee_id) == col(MentoringParticipant.user_id),
        ),
    )
    return list(
        session.exec(
            select(MentoringParticipant)
            .join(MentoringCohort, col(MentoringCohort.id) == col(MentoringParticipant.cohort_id))
            .where(
                col(MentoringCohort.id) < before,
                col(MentoringCohort.confirmed_version) > 0,
                col(MentoringParticipant.status) == ACTIVE,
                ~paired.exists(),
            )
            .order_by(col(MentoringParticipant.id))
        )
    )


def pairs(session: Session, *, cohort_id: int, status: str | None = None) -> list[MentoringPair]:
    """A cohort's pairs, in the order they were made."""
    statement = select(MentoringPair).where(col(MentoringPair.cohort_id) == cohort_id)
    if status is not None:
        statement = statement.where(col(MentoringPair.status) == status)
    return list(session.exec(statement.order_by(col(MentoringPair.id))))


def pair(session: Session, *, pair_id: int, lock: bool = False) -> MentoringPair | None:
    """One pair."""
    statement = select(MentoringPair).where(col(MentoringPair.id) == pair_id)
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def active_pair_of(session: Session, *, cohort_id: int, user_id: str) -> MentoringPair | None:
    """The active pair this person is in, in this cohort."""
    return session.exec(
        select(MentoringPair).where(
            col(MentoringPair.cohort_id) == cohort_id,
            col(MentoringPair.status) == ACTIVE,
            or_(col(MentoringPair.mentor_id) == user_id, col(MentoringPair.mentee_id) == user_id),
        )
    ).first()


def active_pairs_with(session: Session, *, user_id: str) -> list[MentoringPair]:
    """The active pairs this person is in, in any cohort, oldest first."""
    return list(
        session.exec(
            select(MentoringPair)
            .where(
                col(MentoringPair.status) == ACTIVE,
                or_(
                    col(MentoringPair.mentor_id) == user_id,
                    col(MentoringPair.mentee_id) == user_id,
                ),
            )
            .order_by(col(MentoringPair.id))
        )
    )


def earlier_pairs(session: Session, *, cohort_id: int) -> set[tuple[str, str]]:
    """Every (mentor, mentee) pair formed in another cohort."""
    rows = session.exec(
        select(col(MentoringPair.mentor_id), col(MentoringPair.mentee_id)).where(
            col(MentoringPair.cohort_id) != cohort_id
        )
    )
    return {(str(a), str(b)) for a, b in rows}


def checkin(session: Session, *, pair_id: int, meeting: int) -> MentoringCheckin | None:
    """A pair's check-in for one meeting."""
    return session.exec(
        select(MentoringCheckin).where(
            col(MentoringCheckin.pair_id) == pair_id, col(MentoringCheckin.meeting) == meeting
        )
    ).first()


def checkin_by_id(
    session: Session, *, checkin_id: int, lock: bool = False
) -> MentoringCheckin | None:
    """A check-in by its id."""
    statement = select(MentoringCheckin).where(col(MentoringCheckin.id) == checkin_id)
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def checkins(session: Session, *, pair_id: int) -> list[MentoringCheckin]:
    """A pair's check-ins, by meeting."""
    return list(
        session.exec(
            select(MentoringCheckin)
            .where(col(MentoringCheckin.pair_id) == pair_id)
            .order_by(col(MentoringCheckin.meeting))
        )
    )


def forget_user(session: Session, *, user_id: str) -> int:
    """Delete a person's sign-ups (sensitive), their pairs' notes, and their ID elsewhere.

    Their active pairs were ended first, as a leave ends them, with each partner told
    (bot.rules.mentoring.partners.forget_person): the sign-ups that says who to tell go here.
    """
    removed = session.execute(
        delete(MentoringParticipant).where(col(MentoringParticipant.user_id) == user_id)
    )
    # Notes on their pairs' check-ins may describe them, whoever wrote them.
    theirs = select(MentoringPair.id).where(
        or_(col(MentoringPair.mentor_id) == user_id, col(MentoringPair.mentee_id) == user_id)
    )
    session.execute(
        update(MentoringCheckin).where(col(MentoringCheckin.pair_id).in_(theirs)).values(note=None)
    )
    # A pair's score and reasons come from both sign-ups (shared interests, maturity levels):
    # next to the partner's name they would keep what the person told us.
    session.execute(
        update(MentoringPair)
        .where(
            or_(col(MentoringPair.mentor_id) == user_id, col(MentoringPair.mentee_id) == user_id)
        )
        .values(score=0, reasons=[])
    )
    session.execute(
        update(MentoringPair)
        .where(col(MentoringPair.mentor_id) == user_id)
        .values(mentor_id=FORGOTTEN, status="ended")
    )
    session.execute(
        update(MentoringPair)
        .where(col(MentoringPair.mentee_id) == user_id)
        .values(mentee_id=FORGOTTEN, status="ended")
    )
    session.execute(
        update(MentoringCheckin)
        .where(col(MentoringCheckin.answered_by) == user_id)
        .values(answered_by=FORGOTTEN)
    )
    session.execute(
        update(MentoringCohort)
        .where(col(MentoringCohort.created_by) == user_id)
        .values(created_by=FORGOTTEN)
    )
    _scrub_references(session, user_id)
    return int(getattr(removed, "rowcount", 0) or 0)


def _scrub_references(session: Session, user_id: str) -> None:
    """Others' sign-ups and the cohorts' proposals name people by ID: theirs goes."""
    for row in session.exec(select(MentoringParticipant)):
        exclude = [FORGOTTEN if u == user_id else u for u in row.exclude]
        if row.reports_to == user_id or exclude != row.exclude:
            row.reports_to = FORGOTTEN if row.reports_to == user_id else row.reports_to
            row.exclude = exclude
            session.add(row)
    for cohort_row in session.exec(select(MentoringCohort)):
        text = json.dumps(
            [
                _without_reasons(cohort_row.proposal, user_id),
                cohort_row.required_pairs,
                cohort_row.excluded_pairs,
            ]
        )
        if user_id in text:
            proposal, required, excluded = json.loads(text.replace(user_id, FORGOTTEN))
            cohort_row.proposal, cohort_row.required_pairs = proposal, required
            cohort_row.excluded_pairs = excluded
            session.add(cohort_row)


def _without_reasons(proposal: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The proposal with the person's pairs' scores and reasons (and why they were left
    unmatched) blanked: all of it is derived from their sign-up."""
    if not proposal:
        return proposal
    pairs = [
        p | {"score": 0, "reasons": []} if user_id in (p.get("mentor"), p.get("mentee")) else p
        for p in proposal.get("pairs", [])
    ]
    unmatched = [
        u | {"reason": ""} if u.get("id") == user_id else u for u in proposal.get("unmatched", [])
    ]
    total = sum(int(p.get("score", 0)) for p in pairs)
    return proposal | {"pairs": pairs, "unmatched": unmatched, "total": total}


def record_intro(session: Session, *, pair_id: int, channel: str, ts: str) -> None:
    """The pair's group DM and the introduction's ts (check-ins are posted there)."""
    session.execute(
        update(MentoringPair)
        .where(col(MentoringPair.id) == pair_id)
        .values(channel=channel, intro_ts=ts)
    )
