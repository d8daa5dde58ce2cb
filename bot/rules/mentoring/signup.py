"""Sign-up to a cohort and the closing self-assessment (SPEC 4); sign-up data is sensitive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.rules.errors import Conflict, InvalidInput, NotFound
from bot.rules.mentoring import cohorts
from bot.rules.mentoring.content import MentoringContent
from storage import mentoring as store
from storage.models.mentoring import MentoringCohort, MentoringParticipant

TEXT_MAX = 100  # business unit, country, seniority


@dataclass(frozen=True)
class SignupForm:
    """The `mentoring_signup` view's values (block_ids of SPEC 5.2)."""

    role: str
    business_unit: str
    country: str
    seniority: str
    interests: tuple[str, ...]
    reports_to: str | None = None
    exclude: tuple[str, ...] = ()
    behaviours: tuple[str, ...] = field(default_factory=tuple)


def open_for_signup(session: Session, cohort_id: int, *, now: datetime) -> MentoringCohort:
    """The cohort, if it still takes sign-ups (until it closes or its end date passes)."""
    cohort = cohorts.by_id(session, cohort_id)
    if cohort.status == cohorts.CLOSED or (cohort.ends_at is not None and now >= cohort.ends_at):
        raise Conflict(f"Sign-up to {cohort.name} has closed. Watch for the next call.")
    return cohort


def check(form: SignupForm, *, user_id: str, content: MentoringContent) -> SignupForm:
    """The form, cleaned; InvalidInput naming the field (its block_id) otherwise."""
    if form.role not in ("mentor", "mentee"):
        raise InvalidInput("Choose mentor or mentee.", "role")
    cleaned: dict[str, str] = {}
    for name in ("business_unit", "country", "seniority"):
        value = " ".join(str(getattr(form, name) or "").split())
        if not value:
            raise InvalidInput("Please fill this in.", name)
        if len(value) > TEXT_MAX:
            raise InvalidInput(f"At most {TEXT_MAX} characters, please.", name)
        cleaned[name] = value
    known = {i.id for i in content.interests}
    interests = tuple(dict.fromkeys(i for i in form.interests if i in known))
    if not interests:
        raise InvalidInput(
            "Choose at least one interest: it helps find you a partner.", "interests"
        )
    if form.reports_to == user_id:
        raise InvalidInput("Name the person you report to, not yourself.", "reports_to")
    if user_id in form.exclude:
        raise InvalidInput("You cannot exclude yourself; leave yourself out.", "exclude")
    behaviours = tuple(b for b in dict.fromkeys(form.behaviours) if content.framework.behaviour(b))
    return SignupForm(
        role=form.role,
        interests=interests,
        reports_to=form.reports_to or None,
        exclude=tuple(dict.fromkeys(form.exclude)),
        behaviours=behaviours,
        **cleaned,
    )


@dataclass(frozen=True)
class Saved:
    """A saved sign-up: whether it was new, and whether it waits in the pool (after confirm)."""

    participant_id: int
    created: bool
    pooled: bool
    cohort_name: str


def save(
    session: Session,
    *,
    cohort_id: int,
    user_id: str,
    form: SignupForm,
    content: MentoringContent,
    now: datetime,
) -> Saved:
    """Create or update this person's sign-up (signing up twice updates; a pause ends)."""
    cohort = open_for_signup(session, cohort_id, now=now)
    row = store.participant(session, cohort_id=cohort_id, user_id=user_id)
    created = row is None
    if row is None:
        row = MentoringParticipant(cohort_id=cohort_id, user_id=user_id, role=form.role)
    paired = store.active_pair_of(session, cohort_id=cohort_id, user_id=user_id)
    if paired is not None and row.role != form.role:
        raise InvalidInput("You already have a partner; your role cannot change now.", "role")
    row.role = form.role
    row.business_unit, row.country, row.seniority = (
        form.business_unit,
        form.country,
        form.seniority,
    )
    row.interests = list(form.interests)
    row.reports_to = form.reports_to
    row.exclude = list(form.exclude)
    row.behaviours_before = list(form.behaviours)
    row.level_before = content.framework.level_for(form.behaviours)
    row.status = cohorts.ACTIVE
    row.updated_at = now
    session.add(row)
    session.flush()
    assert row.id is not None
    return Saved(row.id, created, cohort.status == cohorts.RUNNING and paired is None, cohort.name)


def assessment_owner(
    session: Session, *, participant_id: int, user_id: str
) -> MentoringParticipant:
    """The sign-up a closing assessment is for, if it is this person's."""
    row = store.participant_by_id(session, participant_id=participant_id)
    if row is None or row.user_id != user_id:
        raise NotFound("This assessment is not yours, or it has expired.")
    return row


def save_assessment(
    session: Session,
    *,
    participant_id: int,
    user_id: str,
    behaviours: tuple[str, ...],
    content: MentoringContent,
) -> MentoringParticipant:
    """Record the closing self-assessment (again: the latest counts)."""
    row = assessment_owner(session, participant_id=participant_id, user_id=user_id)
    ticked = [b for b in dict.fromkeys(behaviours) if content.framework.behaviour(b)]
    row.behaviours_after = ticked
    row.level_after = content.framework.level_for(ticked)
    session.add(row)
    return row
