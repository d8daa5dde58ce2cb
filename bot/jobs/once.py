"""Send once: the one way a Web API call that must happen once is made, whoever makes it.

A click, its retry, a second replica and the due item's sweep may all reach the same send.
Each send has a key naming what it is about (`match:12/introduction`, never a person's ID)
and goes in three steps, none of which holds a transaction across the call to Slack:

1. claim: a short unit of work inserts the key's record with a random token and a lease
   (or takes over a record whose lease ran out: its sender died mid-call) and commits;
2. send: the call is made with no transaction open, so a slow Slack holds no lock;
3. record: a second short unit of work marks the record done, keeps what Slack answered
   (a ts, a channel) and lets the caller write it on its own rows in the same transaction.

Whoever finds the record done skips the send (ALREADY, with the recorded answer); whoever
finds it claimed by a live lease skips it too (BUSY): the holder is sending, and the due item
that backs every send retries later in case the holder dies. A send that raises releases its
claim, so the next try makes it. Like the scheduler's claims, the guarantee is "once" unless a
sender dies between Slack's answer and the record, when the lease lets another send again.

`run_steps` runs a list of such sends for one due item, each on its own, and says whether all
of them are settled; `hold` is the same claim used as a lease-held mutex for work of several
steps (checked, sent, recorded) that must not interleave with itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col

from bot.jobs import queue
from storage import upsert
from storage.db import Database
from storage.models.schedule import SendRecord
from storage.types import rowcount, utcnow

logger = logging.getLogger(__name__)


class State(StrEnum):
    SENT = "sent"  # this call made the send and recorded it
    ALREADY = "already"  # it was recorded before: nothing sent
    BUSY = "busy"  # another sender holds a live claim: nothing sent, retry later


@dataclass(frozen=True)
class Outcome:
    state: State
    value: Any = None  # what the send returned (SENT), or what was recorded (ALREADY)

    @property
    def settled(self) -> bool:
        return self.state is not State.BUSY

    @property
    def sent(self) -> bool:
        return self.state is State.SENT


Record = Callable[[Session, Any], None]


def send_once(
    db: Database,
    key: str,
    send: Callable[[], Any],
    *,
    record: Record | None = None,
    keep: bool = False,
    lease: timedelta = queue.DEFAULT_LEASE,
) -> Outcome:
    """Make `send()` once for `key`: claim (committed), send (no transaction), record.

    `send` returns what the caller needs (a ts, a dict of channel and ts, or None);
    `record(session, value)` writes it on the caller's rows in the recording transaction,
    where forget-me and retention find it. The record of the send itself keeps the value only
    with `keep` (then ALREADY returns it), for values that name no person or conversation (a
    ts): a DM's channel ID, say, would outlive a forget-me there.
    """
    token = uuid.uuid4().hex
    found = _claim(db, key, token, utcnow(), lease)
    if found is not None:
        return found
    try:
        value = send()
    except BaseException:
        _release(db, key, token)
        raise
    with db.session() as session:
        row = session.get(SendRecord, key, with_for_update=True) or SendRecord(key=key)
        if row.holder != token:
            logger.warning("send %s outlived its lease; another sender may repeat it", key)
        row.holder, row.claimed_until = None, None
        row.done_at = row.done_at or utcnow()
        row.result = {"value": value} if keep else {}
        session.add(row)
        if record is not None:
            record(session, value)
    return Outcome(State.SENT, value)


def _claim(db: Database, key: str, token: str, now: datetime, lease: timedelta) -> Outcome | None:
    """None when this token now holds the key's claim; else what the record says."""
    with db.session() as session:
        inserted = session.execute(
            upsert.insert(session, SendRecord)
            .values(key=key, holder=token, claimed_until=now + lease, result={}, created_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(SendRecord.key))  # PostgreSQL's rowcount says -1 here; a row does not
        )
        if inserted.first() is not None:
            return None
        taken = session.execute(
            update(SendRecord)
            .where(
                col(SendRecord.key) == key,
                col(SendRecord.done_at).is_(None),
                col(SendRecord.claimed_until) < now,
            )
            .values(holder=token, claimed_until=now + lease)
        )
        if rowcount(taken) == 1:
            return None
        row = session.get(SendRecord, key)
        if row is not None and row.done_at is not None:
            return Outcome(State.ALREADY, (row.result or {}).get("value"))
        return Outcome(State.BUSY)


