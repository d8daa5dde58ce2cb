"""Feedback after a match: prompts, reminder, outcome (SPEC 2.4.1, 2.4.2).

`ALLYBOT_FEEDBACK_AFTER` after a match, the requester and the ally (and, for an anonymous
case, the volunteer who chose the ally) are asked whether it worked. One reminder follows
halfway between the prompt and the close; `ALLYBOT_FEEDBACK_CLOSE_AFTER` after the prompt,
a match whose requester has not answered closes as "no feedback". The requester's answer
decides the outcome; "worked" earns the ally's BU points (bot.rules.points).

Each person's feedback is one row with a random token: the token is the only value on the
buttons, the row says who may answer, and the answer is recorded with a conditional UPDATE,
so a second click, a retry or a race changes nothing. An anonymous requester's comment is
stored only redacted with their names, as their request was (bot.privacy.redact). Comments
are shown to nobody in Slack; forget-me and the case purge delete them.
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
from bot.privacy import Identity, redact
from bot.rules.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.rules.points import ledger
from storage import anonymous as anonymous_store
from storage import upsert
from storage.models.feedback import Feedback
from storage.models.programme import FORGOTTEN
from storage.models.requests import AllyRequest, Match
from storage.types import utcnow

PROMPT = "feedback_prompt"
REMINDER = "feedback_reminder"
CLOSE = "feedback_close"

REQUESTER = "requester"
ALLY = "ally"
VOLUNTEER = "volunteer"

WORKED = ledger.WORKED
NOT_WORKED = "not_worked"
NO_FEEDBACK = "no_feedback"
ANSWERS = (WORKED, NOT_WORKED)
MAX_COMMENT = 3000


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


@dataclass(frozen=True)
class AnswerResult:
    """What a click did: recorded or not, and the messages that show the buttons."""

    recorded: bool
    answer: str
    role: str
    outcome_decided: bool
    points_awarded: bool
    refs: tuple[tuple[str, str], ...]


def schedule_feedback(
    session: Session, *, match_id: int, matched_at: datetime, settings: Settings
) -> None:
    """Schedule the feedback prompts for a new match (in the match's unit of work)."""
    jobs.schedule(
        session,
        kind=PROMPT,
        key=f"feedback:prompt:{match_id}",
        due_at=matched_at + settings.feedback_after,
        payload={"match_id": match_id},
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
        payload={"match_id": match_id},
    )
    jobs.schedule(
        session,
        kind=CLOSE,
        key=f"feedback:close:{match_id}",
        due_at=prompted_at + close_after,
        payload={"match_id": match_id},
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


def _check_owner(session: Session, row: Feedback, user_id: str) -> Match:
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
    match = _check_owner(session, row, user_id)
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


def _comment_text(comment: str) -> str:
    text = comment.strip()
    if not text:
        raise InvalidInput("Write a comment, or close this window.", "comment")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"Keep the comment under {MAX_COMMENT} characters.", "comment")
    return text


def _records_deleted(session: Session, request: AllyRequest) -> bool:
    """Whether the request's text is gone for good (purged, or its requester forgotten).

    An anonymous case's ask loses its text as soon as its requester is forgotten, but the
    case is closed and purged only hours later (bot.rules.forget): until then a comment is taken
    as on any case, and that purge deletes it, so a refusal cannot give the forgetting away.
    """
    if request.details is not None:
        return False
    assert request.id is not None
    case = anonymous_store.case_for_request(session, request_id=request.id)
    return case is None or case.purged_at is not None


def _comment_row(session: Session, *, token: str, user_id: str, lock: bool) -> Feedback:
    """The feedback row a comment is for, if its owner may still comment on it."""
    row = session.execute(select(Feedback).where(col(Feedback.token) == token)).scalars().first()
    if row is None:
        raise NotFound("That feedback request no longer exists.")
    match = _check_owner(session, row, user_id)
    if row.answer is None:
        raise Conflict("Answer first, then add a comment.")
    if row.comment is not None:
        raise Conflict("You have already added a comment. Thank you!")
    # Locked: forget-me (which locks it too) cannot delete the text between check and write.
    request = session.get(AllyRequest, match.request_id, with_for_update=lock or None)
    if lock:
        match = session.get(Match, match.id, populate_existing=True) or match
    if (
        request is None
        or _records_deleted(session, request)
        or FORGOTTEN in (match.ally_user_id, request.chooser_id)
    ):
        # Purged after retention, or someone was forgotten: no new free text joins them.
        raise Conflict("The records of this allyship were deleted, so comments are closed.")
    return row


def is_anonymous_requester(session: Session, *, token: str) -> bool:
    """Whether this feedback is an anonymous requester's (their comment is redacted)."""
    row = session.execute(select(Feedback).where(col(Feedback.token) == token)).scalars().first()
    return row is not None and row.role == REQUESTER and row.user_id is None


def check_comment(session: Session, *, token: str, user_id: str, comment: str) -> bool:
    """Refuse, before the ack, a comment that would not be stored (read-only).

    True when it is an anonymous requester's: it must be redacted with their names, which
    are looked up only after the ack.
    """
    _comment_text(comment)
    row = _comment_row(session, token=token, user_id=user_id, lock=False)
    return row.user_id is None


def record_comment(
    session: Session,
    *,
    token: str,
    user_id: str,
    comment: str,
    identity: Identity | None = None,
) -> None:
    """Store the optional comment that follows an answer (once).

    An anonymous requester's comment is redacted first, as their request was (bot.privacy):
    without `identity` (their names) it is not stored at all.
    """
    text = _comment_text(comment)
    row = _comment_row(session, token=token, user_id=user_id, lock=True)
    if row.user_id is None:
        if identity is None:
            raise Conflict("I could not save your comment just now. Please send it again.")
        text = redact(text, identity).strip()[:MAX_COMMENT]
    result = session.execute(
        update(Feedback)
        .where(col(Feedback.id) == row.id, col(Feedback.comment).is_(None))
        .values(comment=text)
    )
    if changed(result) != 1:
        raise Conflict("You have already added a comment. Thank you!")
