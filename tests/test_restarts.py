"""Restarts, replicas and faults: every scheduled prompt arrives exactly once (SPEC 6)."""

from __future__ import annotations

import concurrent.futures
import threading
from collections import Counter
from datetime import timedelta

from bot.app.factory import create_app
from bot.app.scheduler import Sweeper
from bot.devkit import factories
from bot.devkit.factories import REQUESTER
from bot.devkit.sandbox import Sandbox
from bot.jobs import queue as jobs
from handlers.common.client import make_client
from handlers.common.deps import build_deps
from handlers.feedback import Ids
from storage.db import Database
from storage.types import utcnow

ALLIES = ("U0ALLY1", "U0ALLY2", "U0ALLY3")


def _prompts(box: Sandbox) -> Counter[tuple[str, str]]:
    """(recipient, button token) of every prompt posted, counted."""
    seen: Counter[tuple[str, str]] = Counter()
    for call in box.fake.calls_to("chat.postMessage"):
        if call.ok and Ids.WORKED in str(call.args.get("blocks")):
            token = next(
                e["value"]
                for b in call.args["blocks"]
                if b["type"] == "actions"
                for e in b["elements"]
            )
            seen[(call.args["channel"], token)] += 1
    return seen


def _matches(box: Sandbox, count: int) -> tuple[list[int], object]:
    matched = utcnow() - timedelta(days=20)
    ids = [
        factories.match(box.db, box.settings, matched_at=matched, ally=ALLIES[i % 3])
        for i in range(count)
    ]
    return ids, matched + box.settings.feedback_after


def test_a_prompt_due_while_the_bot_was_down_arrives_once_after_restart(db: Database) -> None:
    """Stop after a match, let the time pass, start a new app on the database: one prompt each."""
    with Sandbox(db.url, db=db) as first:
        matched = utcnow() - timedelta(days=8)
        factories.match(db, first.settings, matched_at=matched)
        assert first.run_due(matched + timedelta(days=1)) == 0
    with Sandbox(db.url, db=db) as second:
        assert second.run_due() == 1
        assert second.run_due() == 0
        prompts = _prompts(second)
        assert sorted(user for user, _ in prompts) == sorted([REQUESTER, "U0ALLY1"])
        assert set(prompts.values()) == {1}
    with Sandbox(db.url, db=db) as third:
        assert third.run_due() == 0
        assert _prompts(third) == Counter()


def test_a_replica_that_died_before_sending_is_taken_over_once(db: Database) -> None:
    """A claim whose lease ran out (its replica died) is swept again by another replica."""
    with Sandbox(db.url, db=db) as box:
        _, prompt_at = _matches(box, 1)
        dead = jobs.claim_next(
            db, kinds=["feedback_prompt"], worker="dead", now=prompt_at, lease=timedelta(minutes=5)
        )
        assert dead is not None
        assert box.run_due(prompt_at + timedelta(minutes=1)) == 0  # the lease still holds
        assert box.run_due(prompt_at + timedelta(minutes=6)) == 1
        prompts = _prompts(box)
        assert sorted(u for u, _ in prompts) == sorted([REQUESTER, "U0ALLY1"])
        assert set(prompts.values()) == {1}


def test_a_replica_that_died_after_sending_causes_no_second_send(db: Database) -> None:
    """Sent but not marked done: the replica that takes over finds the sends recorded."""
    with Sandbox(db.url, db=db) as box:
        _, prompt_at = _matches(box, 1)
        dead = jobs.claim_next(
            db, kinds=["feedback_prompt"], worker="dead", now=prompt_at, lease=timedelta(minutes=5)
        )
        assert dead is not None
        box.deps.due_handlers["feedback_prompt"](box.deps, box.client, dead)  # then it died
        assert len(_prompts(box)) == 2
        assert box.run_due(prompt_at + timedelta(minutes=6)) == 1
        prompts = _prompts(box)
        assert len(prompts) == 2 and set(prompts.values()) == {1}


