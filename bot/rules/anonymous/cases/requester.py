"""A case's requester, known only by sealed tokens and a keyed marker (SPEC 2.3, 6): who they
are (unsealed only to send them a message), their DM thread, their cases, and the cut of the
link (forget-me, the purge) or a pause of their new requests.
"""

from __future__ import annotations

import secrets

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.privacy import Privacy
from bot.rules.errors import NotFound
from storage.models.anonymous import AnonymousCase, CasePause
from storage.models.feedback import Feedback
from storage.models.requests import Match
from storage.types import rowcount


def record_thread(
    session: Session, privacy: Privacy, *, case_id: int, dm_channel: str, thread_ts: str
) -> bool:
    """Remember the requester's DM thread for the case (sealed channel); False if already set."""
    result = session.execute(
        update(AnonymousCase)
        .where(col(AnonymousCase.id) == case_id, col(AnonymousCase.thread_ts).is_(None))
        .values(dm_sealed=privacy.seal(dm_channel), thread_ts=thread_ts)
    )
    return rowcount(result) == 1


def requester_of(privacy: Privacy, case: AnonymousCase) -> str:
    """The requester's Slack ID, unsealed only to send them a message."""
    if case.requester_sealed is None:
        raise NotFound("This case's link to the person who asked was deleted.")
    return privacy.unseal(case.requester_sealed)


def dm_of(privacy: Privacy, case: AnonymousCase) -> str | None:
    """The requester's DM channel for the case's thread, if it was opened."""
    return privacy.unseal(case.dm_sealed) if case.dm_sealed else None


def is_requester(privacy: Privacy, case: AnonymousCase, user_id: str) -> bool:
    """Whether this person is the case's requester (compared by keyed marker)."""
    return case.requester_marker is not None and secrets.compare_digest(
        case.requester_marker, privacy.marker(user_id)
    )


def pause_requester(session: Session, *, marker: str, case_id: int, by: str) -> None:
    """Stop this requester's new anonymous requests (known by marker only); idempotent."""
    if session.get(CasePause, marker) is None:
        try:
            with session.begin_nested():
                session.add(CasePause(requester_marker=marker, case_id=case_id, paused_by=by))
        except IntegrityError:
            pass  # paused by a concurrent close: the same outcome


def unlink_requester(session: Session, case: AnonymousCase) -> None:
    """Cut the case from its requester: sealed link, marker, DM and thread go, and so do
    the comments on its match (free text that may describe them; the answers stay)."""
    case.requester_sealed = None
    case.requester_marker = None
    case.dm_sealed = None
    case.thread_ts = None
    session.add(case)
    if case.ask_request_id is not None:
        session.execute(
            update(Feedback)
            .where(
                col(Feedback.match_id).in_(
                    select(Match.id).where(col(Match.request_id) == case.ask_request_id)
                )
            )
            .values(comment=None)
        )


def case_in_thread(
    session: Session, privacy: Privacy, *, user_id: str, channel: str, thread_ts: str
) -> AnonymousCase | None:
    """The person's case whose DM thread this is, if any."""
    for case in session.exec(
        select(AnonymousCase).where(AnonymousCase.thread_ts == thread_ts)
    ).all():
        if is_requester(privacy, case, user_id) and dm_of(privacy, case) == channel:
            return case
    return None


def cases_of(session: Session, privacy: Privacy, *, user_id: str) -> list[AnonymousCase]:
    """The person's cases that still have their link (newest first)."""
    return list(
        session.exec(
            select(AnonymousCase)
            .where(AnonymousCase.requester_marker == privacy.marker(user_id))
            .order_by(col(AnonymousCase.id).desc())
        ).all()
    )
