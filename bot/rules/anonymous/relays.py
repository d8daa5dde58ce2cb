"""Messages relayed between the requester and the volunteer: the requester's words sealed,
their source known by a keyed hash only, each relayed copy recorded so it can be kept in step.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.privacy import Privacy
from storage.models.anonymous import CaseRelay
from storage.models.programme import FORGOTTEN
from storage.types import utcnow

# A requester's reply (or its edit or deletion) reaching the volunteer's copy; the sweep
# syncs it if the attempt right after the event did not.
RELAY = "case_relay"


class RelayItem(jobs.Payload):
    """RELAY: one reply's copy (relay_id), or the replies a new holder is to get (case_id)."""

    relay_id: int | None = None
    case_id: int | None = None


RELAY_GRACE = timedelta(minutes=1)


# Relayed copies blanked, then their records deleted: every copy of a case after its purge
# (payload case_id), or the copies sent to a forgotten volunteer (payload relay_ids).
RELAYS_PURGE = "case_relays_purge"


class RelaysPurge(jobs.Payload):
    """RELAYS_PURGE: every copy of a case (case_id), or these copies (relay_ids)."""

    case_id: int | None = None
    relay_ids: list[int] | None = None


@dataclass(frozen=True)
class Reply:
    """A requester's reply as written (redacted only as it is sent), and whether it had files."""

    text: str
    files: bool = False


def relay_key(relay_id: int, version: int) -> str:
    """The scheduled-work key of one version of a reply's copy (the safety net of its sync)."""
    return f"{RELAY}:{relay_id}:{version}"


def _source_marker(privacy: Privacy, *, case_id: int, ts: str) -> str:
    # Keyed like the requester marker, and scoped: a message ts alone would point into a DM.
    return privacy.marker(f"case-relay:{case_id}:{ts}")


def _seal_reply(privacy: Privacy, reply: Reply) -> str:
    return privacy.seal(json.dumps({"text": reply.text, "files": reply.files}))


def pending_reply(privacy: Privacy, relay: CaseRelay) -> Reply | None:
    """The words the relay's copy must show next, or None if it shows them already."""
    if relay.pending_sealed is None:
        return None
    data = json.loads(privacy.unseal(relay.pending_sealed))
    return Reply(text=str(data["text"]), files=bool(data.get("files")))


def _schedule_sync(session: Session, relay: CaseRelay) -> None:
    relay_id = relay.id
    assert relay_id is not None
    jobs.schedule(
        session,
        kind=RELAY,
        key=relay_key(relay_id, relay.version),
        due_at=utcnow() + RELAY_GRACE,
        payload=RelayItem(relay_id=relay_id),
    )


def record_reply(
    session: Session, privacy: Privacy, *, case_id: int, ts: str, reply: Reply
) -> int | None:
    """Keep a new reply (sealed) until its copy is sent, with the sync's due safety net.

    None if this message was already kept (the same message delivered twice).
    """
    relay = CaseRelay(
        case_id=case_id,
        source_marker=_source_marker(privacy, case_id=case_id, ts=ts),
        pending_sealed=_seal_reply(privacy, reply),
    )
    try:
        with session.begin_nested():
            session.add(relay)
    except IntegrityError:
        return None
    _schedule_sync(session, relay)
    return relay.id


def change_reply(
    session: Session, privacy: Privacy, *, case_id: int, ts: str, reply: Reply | None
) -> int | None:
    """The requester edited (`reply`) or deleted (None) a kept reply: its copy must follow.

    Returns the relay to sync, or None if the message was never relayed.
    """
    marker = _source_marker(privacy, case_id=case_id, ts=ts)
    relay = session.exec(
        select(CaseRelay).where(CaseRelay.source_marker == marker).with_for_update()
    ).first()
    if relay is None or relay.withdrawn:
        return None
    if reply is None:
        relay.withdrawn = True
        relay.pending_sealed = None
    else:
        relay.pending_sealed = _seal_reply(privacy, reply)
    relay.version += 1
    session.add(relay)
    session.flush()
    _schedule_sync(session, relay)
    return relay.id


def get_relay(session: Session, *, relay_id: int, lock: bool = False) -> CaseRelay | None:
    """One relay record; with lock=True it is locked until the unit of work ends."""
    statement = select(CaseRelay).where(CaseRelay.id == relay_id)
    if lock:
        statement = statement.with_for_update()
    relay = session.exec(statement).first()
    if relay is not None:
        session.refresh(relay)
    return relay


