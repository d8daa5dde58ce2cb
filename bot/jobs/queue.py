"""Durable scheduled work: due items in the database, claimed before they are sent.

The database decides what is due, never an in-memory timer, so a restart loses nothing and
several replicas share the work. Each item is claimed atomically in its own unit of work
(`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional UPDATE elsewhere), the
handler runs after the claim commits, and the item is marked done after the handler returns.
A handler that raises puts the item back to pending with a backoff; a claim whose lease ran
out (a replica died mid-send) can be claimed again. Handlers must be idempotent: they record
each send through bot.jobs.once, which records it, so a retry never sends twice.

An item that fails MAX_ATTEMPTS times is parked as failed, and the same unit of work schedules
a FAILED_ALERT item keyed by it, so the admins hear of it once whichever replica parked it
(bot.app.scheduler sends it). An alert that is parked in turn alerts nobody: no loop.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Text, and_, cast, or_, select, update
from sqlmodel import Session, col

from storage import upsert
from storage.db import Database
from storage.models.schedule import DueItem
from storage.types import utcnow

logger = logging.getLogger(__name__)

PENDING = "pending"
CLAIMED = "claimed"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"

# How long a claim holds before another sweeper may take the item over.
DEFAULT_LEASE = timedelta(minutes=10)
# After this many failed runs an item is parked as failed (and logged) instead of retried.
MAX_ATTEMPTS = 12
# The due item that tells the admins an item was parked; its key names the parked item.
FAILED_ALERT = "job_failed_alert"
_BACKOFF_BASE = timedelta(seconds=30)
_BACKOFF_CAP = timedelta(hours=1)


class Payload(BaseModel):
    """A due item's payload, typed: each kind defines its subclass next to its constant.

    Stored as its JSON dump, the fields given by name (one left to its default is not
    written); frozen, and extra keys are ignored so that items scheduled by an earlier version
    still read. A stored value of the wrong type raises pydantic's ValidationError in
    `DueWork.read`, so the sweep retries and in the end parks the item instead of misreading it.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


P = TypeVar("P", bound=Payload)


class FailedAlert(Payload):
    """FAILED_ALERT: the parked item's kind, id, attempts and error class (never its payload)."""

    kind: str
    item_id: int
    attempts: int
    error: str


@dataclass(frozen=True)
class DueWork:
    """What a handler gets: the item as claimed, and the sweep's clock."""

    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int
    sent: dict[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)

    def read(self, model: type[P]) -> P:
        """The payload validated as `model` (raises pydantic's ValidationError if it is not)."""
        return model.model_validate(self.payload)


