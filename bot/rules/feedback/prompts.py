"""Feedback prompts (SPEC 2.4.1): who is asked, when the prompt, the reminder and the close
are due, and where each was sent, so a retry never sends one twice (bot.rules.feedback).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session, col

from bot.config import Settings
from bot.jobs import queue as jobs
from bot.jobs.queue import changed
from storage import upsert
from storage.models.feedback import Feedback
from storage.models.requests import AllyRequest, Match
from storage.types import utcnow

PROMPT = "feedback_prompt"
REMINDER = "feedback_reminder"
CLOSE = "feedback_close"


class MatchFeedback(jobs.Payload):
    """PROMPT, REMINDER and CLOSE: the match whose feedback is asked for."""

    match_id: int


REQUESTER = "requester"
ALLY = "ally"
VOLUNTEER = "volunteer"

NO_FEEDBACK = "no_feedback"


@dataclass(frozen=True)
class Recipient:
    """One person to prompt or remind: user_id None means the anonymous requester (relay)."""

    token: str
    role: str
    user_id: str | None
    request_id: int
    category: str
    partner_id: str | None
    case_handle: str | None
    prompt_channel: str | None
    prompt_ts: str | None
    reminder_channel: str | None
    reminder_ts: str | None
    prompted: bool
    reminded: bool
    answer: str | None


def schedule_feedback(
    session: Session, *, match_id: int, matched_at: datetime, settings: Settings
) -> None:
    """Schedule the feedback prompts for a new match (in the match's unit of work)."""
    jobs.schedule(
        session,
        kind=PROMPT,
        key=f"feedback:prompt:{match_id}",
        due_at=matched_at + settings.feedback_after,
        payload=MatchFeedback(match_id=match_id),
    )


def schedule_followups(
    session: Session, *, match_id: int, prompted_at: datetime, settings: Settings
) -> None:
    """Schedule the reminder (halfway) and the close, counted from the prompt."""
    close_after = settings.feedback_close_after
    jobs.schedule(
        session,
        kind=REMINDER,
        key=f"feedback:remind:{match_id}",
        due_at=prompted_at + close_after / 2,
        payload=MatchFeedback(match_id=match_id),
    )
    jobs.schedule(
        session,
        kind=CLOSE,
        key=f"feedback:close:{match_id}",
        due_at=prompted_at + close_after,
        payload=MatchFeedback(match_id=match_id),
    )


def _is_anonymous_case(request: AllyRequest) -> bool:
    return bool(getattr(request, "on_behalf_of", None)) or request.kind == "anonymous"


def _participants(match: Match, request: AllyRequest) -> list[tuple[str, str | None]]:
    """(role, user_id) of everyone asked: the anonymous requester has no user_id here."""
    chooser = getattr(request, "chooser_id", None)
    if _is_anonymous_case(request):
        people: list[tuple[str, str | None]] = [(REQUESTER, None)]
        if chooser:
            people.append((VOLUNTEER, chooser))
    else:
        people = [(REQUESTER, chooser or request.requester_id)]
    people.append((ALLY, match.ally_user_id))
    return people


def ensure_rows(session: Session, *, match_id: int) -> None:
    """Create each participant's feedback row once (idempotent under retries and races)."""
    match = session.get(Match, match_id)
    if match is None:
        return
    request = session.get(AllyRequest, match.request_id)
    assert request is not None
    for role, user_id in _participants(match, request):
        session.execute(
            upsert.insert(session, Feedback)
            .values(
                token=secrets.token_urlsafe(16),
                match_id=match_id,
                role=role,
                user_id=user_id,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["match_id", "role"])
        )


def recipients(session: Session, *, match_id: int) -> list[Recipient]:
    """Everyone asked for feedback on an open match (empty once the match has closed)."""
    match = session.get(Match, match_id)
    if match is None or match.outcome == NO_FEEDBACK:
        return []
    request = session.get(AllyRequest, match.request_id)
    assert request is not None
    rows = session.execute(
        select(Feedback).where(col(Feedback.match_id) == match_id).order_by(col(Feedback.id))
    ).scalars()
    chooser = getattr(request, "chooser_id", None)
    partner = {
        REQUESTER: match.ally_user_id,
        VOLUNTEER: match.ally_user_id,
        # The ally of an anonymous case only ever knows the volunteer.
        ALLY: chooser if _is_anonymous_case(request) else (chooser or request.requester_id),
    }
    return [
        Recipient(
            token=row.token,
            role=row.role,
            user_id=row.user_id,
            request_id=request.id or 0,
            category=request.category,
            partner_id=partner.get(row.role),
            case_handle=getattr(request, "on_behalf_of", None),
            prompt_channel=row.prompt_channel,
            prompt_ts=row.prompt_ts,
            reminder_channel=row.reminder_channel,
            reminder_ts=row.reminder_ts,
            prompted=row.prompted_at is not None,
            reminded=row.reminded_at is not None,
            answer=row.answer,
        )
        for row in rows
    ]


def mark_prompted(
    session: Session, *, token: str, channel: str | None, ts: str | None, now: datetime
) -> None:
    """Record that a prompt was sent (and where), so a retry never sends it again."""
    session.execute(
        update(Feedback)
        .where(col(Feedback.token) == token)
        .values(prompt_channel=channel, prompt_ts=ts, prompted_at=now)
    )


def mark_reminded(
    session: Session, *, token: str, channel: str | None, ts: str | None, now: datetime
) -> None:
    """Record that the reminder was sent (and where)."""
    session.execute(
        update(Feedback)
        .where(col(Feedback.token) == token)
        .values(reminder_channel=channel, reminder_ts=ts, reminded_at=now)
    )


def first_prompted_at(session: Session, *, match_id: int) -> datetime | None:
    """When the first prompt of this match went out."""
    rows = session.execute(
        select(col(Feedback.prompted_at)).where(col(Feedback.match_id) == match_id)
    ).scalars()
    times = [t for t in rows if t is not None]
    return min(times) if times else None


def close_without_feedback(session: Session, *, match_id: int, now: datetime) -> bool:
    """Close the match as "no feedback" unless the requester already decided it."""
    result = session.execute(
        update(Match)
        .where(col(Match.id) == match_id, col(Match.outcome).is_(None))
        .values(outcome=NO_FEEDBACK, closed_at=now)
    )
    return changed(result) == 1


def prompts_to_retire(session: Session, *, match_id: int) -> list[tuple[str, str, str]]:
    """The prompts and reminders still showing buttons once a match closed as "no feedback".

    Each is (name, channel, ts); the name (feedback row and message) lets the close record
    what it updated, so a retry updates the rest, and it holds no one's id.
    """
    match = session.get(Match, match_id)
    if match is None or match.outcome != NO_FEEDBACK:
        return []
    rows = session.execute(
        select(Feedback)
        .where(col(Feedback.match_id) == match_id, col(Feedback.answer).is_(None))
        .order_by(col(Feedback.id))
    ).scalars()
    shown: list[tuple[str, str, str]] = []
    for row in rows:
        for what, channel, ts in (
            ("prompt", row.prompt_channel, row.prompt_ts),
            ("reminder", row.reminder_channel, row.reminder_ts),
        ):
            if channel and ts:
                shown.append((f"{row.id}:{what}", channel, ts))
    return shown
