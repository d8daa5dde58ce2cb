"""A pair's changes after the confirm (SPEC 4): a pause or a leave ends it and its partner is
told, offered the pool, and may accept a new partner from it; forget-me ends a person's pairs
the same way. The cohort and its pool are in bot.rules.mentoring.cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.jobs import queue as jobs
from bot.rules.errors import Conflict, NotFound
from bot.rules.mentoring import checkins, cohorts
from bot.rules.mentoring.content import MentoringContent
from bot.rules.mentoring.pairing import Pair
from storage import mentoring as store
from storage.models.mentoring import MentoringCohort, MentoringPair


def new_pair(
    session: Session, *, cohort: MentoringCohort, pair: Pair, now: datetime
) -> MentoringPair:
    """A pair formed after the confirm (a partner's new partner from the pool)."""
    row = MentoringPair(
        cohort_id=cohorts.id_of(cohort),
        mentor_id=pair.mentor,
        mentee_id=pair.mentee,
        score=pair.score,
        reasons=list(pair.reasons),
        started_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    checkins.schedule_checkin(session, pair=row, cohort=cohort, meeting=1)
    jobs.schedule(
        session,
        kind=cohorts.INTROS,
        key=f"{cohorts.INTROS}:pair:{row.id}",
        due_at=now + cohorts.GRACE,
        payload=cohorts.Intros(pairs=[row.id], unmatched=[]),
    )
    return row


@dataclass(frozen=True)
class SteppedBack:
    """A pause or a leave: the cohort, and the partner to tell (with the follow-up's key)."""

    cohort_name: str
    partner_id: int | None
    key: str | None


def step_back(session: Session, *, user_id: str, status: str, now: datetime) -> SteppedBack:
    """Pause or leave the current cohort (no reason asked); the pair ends, the partner is told."""
    me = store.latest_participation(session, user_id=user_id)
    if me is None or me.status == cohorts.LEFT:
        raise NotFound("You are not taking part in a mentoring cohort at the moment.")
    cohort = cohorts.by_id(session, me.cohort_id)
    if me.status == status:
        raise Conflict(
            f"You have already {'paused' if status == cohorts.PAUSED else 'left'} {cohort.name}."
        )
    me.status, me.updated_at = status, now
    session.add(me)
    current = store.active_pair_of(session, cohort_id=me.cohort_id, user_id=user_id)
    if current is None:
        return SteppedBack(cohort.name, None, None)
    current.status, current.ended_at = cohorts.ENDED, now
    session.add(current)
    other = current.mentee_id if current.mentor_id == user_id else current.mentor_id
    partner = store.participant(session, cohort_id=me.cohort_id, user_id=other)
    if partner is None:
        return SteppedBack(cohort.name, None, None)
    assert current.id is not None
    key = f"{cohorts.PARTNER_LEFT}:{current.id}"
    jobs.schedule(
        session,
        kind=cohorts.PARTNER_LEFT,
        key=key,
        due_at=now + cohorts.GRACE,
        payload=cohorts.PartnerLeft(
            participant=cohorts.id_of(partner), cohort=cohorts.id_of(cohort)
        ),
    )
    return SteppedBack(cohort.name, cohorts.id_of(partner), key)


def accept_partner(
    session: Session, *, participant_id: int, user_id: str, content: MentoringContent, now: datetime
) -> MentoringPair:
    """The person said yes to a new partner: pair them with the best one in the pool now."""
    me = store.participant_by_id(session, participant_id=participant_id)
    if me is None or me.user_id != user_id:
        raise NotFound("This offer is not yours, or it has expired.")
    cohorts.by_id(session, me.cohort_id, lock=True)  # one new pair at a time per cohort
    offer = cohorts.offer_partner(session, participant_id=participant_id, content=content)
    if offer is None:
        raise Conflict(
            "Nobody in the pool can be your partner right now; the organisers will keep you "
            "in mind."
        )
    return new_pair(session, cohort=cohorts.by_id(session, me.cohort_id), pair=offer, now=now)


def forget_person(session: Session, *, user_id: str, now: datetime) -> int:
    """Forget-me in mentoring: the person's active pairs end as a leave ends them (each partner
    still taking part is told and offered the pool), then their sign-ups and their traces go
    (storage.mentoring.forget_user). Returns how many sign-ups were deleted."""
    for row in store.active_pairs_with(session, user_id=user_id):
        other = row.mentee_id if row.mentor_id == user_id else row.mentor_id
        row.status, row.ended_at = cohorts.ENDED, now
        session.add(row)
        partner = store.participant(session, cohort_id=row.cohort_id, user_id=other)
        if partner is None or partner.id is None:
            continue
        jobs.schedule(
            session,
            kind=cohorts.PARTNER_LEFT,
            key=f"{cohorts.PARTNER_LEFT}:{row.id}",
            due_at=now + cohorts.GRACE,
            payload=cohorts.PartnerLeft(participant=partner.id, cohort=row.cohort_id),
        )
    session.flush()
    return store.forget_user(session, user_id=user_id)
