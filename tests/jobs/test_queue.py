"""Due items: scheduled once per key, claimed by one sweeper, retried, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from bot.jobs import queue as jobs
from storage.db import Database
from storage.models.schedule import DueItem

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Numbered(jobs.Payload):
    """A test kind's payload: a number."""

    n: int


class Worded(jobs.Payload):
    """A test kind's payload: a word."""

    x: str


class Secret(jobs.Payload):
    """A test kind's payload that holds user text."""

    details: str


class Typed(jobs.Payload):
    """A payload of several types, as the kinds' payloads have."""

    request_id: int
    case_id: int | None = None
    offering: list[str] = []
    cards: list[tuple[str, int]] = []


def _item(db: Database, key: str) -> DueItem:
    with db.session() as s:
        item = jobs.find(s, key=key)
        assert item is not None
        return item


def test_schedule_is_idempotent_on_key(db: Database) -> None:
    """Scheduling the same key twice keeps one item, with the first due time."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0, payload=Numbered(n=1))
        jobs.schedule(s, kind="k", key="k:1", due_at=T0 + timedelta(days=1), payload=Numbered(n=2))
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0 + timedelta(days=2))
    item = _item(db, "k:1")
    assert item.due_at == T0 and item.payload == {"n": 1} and item.status == jobs.PENDING


def test_due_items_run_once_and_not_before_their_time(db: Database) -> None:
    """A sweep before the due time runs nothing; after it, the handler runs once."""
    seen: list[str] = []
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0, payload=Worded(x="y"))
    handlers = {"k": lambda work: seen.append(work.key)}
    assert jobs.sweep(db, handlers, now=T0 - timedelta(seconds=1), worker="w") == 0
    assert jobs.sweep(db, handlers, now=T0, worker="w") == 1
    assert jobs.sweep(db, handlers, now=T0 + timedelta(days=1), worker="w") == 0
    assert seen == ["k:1"]
    assert _item(db, "k:1").status == jobs.DONE


def test_cancel_leaves_nothing_to_run(db: Database) -> None:
    """A cancelled item never runs."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0)
        jobs.cancel(s, key="k:1")
    assert jobs.sweep(db, {"k": lambda w: None}, now=T0, worker="w") == 0
    assert _item(db, "k:1").status == jobs.CANCELLED


def test_a_claim_is_exclusive_until_its_lease_expires(db: Database) -> None:
    """A second sweeper cannot claim a claimed item; after the lease ran out, it can."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0)
    lease = timedelta(minutes=5)
    first = jobs.claim_next(db, kinds=["k"], worker="a", now=T0, lease=lease)
    assert first is not None and first.key == "k:1"
    assert jobs.claim_next(db, kinds=["k"], worker="b", now=T0 + timedelta(minutes=4)) is None
    again = jobs.claim_next(db, kinds=["k"], worker="b", now=T0 + timedelta(minutes=6))
    assert again is not None and again.id == first.id
    # The replica that died does not get to mark it done over the new claim.
    assert not jobs.mark_done(db, first, worker="a")
    assert jobs.mark_done(db, again, worker="b")


def test_a_failing_handler_leaves_the_item_due_with_a_backoff(db: Database) -> None:
    """An exception puts the item back to pending, attempts+1, due again after a backoff."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0)
    calls: list[int] = []

    def flaky(work: jobs.DueWork) -> None:
        calls.append(work.attempts)
        if len(calls) == 1:
            raise RuntimeError("Slack is down")

    assert jobs.sweep(db, {"k": flaky}, now=T0, worker="w") == 1
    item = _item(db, "k:1")
    assert item.status == jobs.PENDING and item.attempts == 1
    assert item.due_at == T0 + jobs.backoff(1)
    assert item.last_error == "RuntimeError"
    assert jobs.sweep(db, {"k": flaky}, now=T0 + timedelta(seconds=1), worker="w") == 0
    assert jobs.sweep(db, {"k": flaky}, now=T0 + jobs.backoff(1), worker="w") == 1
    assert calls == [0, 1]
    assert _item(db, "k:1").status == jobs.DONE