def test_a_send_failing_half_way_resends_only_what_is_missing(db: Database) -> None:
    """The requester's prompt went out, the ally's failed: the retry sends only the ally's."""
    with Sandbox(db.url, db=db) as box:
        matched = utcnow() - timedelta(days=8)
        factories.match(db, box.settings, matched_at=matched, ally="U0NEWALLY")
        prompt_at = matched + box.settings.feedback_after
        assert box.run_due(prompt_at) == 1  # user_not_found for the ally: the item stays due
        assert [u for u, _ in _prompts(box)] == [REQUESTER]
        box.fake.add_user("U0NEWALLY", "nia", real_name="Nia New", email="nia@example.com")
        assert box.run_due(prompt_at + timedelta(hours=1)) == 1
        prompts = _prompts(box)
        assert sorted(u for u, _ in prompts) == sorted([REQUESTER, "U0NEWALLY"])
        assert set(prompts.values()) == {1}


def test_two_replicas_sweeping_together_send_every_prompt_once(db: Database) -> None:
    """Two app instances (and two more sweepers) with their own Database objects sweep at once."""
    with Sandbox(db.url, db=db) as box:
        for ally in ALLIES:
            factories.member(db, ally, "Engineering")
        _, prompt_at = _matches(box, 30)
        other_db = Database(db.url)
        try:
            other_deps = build_deps(box.settings, other_db)
            other_client = make_client(box.settings)
            create_app(other_deps, client=other_client)
            replicas = [
                Sweeper(box.deps, box.client),
                Sweeper(other_deps, other_client),
                Sweeper(box.deps, box.client),
                Sweeper(other_deps, other_client),
            ]
            start = threading.Barrier(len(replicas))

            def sweep(sweeper: Sweeper) -> int:
                start.wait()
                return sweeper.run_due(prompt_at)

            with concurrent.futures.ThreadPoolExecutor(len(replicas)) as pool:
                ran = list(pool.map(sweep, replicas))
        finally:
            other_db.dispose()
        assert sum(ran) == 30
        prompts = _prompts(box)
        assert len(prompts) == 60
        assert set(prompts.values()) == {1}


def test_rate_limits_and_server_errors_lose_no_prompt_and_double_none(db: Database) -> None:
    """429 (retried after Retry-After) and 500s past the retries: all prompts arrive, once."""
    # Reminders far away, so that every send here is a prompt.
    with Sandbox(db.url, db=db, ALLYBOT_FEEDBACK_CLOSE_AFTER="60d") as box:
        _, first_due = _matches(box, 3)
        box.fake.fail_next("chat.postMessage", status=429, times=1, retry_after=0)
        assert box.run_due(first_due) == 3
        matched = utcnow() - timedelta(days=10)
        for ally in ALLIES:
            factories.match(db, box.settings, matched_at=matched, ally=ally)
        second_due = matched + box.settings.feedback_after
        # More 500s than the client retries: one item's send fails; it stays due.
        box.fake.fail_next("chat.postMessage", status=500, times=3)
        assert box.run_due(max(first_due, second_due)) == 3
        assert len(_prompts(box)) == 10
        assert box.run_due(max(first_due, second_due) + timedelta(hours=1)) == 1
        statuses = Counter(c.status for c in box.fake.calls_to("chat.postMessage"))
        assert statuses[429] == 1 and statuses[500] == 3
        prompts = _prompts(box)
        assert len(prompts) == 12
        assert set(prompts.values()) == {1}


def test_a_500_mid_sweep_leaves_the_item_due_and_it_is_sent_later(db: Database) -> None:
    """When the Web API keeps failing, the item returns to pending and a later sweep sends it."""
    with Sandbox(db.url, db=db) as box:
        _, prompt_at = _matches(box, 1)
        box.fake.fail_next("chat.postMessage", status=500, times=3)
        assert box.run_due(prompt_at) == 1
        assert _prompts(box) == Counter()
        with db.session() as s:
            item = jobs.find(s, key=f"feedback:prompt:{_first_match(db)}")
            assert item is not None and item.status == jobs.PENDING and item.attempts == 1
        assert box.run_due(prompt_at + timedelta(hours=1)) == 1
        prompts = _prompts(box)
        assert len(prompts) == 2 and set(prompts.values()) == {1}


def _first_match(db: Database) -> int:
    from sqlalchemy import select

    from storage.models.requests import Match

    with db.session() as s:
        return int(s.execute(select(Match.id).order_by(Match.id)).scalars().first() or 0)