def _holder_marker(privacy: Privacy, volunteer_id: str) -> str:
    # Scoped, unlike the requester marker: the same marker in both would tie a volunteer,
    # named on the cases they hold, to the cases they asked.
    return privacy.marker(f"case-copy-holder:{volunteer_id}")


def holds_copy(privacy: Privacy, relay: CaseRelay, volunteer_id: str | None) -> bool:
    """Whether the relay's copy was sent to this volunteer (compared by keyed marker)."""
    return (
        volunteer_id is not None
        and relay.holder_marker is not None
        and secrets.compare_digest(relay.holder_marker, _holder_marker(privacy, volunteer_id))
    )


def record_copy(
    session: Session,
    privacy: Privacy,
    *,
    relay_id: int,
    channel: str,
    ts: str,
    holder: str,
    version: int,
) -> None:
    """The copy now shows version `version` of the relay's words in `holder`'s DM: remember
    where and whose it is (their marker, never their ID). The sealed words go if they are
    still that version; a newer edit made while the copy was sent stays, for its own sync."""
    relay = get_relay(session, relay_id=relay_id, lock=True)
    if relay is None:
        return
    relay.copy_channel, relay.copy_ts = channel, ts
    relay.holder_marker = _holder_marker(privacy, holder)
    if relay.version == version:
        relay.pending_sealed = None
        jobs.cancel(session, key=relay_key(relay_id, relay.version))
    session.add(relay)


def forget_copy(session: Session, *, relay_id: int) -> None:
    """The relay's copy was blanked (its holder no longer holds the case): where it was goes;
    the words still to show stay, for the case's holder."""
    relay = get_relay(session, relay_id=relay_id)
    if relay is None:
        return
    relay.copy_channel = relay.copy_ts = relay.holder_marker = None
    session.add(relay)


def drop_relay(session: Session, *, relay_id: int) -> None:
    """Delete a relay record (its copy was blanked, or never sent); its due sync goes too."""
    relay = get_relay(session, relay_id=relay_id)
    if relay is None:
        return
    jobs.cancel(session, key=relay_key(relay_id, relay.version))
    session.delete(relay)


def pending_relays(session: Session, *, case_id: int) -> list[int]:
    """The case's replies still waiting for a copy (or for their copy to change), oldest first."""
    return [
        r.id
        for r in session.exec(
            select(CaseRelay)
            .where(
                CaseRelay.case_id == case_id,
                or_(col(CaseRelay.pending_sealed).is_not(None), col(CaseRelay.withdrawn)),
            )
            .order_by(col(CaseRelay.id))
        ).all()
        if r.id is not None
    ]


def relays_of(session: Session, *, case_id: int) -> list[int]:
    """Every relay record of the case, oldest first."""
    return [
        r.id
        for r in session.exec(
            select(CaseRelay).where(CaseRelay.case_id == case_id).order_by(col(CaseRelay.id))
        ).all()
        if r.id is not None
    ]


def blank_copies_of(
    session: Session, privacy: Privacy, *, volunteer_id: str, held: list[int]
) -> None:
    """Every copy sent to a volunteer who is forgotten, on any case, is blanked (and its
    record deleted) by a due item; other volunteers' copies stay. Their marker goes at once.

    `held` are the cases they held: copies recorded before copies knew their holder count
    as theirs there. Replies still waiting for a copy stay, for the case's next holder.
    """
    theirs = select(CaseRelay).where(
        col(CaseRelay.copy_ts).is_not(None),
        or_(
            col(CaseRelay.holder_marker) == _holder_marker(privacy, volunteer_id),
            and_(col(CaseRelay.holder_marker).is_(None), col(CaseRelay.case_id).in_(held)),
        ),
    )
    relays = list(session.exec(theirs.order_by(col(CaseRelay.id)).with_for_update()).all())
    for relay in relays:
        relay.holder_marker = FORGOTTEN  # no one's: an edit meanwhile blanks it too
        session.add(relay)
    if relays:
        jobs.schedule(
            session,
            kind=RELAYS_PURGE,
            key=f"{RELAYS_PURGE}:copies:{secrets.token_hex(6)}",
            due_at=utcnow(),
            payload=RelaysPurge(relay_ids=[r.id for r in relays if r.id is not None]),
        )


def purge_relays(session: Session, *, case_id: int) -> bool:
    """The case's replies lose their words now; those never copied go. True if copies remain."""
    session.execute(
        update(CaseRelay).where(col(CaseRelay.case_id) == case_id).values(pending_sealed=None)
    )
    session.execute(
        delete(CaseRelay).where(col(CaseRelay.case_id) == case_id, col(CaseRelay.copy_ts).is_(None))
    )
    return bool(relays_of(session, case_id=case_id))
