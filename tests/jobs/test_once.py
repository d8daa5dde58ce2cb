"""Send once: claimed (committed), made with no transaction open, recorded; never doubled."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from storage.db import Database
from storage.models.schedule import SendRecord
from storage.types import utcnow


class Step(jobs.Payload):
    """A test kind's payload."""

    a: int


def test_a_send_is_made_once_and_its_answer_kept(db: Database) -> None:
    """The second call finds it recorded: nothing sent, the first answer returned."""
    sent: list[str] = []

    def send() -> dict[str, str]:
        sent.append("x")
        return {"ts": "1.1"}

    first = once.send_once(db, "thing:1/post", send, keep=True)
    second = once.send_once(db, "thing:1/post", send, keep=True)
    assert first == once.Outcome(once.State.SENT, {"ts": "1.1"})
    assert second == once.Outcome(once.State.ALREADY, {"ts": "1.1"})
    assert sent == ["x"]
    assert once.recorded(db, "thing:1/post") == {"ts": "1.1"}


def test_what_slack_answered_is_not_kept_unless_asked(db: Database) -> None:
    """A DM's channel ID returned by a send stays out of the record (forget-me could not
    reach it there); the caller's `record` writes it where forget-me looks."""
    once.send_once(db, "thing:1/dm", lambda: {"channel": "D0SECRET", "ts": "1.1"})
    with db.read() as session:
        row = session.get(SendRecord, "thing:1/dm")
        assert row is not None and row.done_at is not None and "D0SECRET" not in str(row.result)


def test_no_transaction_is_open_while_the_send_is_made(db: Database) -> None:
    """While the send runs, another unit of work can write (SQLite: the write lock is free)."""
    wrote: list[bool] = []

    def send() -> None:
        with db.session(wait=1) as session:
            jobs.schedule(session, kind="k", key="k:1", due_at=utcnow())
        wrote.append(True)

    once.send_once(db, "thing:1/post", send)
    assert wrote == [True]


def test_a_failed_send_is_released_and_made_by_the_next_try(db: Database) -> None:
    """A send that raises leaves no record: the retry sends."""

    def fail() -> None:
        raise OSError("slack down")

    with pytest.raises(OSError):
        once.send_once(db, "thing:1/post", fail)
    assert once.send_once(db, "thing:1/post", lambda: "ok").state is once.State.SENT


def test_twenty_at_once_make_one_send(db: Database) -> None:
    """Concurrent callers: one sends; the others find it under way or done, none repeats it."""
    release = threading.Event()
    started = threading.Event()
    sent: list[int] = []

    def send() -> str:
        started.set()
        release.wait(10)
        sent.append(1)
        return "ts"

    with ThreadPoolExecutor(20) as pool:
        first = pool.submit(once.send_once, db, "thing:1/post", send)
        assert started.wait(10)
        others = [pool.submit(once.send_once, db, "thing:1/post", send) for _ in range(19)]
        busy = [f.result() for f in others]
        release.set()
        assert first.result().state is once.State.SENT
    assert sent == [1]
    assert {o.state for o in busy} == {once.State.BUSY}
    assert once.send_once(db, "thing:1/post", send).state is once.State.ALREADY


def test_a_claim_whose_lease_ran_out_is_taken_over(db: Database) -> None:
    """A sender that died mid-call: after its lease, another makes the send."""
    with db.session() as session:
        session.add(SendRecord(key="thing:1/post", holder="dead", claimed_until=utcnow()))
    with db.session() as session:
        session.execute(update(SendRecord).values(claimed_until=utcnow() - timedelta(seconds=1)))
    assert once.send_once(db, "thing:1/post", lambda: "again").state is once.State.SENT


def test_the_record_is_written_with_the_send(db: Database) -> None:
    """`record` writes the answer on the caller's rows in the recording unit of work."""

    def record(session: Session, ts: str) -> None:
        jobs.schedule(session, kind="k", key=f"k:{ts}", due_at=utcnow())

    once.send_once(db, "thing:1/post", lambda: "7.7", record=record)
    with db.read() as session:
        assert jobs.find(session, key="k:7.7") is not None


def test_steps_run_each_once_and_retire_the_item_when_all_are_done(db: Database) -> None:
    """A failing step does not stop the others; the next run makes only what is left."""
    with db.session() as session:
        jobs.schedule(session, kind="k", key="k:1", due_at=utcnow(), payload=Step(a=1))
    calls: list[str] = []
    fail = [True]

    def flaky() -> None:
        calls.append("flaky")
        if fail[0]:
            raise OSError("down")

    steps = [
        once.Step("one", lambda: calls.append("one")),
        once.Step("flaky", flaky),
        once.Step("three", lambda: calls.append("three")),
    ]
    with pytest.raises(once.StepsPending):
        once.run_steps(db, key="k:1", steps=steps, what="test")
    fail[0] = False
    assert once.run_steps(db, key="k:1", steps=steps, what="test") is True
    assert calls == ["one", "flaky", "three", "flaky"]
    with db.read() as session:
        item = jobs.find(session, key="k:1")
        assert item is not None and item.status == jobs.CANCELLED and item.payload == {}


def test_a_step_not_final_yet_leaves_the_item_for_the_sweep(db: Database) -> None:
    """NotYet: nothing recorded, the item stays, and the sweep's run raises to retry."""
    with db.session() as session:
        jobs.schedule(session, kind="k", key="k:1", due_at=utcnow())

    def not_yet() -> None:
        raise once.NotYet("later")

    steps = [once.Step("later", not_yet)]
    assert once.run_steps(db, key="k:1", steps=steps, what="test") is False
    with pytest.raises(once.StepsPending):
        once.run_due_steps(db, key="k:1", steps=steps, what="test")
    assert once.recorded(db, "k:1/later") is None


def test_a_hold_excludes_a_second_holder_and_is_let_go(db: Database) -> None:
    """once.hold: one holder at a time; released when the block ends, even on an error."""
    with once.hold(db, "relay:1/sync") as held, once.hold(db, "relay:1/sync") as second:
        assert held and not second
    with pytest.raises(RuntimeError), once.hold(db, "relay:1/sync") as held:
        assert held
        raise RuntimeError("boom")
    with once.hold(db, "relay:1/sync") as held:
        assert held