def test_an_item_is_parked_after_many_failures(db: Database) -> None:
    """After MAX_ATTEMPTS failures the item is marked failed instead of retried forever."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0)

    def broken(work: jobs.DueWork) -> None:
        raise ValueError("no")

    now = T0
    for _ in range(jobs.MAX_ATTEMPTS):
        jobs.sweep(db, {"k": broken}, now=now, worker="w")
        now += timedelta(days=1)
    item = _item(db, "k:1")
    assert item.status == jobs.FAILED and item.attempts == jobs.MAX_ATTEMPTS


def test_kinds_without_a_handler_are_left_for_others(db: Database) -> None:
    """A sweeper claims only kinds it has handlers for."""
    with db.session() as s:
        jobs.schedule(s, kind="other", key="o:1", due_at=T0)
    assert jobs.sweep(db, {"k": lambda w: None}, now=T0, worker="w") == 0
    assert _item(db, "o:1").status == jobs.PENDING


def test_record_sent_is_seen_by_the_next_try(db: Database) -> None:
    """What a handler recorded as sent comes back in `sent` on a retry."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0)
    seen: list[dict] = []

    def handler(work: jobs.DueWork) -> None:
        seen.append(dict(work.sent))
        with db.session() as s:
            jobs.record_sent(s, key=work.key, name="ts", value="123.456")
        if len(seen) == 1:
            raise RuntimeError("marking failed")

    jobs.sweep(db, {"k": handler}, now=T0, worker="w")
    jobs.sweep(db, {"k": handler}, now=T0 + timedelta(hours=2), worker="w")
    assert seen == [{}, {"ts": "123.456"}]


def test_naive_due_times_are_refused(db: Database) -> None:
    """A due time without a zone is a bug, not a guess."""
    with db.session() as s, pytest.raises(ValueError):
        jobs.schedule(s, kind="k", key="k:1", due_at=datetime(2026, 1, 1))


def _alerts(db: Database) -> list[DueItem]:
    with db.session() as s:
        query = select(DueItem).where(DueItem.kind == jobs.FAILED_ALERT).order_by(DueItem.id)
        return list(s.execute(query).scalars().all())


def _fail_until_parked(db: Database, kind: str, key: str, payload: jobs.Payload | None) -> datetime:
    with db.session() as s:
        jobs.schedule(s, kind=kind, key=key, due_at=T0, payload=payload)

    def broken(work: jobs.DueWork) -> None:
        raise ValueError(f"could not send {work.payload}")

    now = T0
    for _ in range(jobs.MAX_ATTEMPTS):
        assert jobs.sweep(db, {kind: broken}, now=now, worker="w") == 1
        now += timedelta(days=1)
    return now


def test_parking_an_item_schedules_one_alert_without_its_payload(db: Database) -> None:
    """The sweep that parks an item schedules one alert: kind, id, attempts, error class only."""
    now = _fail_until_parked(db, "k", "k:1", Secret(details="Priya's secret ask"))
    parked = _item(db, "k:1")
    [alert] = _alerts(db)
    assert alert.key == f"{jobs.FAILED_ALERT}:{parked.id}"
    assert alert.status == jobs.PENDING and alert.due_at == now - timedelta(days=1)
    assert alert.payload == {
        "kind": "k",
        "item_id": parked.id,
        "attempts": jobs.MAX_ATTEMPTS,
        "error": "ValueError",
    }
    # Later sweeps (no handler for the alert here) add nothing and leave the parked item be.
    assert jobs.sweep(db, {"k": lambda w: None}, now=now + timedelta(days=30), worker="w") == 0
    assert len(_alerts(db)) == 1


