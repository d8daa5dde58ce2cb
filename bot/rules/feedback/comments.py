"""The optional comment after a feedback answer (SPEC 2.4.2): stored once, an anonymous
requester's only redacted with their names, and never once the allyship's records are deleted.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session, col

from bot.jobs.queue import changed
from bot.privacy import Identity, redact
from bot.rules.errors import Conflict, InvalidInput, NotFound
from bot.rules.feedback.answers import check_owner
from bot.rules.feedback.prompts import REQUESTER
from storage import anonymous as anonymous_store
from storage.models.feedback import Feedback
from storage.models.programme import FORGOTTEN
from storage.models.requests import AllyRequest, Match

MAX_COMMENT = 3000


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
    match = check_owner(session, row, user_id)
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
