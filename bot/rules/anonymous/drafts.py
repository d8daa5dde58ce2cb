"""An anonymous request between its preview and its confirmation: sealed, kept a day at most."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from bot.jobs import queue as jobs
from bot.privacy import Identity, Privacy, redact
from storage.models.anonymous import CaseDraft
from storage.types import rowcount, utcnow

DRAFT_MAX_AGE = timedelta(days=1)


# A draft nobody confirmed, edited or cancelled is deleted once it is a day old.
DRAFT_EXPIRY = "case_draft_expiry"


class DraftExpiry(jobs.Payload):
    """DRAFT_EXPIRY: the draft's token ("" in an emptied payload: nothing to delete)."""

    draft: str = ""


@dataclass(frozen=True)
class Draft:
    """An anonymous request between the modal and its confirmation (the raw text)."""

    category: str
    details: str
    timing: str | None


def draft_key(token: str) -> str:
    """The scheduled-work key of a draft's expiry."""
    return f"{DRAFT_EXPIRY}:{token}"


def redact_draft(draft: Draft, identity: Identity) -> Draft:
    """The draft as volunteers will see it: everything that may identify the requester removed."""
    timing = redact(draft.timing, identity).strip() if draft.timing else None
    return Draft(
        category=draft.category,
        details=redact(draft.details, identity).strip()[:3000],
        timing=(timing or None) and timing[:200],
    )


def save_draft(
    session: Session, privacy: Privacy, *, token: str, user_id: str, draft: Draft
) -> None:
    """Keep a draft sealed until it is confirmed, edited or abandoned (or a day old)."""
    payload = json.dumps(
        {"category": draft.category, "details": draft.details, "timing": draft.timing}
    )
    session.add(
        CaseDraft(id=token, owner_marker=privacy.marker(user_id), sealed=privacy.seal(payload))
    )
    # Deleted by the sweep if it is still there in a day (a closed tab sends no view_closed).
    jobs.schedule(
        session,
        kind=DRAFT_EXPIRY,
        key=draft_key(token),
        due_at=utcnow() + DRAFT_MAX_AGE,
        payload=DraftExpiry(draft=token),
    )


def expire_draft(session: Session, *, token: str) -> bool:
    """Delete a draft that is still there (its day is up); True if one was deleted."""
    return rowcount(session.execute(delete(CaseDraft).where(col(CaseDraft.id) == token))) == 1


def _load_draft(privacy: Privacy, row: CaseDraft) -> Draft:
    data = json.loads(privacy.unseal(row.sealed))
    return Draft(category=data["category"], details=data["details"], timing=data.get("timing"))


def peek_draft(session: Session, privacy: Privacy, *, token: str, user_id: str) -> Draft | None:
    """The person's draft, if it still exists and is theirs."""
    row = session.get(CaseDraft, token)
    if row is None or row.owner_marker != privacy.marker(user_id):
        return None
    return _load_draft(privacy, row)


def take_draft(session: Session, privacy: Privacy, *, token: str, user_id: str) -> Draft | None:
    """Claim and delete the person's draft; None if gone (a double submission) or not theirs."""
    row = session.get(CaseDraft, token)
    if row is None or row.owner_marker != privacy.marker(user_id):
        return None
    draft = _load_draft(privacy, row)
    claimed = session.execute(
        delete(CaseDraft).where(
            col(CaseDraft.id) == token, col(CaseDraft.owner_marker) == row.owner_marker
        )
    )
    if rowcount(claimed) != 1:
        return None
    jobs.cancel(session, key=draft_key(token))
    return draft