def test_failures_before_the_last_attempt_schedule_no_alert(db: Database) -> None:
    """An item that is only retried (not parked) alerts nobody."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0)

    def broken(work: jobs.DueWork) -> None:
        raise ValueError("no")

    now = T0
    for _ in range(jobs.MAX_ATTEMPTS - 1):
        jobs.sweep(db, {"k": broken}, now=now, worker="w")
        now += timedelta(days=1)
    assert _item(db, "k:1").status == jobs.PENDING
    assert _alerts(db) == []


def test_only_the_worker_that_parks_the_item_alerts(db: Database) -> None:
    """A replica whose claim was taken over cannot park the item, nor alert about it."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0)
    with db.session() as s:
        s.execute(update(DueItem).values(attempts=jobs.MAX_ATTEMPTS - 1))
    stale = jobs.claim_next(db, kinds=["k"], worker="a", now=T0, lease=timedelta(minutes=5))
    later = T0 + timedelta(minutes=6)
    current = jobs.claim_next(db, kinds=["k"], worker="b", now=later)
    assert stale is not None and current is not None
    assert not jobs.mark_failed(db, stale, worker="a", error=RuntimeError("late"))
    assert _alerts(db) == []
    assert jobs.mark_failed(db, current, worker="b", error=RuntimeError("parked"))
    assert not jobs.mark_failed(db, current, worker="b", error=RuntimeError("twice"))
    [alert] = _alerts(db)
    assert alert.payload["error"] == "RuntimeError"
    assert _item(db, "k:1").status == jobs.FAILED


def test_a_parked_alert_does_not_alert_about_itself(db: Database) -> None:
    """An alert that can never be sent is parked in the end, and nothing alerts about it."""
    _fail_until_parked(db, "k", "k:1", None)
    [alert] = _alerts(db)

    def unsendable(work: jobs.DueWork) -> None:
        raise RuntimeError("Slack is down")

    now = T0 + timedelta(days=60)
    for _ in range(jobs.MAX_ATTEMPTS):
        assert jobs.sweep(db, {jobs.FAILED_ALERT: unsendable}, now=now, worker="w") == 1
        now += timedelta(days=1)
    assert jobs.sweep(db, {jobs.FAILED_ALERT: unsendable}, now=now, worker="w") == 0
    assert [a.id for a in _alerts(db)] == [alert.id]
    assert _item(db, alert.key).status == jobs.FAILED


def test_a_typed_payload_round_trips_through_schedule_claim_and_read(db: Database) -> None:
    """The model is stored as its JSON keys and read back equal; a default left out is not
    written (the keys each kind stores stay as they were)."""
    sent = Typed(request_id=7, offering=["U1", "U2"], cards=[("story", 3)])
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0, payload=sent)
    assert _item(db, "k:1").payload == {
        "request_id": 7,
        "offering": ["U1", "U2"],
        "cards": [["story", 3]],
    }
    work = jobs.claim_next(db, kinds=["k"], worker="w", now=T0)
    assert work is not None
    assert work.read(Typed) == sent
    assert work.read(Typed).case_id is None


def test_an_old_item_with_a_key_the_model_no_longer_has_still_reads(db: Database) -> None:
    """Items already in a database read on: a key the model does not know is ignored."""
    with db.session() as s:
        s.add(
            DueItem(
                kind="k",
                key="k:1",
                due_at=T0,
                payload={"request_id": "7", "case_id": None, "retired": True},
                status=jobs.PENDING,
                attempts=0,
                sent={},
                created_at=T0,
                updated_at=T0,
            )
        )
    work = jobs.claim_next(db, kinds=["k"], worker="w", now=T0)
    assert work is not None
    assert work.read(Typed) == Typed(request_id=7, case_id=None)


def test_a_payload_of_the_wrong_type_raises_and_the_sweep_retries_it(db: Database) -> None:
    """A non-numeric id is never misread: reading it raises, so the sweep retries the item
    (and in the end parks it) instead of running it on a wrong value."""
    with db.session() as s:
        jobs.schedule(s, kind="k", key="k:1", due_at=T0, payload=Worded(x="not-a-number"))
    work = jobs.claim_next(db, kinds=["k"], worker="w", now=T0)
    assert work is not None
    with pytest.raises(ValidationError):
        work.read(Numbered)
    with db.session() as s:
        s.execute(update(DueItem).values(status=jobs.PENDING, claimed_by=None))
    seen: list[int] = []
    handlers = {"k": lambda item: seen.append(item.read(Numbered).n)}
    assert jobs.sweep(db, handlers, now=T0, worker="w") == 1
    item = _item(db, "k:1")
    assert seen == [] and item.status == jobs.PENDING and item.attempts == 1
    assert item.last_error == "ValidationError"
