"""Feedback answers (SPEC 2.4.2): one click per row, recorded with a conditional UPDATE; the
requester's answer decides the match's outcome, and "worked" earns the ally's BU points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session, col

from bot.config import Settings
from bot.jobs.queue import changed
from bot.rules.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.rules.feedback.prompts import NO_FEEDBACK, REQUESTER
from bot.rules.points import ledger
from storage.models.feedback import Feedback
from storage.models.requests import Match
from storage.types import utcnow

WORKED = ledger.WORKED
NOT_WORKED = "not_worked"
ANSWERS = (WORKED, NOT_WORKED)


@dataclass(frozen=True)
class AnswerResult:
    """What a click did: recorded or not, and the messages that show the buttons."""

    recorded: bool
    answer: str
    role: str
    outcome_decided: bool
    points_awarded: bool
    refs: tuple[tuple[str, str], ...]


def check_owner(session: Session, row: Feedback, user_id: str) -> Match:
    """The row's match, if this person may answer or comment on the row; else a refusal."""
    match = session.get(Match, row.match_id)
    if match is None:
        raise NotFound("That allyship no longer exists.")
    if row.user_id is not None:
        if row.user_id != user_id:
            raise NotAllowed("This feedback button was sent to someone else.")
        return match
    # The anonymous requester: their ID is never stored. The token went only into their own
    # DM, which nobody else can see or click; still, no other participant may use it.
    others = session.execute(
        select(col(Feedback.user_id)).where(col(Feedback.match_id) == row.match_id)
    ).scalars()
    if user_id in {match.ally_user_id, *others}:
        raise NotAllowed("This feedback button was sent to someone else.")
    return match


def _refs(row: Feedback) -> tuple[tuple[str, str], ...]:
    pairs = ((row.prompt_channel, row.prompt_ts), (row.reminder_channel, row.reminder_ts))
    return tuple((channel, ts) for channel, ts in pairs if channel and ts)


def answer_and_refs(
    session: Session, *, token: str
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """A feedback row's answer and the messages that carried its buttons."""
    row = session.execute(select(Feedback).where(col(Feedback.token) == token)).scalars().first()
    return (row.answer, _refs(row)) if row else (None, ())


def record_answer(
    session: Session,
    *,
    token: str,
    user_id: str,
    answer: str,
    settings: Settings,
    now: datetime | None = None,
) -> AnswerResult:
    """Record a click once; the requester's answer decides the outcome (and the points)."""
    now = now or utcnow()
    if answer not in ANSWERS:
        raise InvalidInput("That is not a feedback answer.")
    row = session.execute(select(Feedback).where(col(Feedback.token) == token)).scalars().first()
    if row is None:
        raise NotFound("That feedback request no longer exists.")
    match = check_owner(session, row, user_id)
    if match.outcome == NO_FEEDBACK:
        raise Conflict("Feedback on this allyship has closed.")
    refs = _refs(row)
    # Conditional: of two clicks (or two replicas), exactly one finds answer still empty.
    result = session.execute(
        update(Feedback)
        .where(col(Feedback.id) == row.id, col(Feedback.answer).is_(None))
        .values(answer=answer, answered_at=now)
    )
    if changed(result) != 1:
        session.refresh(row)
        return AnswerResult(False, row.answer or answer, row.role, False, False, refs)
    decided = awarded = False
    if row.role == REQUESTER:
        decided = (
            changed(
                session.execute(
                    update(Match)
                    .where(col(Match.id) == match.id, col(Match.outcome).is_(None))
                    .values(outcome=answer, closed_at=now)
                )
            )
            == 1
        )
        if decided and answer == WORKED:
            assert match.id is not None
            awarded = ledger.award_allyship(
                session, match_id=match.id, settings=settings, now=now
            ).awarded
    return AnswerResult(True, answer, row.role, decided, awarded, refs)