def _release(db: Database, key: str, token: str) -> None:
    """Give a failed send's claim back, so the next try makes it."""
    with db.session() as session:
        session.execute(
            delete(SendRecord).where(
                col(SendRecord.key) == key,
                col(SendRecord.holder) == token,
                col(SendRecord.done_at).is_(None),
            )
        )


@contextmanager
def hold(db: Database, key: str, *, lease: timedelta = queue.DEFAULT_LEASE) -> Iterator[bool]:
    """An exclusive hold on `key` for work of several steps that must not interleave with
    itself (a relay's copy checked, sent and recorded), kept in the same records as sends and
    released when the block ends. Yields False, running nothing exclusive, if it is held
    elsewhere; a holder that dies lets go when its lease runs out. No transaction stays open.
    """
    token = uuid.uuid4().hex
    if _claim(db, key, token, utcnow(), lease) is not None:
        yield False
        return
    try:
        yield True
    finally:
        _release(db, key, token)


def recorded(db: Database, key: str) -> Any:
    """What the send for `key` recorded, or None if it was not made (yet)."""
    with db.read() as session:
        row = session.get(SendRecord, key)
        return None if row is None or row.done_at is None else (row.result or {}).get("value")


class NotYet(Exception):
    """Raised by a step whose work cannot be final yet: it runs again on the next try."""


@dataclass(frozen=True)
class Step:
    """One follow-up: `run` is made once under `{key}/{name}` (see send_once)."""

    name: str
    run: Callable[[], Any]
    record: Record | None = None
    keep: bool = False


class StepsPending(RuntimeError):
    """Some step failed or is being made elsewhere; the due item runs the rest again."""


def run_steps(
    db: Database, *, key: str, steps: Sequence[Step], what: str, clear: bool = True
) -> bool:
    """Run each step once for the due item `key`; True when every step is settled.

    A failing step does not hold up the others: it is logged (the exception's type only, never
    an id or a text) and StepsPending is raised once all have run, for the caller to say so.
    A step made elsewhere just now, or not final yet, makes the answer False: the due item
    finishes it. When all are settled the item is cancelled and (unless `clear` is False, for
    a payload that names no one) its payload emptied. `what` names the follow-ups in the log.
    """
    failed: list[Exception] = []
    busy = 0
    for step in steps:
        try:
            outcome = send_once(
                db, f"{key}/{step.name}", step.run, record=step.record, keep=step.keep
            )
        except NotYet:
            busy += 1
            continue
        except Exception as error:  # the other steps still run; the item retries this one
            logger.warning(
                "%s follow-up %s failed (%s); it will be retried",
                what,
                step.name,
                type(error).__name__,
            )
            failed.append(error)
            continue
        busy += not outcome.settled
    if failed:
        # Chained to the first failure: the item's record names its type (queue.mark_failed).
        raise StepsPending(f"{len(failed)} {what} follow-up(s) failed") from failed[0]
    if busy:
        return False
    with db.session() as session:
        if clear:
            queue.clear_payload(session, key=key)
        queue.cancel(session, key=key)
    return True


def run_due_steps(
    db: Database, *, key: str, steps: Sequence[Step], what: str, clear: bool = True
) -> None:
    """run_steps for the sweep: an unsettled step makes the due item run again later."""
    if not run_steps(db, key=key, steps=steps, what=what, clear=clear):
        raise StepsPending(f"{what} follow-ups are not all done")