def schedule(
    session: Session,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: Payload | None = None,
) -> None:
    """Make `kind` due at `due_at`; idempotent on `key` (scheduling twice keeps one item)."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    values = {
        "kind": kind,
        "key": key,
        "due_at": due_at,
        # The fields given, by name (a default left out is not written, so the keys stay those
        # each kind has always stored).
        "payload": {} if payload is None else payload.model_dump(mode="json", exclude_unset=True),
        "status": PENDING,
        "attempts": 0,
        "sent": {},
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    statement = (
        upsert.insert(session, DueItem)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    session.execute(statement)


def cancel(session: Session, *, key: str) -> None:
    """Cancel the pending item with this key, if any."""
    session.execute(
        update(DueItem)
        .where(col(DueItem.key) == key, col(DueItem.status) == PENDING)
        .values(status=CANCELLED, updated_at=utcnow())
    )


def find(session: Session, *, key: str, lock: bool = False) -> DueItem | None:
    """The item with this key, if any (locked: who checks its record and then sends is alone)."""
    statement = select(DueItem).where(col(DueItem.key) == key)
    return session.execute(statement.with_for_update() if lock else statement).scalars().first()


def record_sent(session: Session, *, key: str, name: str, value: Any) -> None:
    """Remember in the item that a step of its own work is done (a change in the database,
    not a send: sends are made once through bot.jobs.once)."""
    item = find(session, key=key)
    if item is None:
        return
    item.sent = {**(item.sent or {}), name: value}
    item.updated_at = utcnow()
    session.add(item)


def scrub(session: Session, *, value: str, replacement: str) -> int:
    """Replace `value` (a forgotten person's Slack ID) wherever items' payloads and records
    of what was sent hold it; returns how many items changed."""
    items = session.execute(
        select(DueItem).where(
            or_(
                cast(DueItem.payload, Text).contains(value),
                cast(DueItem.sent, Text).contains(value),
            )
        )
    ).scalars()
    count = 0
    for item in items:
        item.payload = json.loads(json.dumps(item.payload or {}).replace(value, replacement))
        item.sent = json.loads(json.dumps(item.sent or {}).replace(value, replacement))
        session.add(item)
        count += 1
    return count


def clear_payload(session: Session, *, key: str) -> None:
    """Empty a finished item's payload (a run already under way keeps its own copy)."""
    item = find(session, key=key)
    if item is not None:
        item.payload = {}
        item.updated_at = utcnow()
        session.add(item)


def changed(result: Any) -> int:
    """How many rows an UPDATE changed (its rowcount; no RETURNING clause involved)."""
    return int(result.rowcount)


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after `attempts` failures."""
    return min(_BACKOFF_BASE * (2 ** max(attempts - 1, 0)), _BACKOFF_CAP)


def _claimable(now: datetime, kinds: list[str]) -> Any:
    return and_(
        col(DueItem.kind).in_(kinds),
        or_(
            and_(col(DueItem.status) == PENDING, col(DueItem.due_at) <= now),
            # A claim whose lease ran out: the replica that held it died mid-send.
            and_(col(DueItem.status) == CLAIMED, col(DueItem.claimed_until) < now),
        ),
    )


def claim_next(
    db: Database,
    *,
    kinds: list[str],
    worker: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
    skip: frozenset[int] = frozenset(),
) -> DueWork | None:
    """Claim the next due item of these kinds in its own unit of work; None when none is due."""
    if not kinds:
        return None
    with db.session() as session:
        query = select(col(DueItem.id)).where(_claimable(now, kinds))
        if skip:
            query = query.where(col(DueItem.id).not_in(skip))
        query = query.order_by(col(DueItem.due_at), col(DueItem.id))
        if db.is_postgres:
            # Row locks that other replicas skip: they take the next item instead of waiting.
            candidates = [
                session.execute(query.limit(1).with_for_update(skip_locked=True)).scalar()
            ]
        else:
            # SQLite serialises writers (BEGIN IMMEDIATE); the conditional UPDATE decides anyway.
            candidates = list(session.execute(query.limit(10)).scalars())
        for item_id in candidates:
            if item_id is None:
                continue
            result = session.execute(
                update(DueItem)
                .where(col(DueItem.id) == item_id, _claimable(now, kinds))
                .values(
                    status=CLAIMED,
                    claimed_by=worker,
                    claimed_until=now + lease,
                    updated_at=utcnow(),
                )
            )
            if changed(result) == 1:
                row = session.get(DueItem, item_id)
                assert row is not None
                session.refresh(row)
                return DueWork(
                    id=item_id,
                    kind=row.kind,
                    key=row.key,
                    due_at=row.due_at,
                    payload=dict(row.payload or {}),
                    attempts=row.attempts,
                    sent=dict(row.sent or {}),
                    now=now,
                )
    return None


def mark_done(db: Database, work: DueWork, *, worker: str) -> bool:
    """Mark a claimed item done (only if this worker still holds it)."""
    with db.session() as session:
        result = session.execute(
            update(DueItem)
            .where(
                col(DueItem.id) == work.id,
                col(DueItem.status) == CLAIMED,
                col(DueItem.claimed_by) == worker,
            )
            .values(status=DONE, claimed_until=None, updated_at=utcnow())
        )
        return changed(result) == 1


def mark_failed(db: Database, work: DueWork, *, worker: str, error: BaseException) -> bool:
    """Put a claimed item back to pending, later, with one more attempt counted.

    At MAX_ATTEMPTS it is parked as failed instead; True when this call parked it (then, in
    the same unit of work, a FAILED_ALERT item is scheduled for it, unless it is an alert).
    """
    attempts = work.attempts + 1
    status = FAILED if attempts >= MAX_ATTEMPTS else PENDING
    cause = error
    while cause.__cause__ is not None:  # what failed, not the wrapper that says so
        cause = cause.__cause__
    error_name = type(cause).__name__[:120]  # the type only: the message may hold user text
    with db.session() as session:
        result = session.execute(
            update(DueItem)
            .where(
                col(DueItem.id) == work.id,
                col(DueItem.status) == CLAIMED,
                col(DueItem.claimed_by) == worker,
            )
            .values(
                status=status,
                attempts=attempts,
                due_at=work.now + backoff(attempts),
                claimed_by=None,
                claimed_until=None,
                last_error=error_name,
                updated_at=utcnow(),
            )
        )
        # Only the worker whose update parked the item schedules the alert; the key makes it
        # one alert per item even so.
        parked = status == FAILED and changed(result) == 1
        if parked and work.kind != FAILED_ALERT:
            schedule(
                session,
                kind=FAILED_ALERT,
                key=f"{FAILED_ALERT}:{work.id}",
                due_at=work.now,
                payload=FailedAlert(
                    kind=work.kind, item_id=work.id, attempts=attempts, error=error_name
                ),
            )
    if parked:
        logger.error("scheduled %s %s failed %d times; parked", work.kind, work.id, attempts)
    return parked


def worker_name() -> str:
    """A name for this sweeper: host, process and a random part (unique per instance)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


Handler = Callable[[DueWork], None]


def sweep(
    db: Database,
    handlers: Mapping[str, Handler],
    *,
    now: datetime,
    worker: str,
    lease: timedelta = DEFAULT_LEASE,
    pace: float = 0.0,
    limit: int = 500,
) -> int:
    """Run every item due at `now` once, one unit of work per claim; return how many ran."""
    kinds = sorted(handlers)
    ran = 0
    tried: set[int] = set()
    started = 0.0
    while ran < limit:
        work = claim_next(
            db, kinds=kinds, worker=worker, now=now, lease=lease, skip=frozenset(tried)
        )
        if work is None:
            break
        if ran and pace:
            # Bulk DMs stay within Slack's limits: `pace` is the least time between the starts
            # of two items, so the time an item takes counts towards it (the configured rate
            # is reached, never exceeded).
            time.sleep(max(0.0, started + pace - time.monotonic()))
        started = time.monotonic()
        try:
            handlers[work.kind](work)
        except Exception as exc:  # the item stays due; the exception's type is kept, not text
            logger.warning(
                "scheduled %s %s failed (%s); it will be retried",
                work.kind,
                work.id,
                type(exc).__name__,
                exc_info=exc,
            )
            mark_failed(db, work, worker=worker, error=exc)
            # Not tried again in this sweep. Only failed items are skipped: one done is not
            # claimable anyway, and a growing NOT IN list would slow every claim of a bulk send.
            tried.add(work.id)
        else:
            mark_done(db, work, worker=worker)
        ran += 1
    return ran
