"""Forget-me's Slack follow-ups (SPEC 6): what the deletion changed, as opaque ids, and the two
due items that show it, the request side at once and the case side hours later.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from storage import requests as store
from storage.models.anonymous import AnonymousCase
from storage.models.programme import FORGOTTEN
from storage.types import utcnow

FOLLOWUPS = "forget_followups"
CASE_FOLLOWUPS = "forget_case_followups"
# The scheduler steps in for a run of the request side that did not finish after this.
FOLLOWUPS_GRACE = timedelta(minutes=1)
# The case side is shown in Slack at a random time in this window after the deletion.
CASE_DELAY_MIN = timedelta(hours=1)
CASE_DELAY_SPREAD = timedelta(hours=5)
# The case side's record that its cases were closed and its people to tell were added.
CLOSED_LATER = "closed"


class Followups(jobs.Payload):
    """FOLLOWUPS, the request side: cards to redraw, allies to tell, cases put back."""

    request_cards: list[int] = []
    allies_told: list[str] = []
    held_cards: list[int] = []
    released: list[int] = []

    def any(self) -> bool:
        """Whether there is anything to show in Slack."""
        return any(self.model_dump().values())


class CaseFollowups(jobs.Payload):
    """CASE_FOLLOWUPS, the case side: cases to close, cards to redraw, people to tell."""

    closing: list[int] = []
    case_cards: list[int] = []
    volunteers_told: list[tuple[str, str]] = []
    case_asks: list[int] = []
    case_allies_told: list[str] = []

    def any(self) -> bool:
        """Whether there is anything to show in Slack."""
        return any(self.model_dump().values())


@dataclass
class Forgotten:
    """What changed, for the Slack follow-ups; holds no trace of the forgotten person.

    The case side is kept apart from the rest, so that Slack can show it later and the two
    cannot be put side by side (a named card and an anonymous case changing together would
    tell who asked the case).
    """

    # Requests whose card, escalation, introduction and offers DM must be redrawn.
    request_cards: list[int] = field(default_factory=list)
    # Allies whose offer stood on a request withdrawn by the forgetting: they are told.
    allies_told: list[str] = field(default_factory=list)
    # Cases a forgetting volunteer held (their cards name them), and those of them that were
    # still open, put back for another volunteer to take.
    held_cards: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    # Cases (asked by the person) whose card must be redrawn, and (volunteer, handle) pairs
    # of those that were still held by someone, who is told; their asks to the allies (to
    # redraw, with their introductions), and allies whose offer on such an ask stood.
    case_cards: list[int] = field(default_factory=list)
    # Cases still open, left as they are (without link or text) until the case side closes
    # them: before that, nothing a volunteer does on them shows that anything changed.
    case_closing: list[int] = field(default_factory=list)
    volunteers_told: list[tuple[str, str]] = field(default_factory=list)
    case_asks: list[int] = field(default_factory=list)
    case_allies_told: list[str] = field(default_factory=list)
    # How many of their own requests and anonymous cases were deleted (told to them only).
    own_requests: int = 0
    own_cases: int = 0
    # When the case side shows in Slack: a random time in the window, drawn once.
    case_due_at: datetime = field(default_factory=lambda: _case_side_time(utcnow()))

    def payload(self) -> Followups:
        """The request side's follow-ups as a due item's payload (ids of others only)."""
        return Followups(
            request_cards=sorted(set(self.request_cards)),
            allies_told=sorted(set(self.allies_told)),
            held_cards=sorted(set(self.held_cards)),
            released=sorted(set(self.released)),
        )

    def case_payload(self) -> CaseFollowups:
        """The case side's follow-ups, for a separate, later due item."""
        return CaseFollowups(
            closing=sorted(set(self.case_closing)),
            case_cards=sorted(set(self.case_cards)),
            volunteers_told=sorted({(v, h) for v, h in self.volunteers_told}),
            case_asks=sorted(set(self.case_asks)),
            case_allies_told=sorted(set(self.case_allies_told)),
        )


def _case_side_time(now: datetime) -> datetime:
    spread = secrets.randbelow(int(CASE_DELAY_SPREAD.total_seconds()))
    return now + CASE_DELAY_MIN + timedelta(seconds=spread)


def followups_key(reference: str) -> str:
    """The scheduled-work key of one forget-me's Slack follow-ups."""
    return f"forget:{reference}"


def case_followups_key(reference: str) -> str:
    """The key of the case side's follow-ups (a separate reference, unrelated to the other)."""
    return f"forget-case:{reference}"


def schedule_followups(session: Session, done: Forgotten, *, key: str) -> Followups:
    """Write the two follow-up items: the request side (run at once by the caller too, so
    returned) and the case side, hours later at a random time, under an unrelated key."""
    payload, case_payload = done.payload(), done.case_payload()
    if payload.any():
        jobs.schedule(
            session, kind=FOLLOWUPS, key=key, due_at=utcnow() + FOLLOWUPS_GRACE, payload=payload
        )
    if case_payload.any():
        jobs.schedule(
            session,
            kind=CASE_FOLLOWUPS,
            key=case_followups_key(secrets.token_urlsafe(12)),
            due_at=done.case_due_at,
            payload=case_payload,
        )
    return payload


def forget_conversation(session: Session, *, request_id: int) -> None:
    """Once the introduction of a pair with a forgotten person is cleared, forget where it is."""
    match = store.match_for(session, request_id=request_id)
    request = store.get_request(session, request_id=request_id)
    if match is None or request is None:
        return
    if FORGOTTEN in (request.chooser_id, match.ally_user_id):
        match.conversation_id = None
        match.intro_ts = None
        session.add(match)


def handles(session: Session, *, case_ids: list[int]) -> list[str]:
    """The handles of these cases, sorted."""
    return sorted(
        session.exec(select(AnonymousCase.handle).where(col(AnonymousCase.id).in_(case_ids))).all()
    )
