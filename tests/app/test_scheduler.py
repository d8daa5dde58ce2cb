"""The APScheduler jobs: configured for downtime and replicas; the cron makes one post."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import select, update

from bot.app.scheduler import (
    LEADERBOARD_JOB,
    STORIES_CALL_JOB,
    SWEEP_JOB,
    Scheduler,
    Sweeper,
    last_fire_time,
    schedule_leaderboard,
)
from bot.devkit import factories
from bot.devkit.sandbox import DEFAULT_WORKSPACE, Sandbox, sandbox_settings
from bot.jobs import queue as jobs
from bot.jobs.queue import MAX_ATTEMPTS
from bot.rules.points.leaderboard import LEADERBOARD_POST
from storage.db import Database
from storage.models.programme import BusinessUnit
from storage.models.schedule import DueItem
from storage.types import utcnow


class Leaky(jobs.Payload):
    """A test kind's payload that holds user text."""

    details: str


def test_last_fire_time_is_in_the_programmes_time_zone() -> None:
    """`0 9 1 * *` in Paris fires at 08:00 UTC in winter."""
    settings = sandbox_settings("sqlite://", DEFAULT_WORKSPACE, ALLYBOT_TIMEZONE="Europe/Paris")
    now = datetime(2026, 12, 1, 8, 0, 5, tzinfo=UTC)
    assert last_fire_time(settings, now) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert last_fire_time(settings, datetime(2026, 12, 1, 7, 59, tzinfo=UTC)) is None
    assert last_fire_time(settings, now + timedelta(days=2)) is None


def test_a_monday_cron_fires_on_mondays() -> None:
    """`0 9 * * 1` is Monday in crontab: its last fire before a Wednesday is that Monday."""
    settings = sandbox_settings(
        "sqlite://", DEFAULT_WORKSPACE, ALLYBOT_LEADERBOARD_CRON="0 9 * * 1"
    )
    wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    fire = last_fire_time(settings, wednesday, within=timedelta(days=3))
    assert fire == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert fire.strftime("%A") == "Monday"


def test_a_sunday_cron_written_as_7_runs_on_sundays(db: Database) -> None:
    """`0 9 * * 7` loads, and the started scheduler's next leaderboard run is a Sunday."""
    with Sandbox(db.url, db=db, ALLYBOT_LEADERBOARD_CRON="0 9 * * 7") as box:
        scheduler = Scheduler(box.deps, box.client, interval=3600, pace=0).start()
        try:
            job = scheduler.scheduler.get_job(LEADERBOARD_JOB)
            assert job is not None and job.next_run_time.strftime("%A %H:%M") == "Sunday 09:00"
        finally:
            scheduler.shutdown()


def test_a_monday_cron_is_scheduled_for_a_monday(db: Database) -> None:
    """`0 9 * * 1` as the background scheduler runs it: next on a Monday, not a Tuesday."""
    with Sandbox(db.url, db=db, ALLYBOT_LEADERBOARD_CRON="0 9 * * 1") as box:
        scheduler = Scheduler(box.deps, box.client, interval=3600, pace=0).start()
        try:
            job = scheduler.scheduler.get_job(LEADERBOARD_JOB)
            assert job is not None and job.next_run_time.strftime("%A %H:%M") == "Monday 09:00"
        finally:
            scheduler.shutdown()


def _programme_started(db: Database, when: datetime) -> None:
    """Date the business units (the programme's start) back to `when`."""
    with db.session() as s:
        s.execute(update(BusinessUnit).values(created_at=when))


def _leaderboard_items(db: Database) -> list[DueItem]:
    with db.session() as s:
        query = select(DueItem).where(DueItem.kind == LEADERBOARD_POST).order_by(DueItem.id)
        return list(s.execute(query).scalars())


def _restart(box: Sandbox, now: datetime) -> None:
    """Start the background scheduler as a process does after downtime, then stop it."""
    scheduler = Scheduler(box.deps, box.client, interval=3600, pace=0, clock=lambda: now)
    scheduler.start().shutdown()


def test_a_post_missed_during_weeks_of_downtime_is_made_once_after_restart(
    db: Database,
) -> None:
    """Down from 30 November to 20 December: the 1 December post is made, once, on restart."""
    with Sandbox(db.url, db=db) as box:
        _programme_started(db, datetime(2026, 1, 10, tzinfo=UTC))
        back = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
        _restart(box, back)
        _restart(box, back + timedelta(minutes=5))  # a second replica, or another restart
        [item] = _leaderboard_items(db)
        assert item.key == "leaderboard:2026-12-01T09:00" and item.payload == {"year": 2026}
        box.run_due(back + timedelta(minutes=10))
        posts = box.fake.calls_to("chat.postMessage")
        assert [p.args["channel"] for p in posts] == [box.workspace.announcements_channel]


def test_a_yearly_post_missed_months_ago_is_still_made(db: Database) -> None:
    """Only the latest missed fire counts, however long ago: the 1 January post of last year."""
    with Sandbox(db.url, db=db, ALLYBOT_LEADERBOARD_CRON="0 9 1 1 *") as box:
        _programme_started(db, datetime(2025, 3, 1, tzinfo=UTC))
        _restart(box, datetime(2027, 11, 30, 12, 0, tzinfo=UTC))
        [item] = _leaderboard_items(db)
        assert item.key == "leaderboard:2027-01-01T09:00" and item.payload == {"year": 2026}


def test_a_new_installation_does_not_post_a_leaderboard_at_once(db: Database) -> None:
    """Fire times before the programme had business units were not missed: nothing is made."""
    with Sandbox(db.url, db=db) as box:
        _programme_started(db, datetime(2026, 12, 20, 9, 30, tzinfo=UTC))
        _restart(box, datetime(2026, 12, 20, 10, 0, tzinfo=UTC))
        assert _leaderboard_items(db) == []
        # The next fire after the start is posted as usual.
        _restart(box, datetime(2027, 1, 1, 9, 0, 30, tzinfo=UTC))
        assert [i.key for i in _leaderboard_items(db)] == ["leaderboard:2027-01-01T09:00"]


def test_two_replicas_firing_the_cron_schedule_one_post(db: Database) -> None:
    """The cron only schedules an item keyed by its fire time: both replicas make one."""
    settings = sandbox_settings(db.url, DEFAULT_WORKSPACE)
    other = Database(db.url)
    try:
        fired = datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC)
        keys = {
            schedule_leaderboard(db, settings, fired),
            schedule_leaderboard(other, settings, fired + timedelta(seconds=30)),
        }
    finally:
        other.dispose()
    assert keys == {"leaderboard:2026-12-01T09:00"}
    with db.session() as s:
        [item] = s.execute(select(DueItem)).scalars().all()
    assert item.payload == {"year": 2026}


def test_the_january_post_is_about_the_year_just_ended(db: Database) -> None:
    """On 1 January the standings posted are the previous year's."""
    settings = sandbox_settings(db.url, DEFAULT_WORKSPACE)
    schedule_leaderboard(db, settings, datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    with db.session() as s:
        [item] = s.execute(select(DueItem)).scalars().all()
    assert item.payload == {"year": 2026}


def test_the_background_scheduler_sweeps_and_is_configured_for_downtime(
    sqlite_sandbox: Sandbox,
) -> None:
    """Started, it sweeps at once (work due while down) with explicit, coalesced jobs."""
    box = sqlite_sandbox
    matched = utcnow() - timedelta(days=8)
    factories.match(box.db, box.settings, matched_at=matched)
    scheduler = Scheduler(box.deps, box.client, interval=3600, pace=0).start()
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {SWEEP_JOB, LEADERBOARD_JOB, STORIES_CALL_JOB}
        for job in jobs.values():
            assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 3600
        box.fake.wait_for("chat.postMessage", count=2, timeout=15)
    finally:
        scheduler.shutdown()
    assert not scheduler.scheduler.running


def test_an_injected_clock_moves_the_sweep_forward(sqlite_sandbox: Sandbox) -> None:
    """The scheduler's clock is injectable: a sweep sees the time it is given."""
    box = sqlite_sandbox
    matched = utcnow()
    factories.match(box.db, box.settings, matched_at=matched)
    later = matched + box.settings.feedback_after
    scheduler = Scheduler(box.deps, box.client, clock=lambda: later, pace=0)
    assert scheduler.sweep() == 1
    assert scheduler.sweep() == 0


FIRED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "Priya asked about <@U0ASKER> and priya@example.com"


def _post_fails_until_parked(box: Sandbox) -> datetime:
    """A leaderboard post that Slack refuses every time, swept until it is parked."""
    schedule_leaderboard(box.db, box.settings, FIRED)
    box.fake.fail_next("chat.postMessage", status=400, error="not_in_channel", times=MAX_ATTEMPTS)
    now = FIRED
    for _ in range(MAX_ATTEMPTS):
        box.run_due(now)
        now += timedelta(hours=2)
    return now


def _parked(db: Database, kind: str) -> DueItem:
    with db.session() as s:
        [item] = s.execute(select(DueItem).where(DueItem.kind == kind)).scalars().all()
    assert item.status == jobs.FAILED and item.attempts == MAX_ATTEMPTS
    return item


def _alert_text(message: dict) -> str:
    for block in message["blocks"]:
        Block.parse(block).validate_json()
    return json.dumps(message["blocks"]) + message["text"]


def test_parked_work_alerts_each_admin_once(db: Database) -> None:
    """Work that keeps failing is parked and each admin gets one DM about it, never another."""
    admins = ("U0ADMIN", "U0VOL1")
    with Sandbox(db.url, db=db, ALLYBOT_ADMINS=",".join(admins)) as box:
        now = _post_fails_until_parked(box)
        parked = _parked(db, LEADERBOARD_POST)
        for admin in admins:
            [dm] = box.fake.dm_messages(admin)
            text = _alert_text(dm)
            assert LEADERBOARD_POST in text and f"{parked.id}" in text
            assert f"{MAX_ATTEMPTS} times" in text and "SlackApiError" in text
            assert "not_in_channel" not in text and "logs" in text
        # Later sweeps, on this replica or another, send nothing more.
        assert box.run_due(now + timedelta(days=1)) == 0
        other = Database(db.url)
        try:
            assert Sweeper(replace(box.deps, db=other), box.client).run_due(now) == 0
        finally:
            other.dispose()
        assert [len(box.fake.dm_messages(a)) for a in admins] == [1, 1]
        assert len(box.fake.calls_to("chat.postMessage")) == MAX_ATTEMPTS + len(admins)


def test_the_alert_holds_no_payload_and_no_error_text(db: Database) -> None:
    """Only the kind, the id, the attempts and the error's class reach the admins."""
    with Sandbox(db.url, db=db) as box:

        def leaky(deps: object, client: object, item: jobs.DueWork) -> None:
            raise LookupError(f"no channel for {item.read(Leaky).details}")

        box.deps.due_handlers["test_leaky"] = leaky
        with db.session() as s:
            jobs.schedule(
                s,
                kind="test_leaky",
                key="test_leaky:1",
                due_at=FIRED,
                payload=Leaky(details=SECRET),
            )
        now = FIRED
        for _ in range(MAX_ATTEMPTS):
            box.run_due(now)
            now += timedelta(hours=2)
        parked = _parked(db, "test_leaky")
        [dm] = box.fake.dm_messages(box.workspace.admin.id)
        text = _alert_text(dm)
        assert "test_leaky" in text and str(parked.id) in text and "LookupError" in text
        for secret in ("Priya", "U0ASKER", "priya@example.com", "no channel for", "details"):
            assert secret not in text


def test_no_admins_means_a_warning_and_no_alert(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Without ALLYBOT_ADMINS the parked item is only logged, as a warning."""
    with Sandbox(db.url, db=db, ALLYBOT_ADMINS="") as box:
        caplog.set_level(logging.WARNING, logger="bot.app.scheduler")
        now = _post_fails_until_parked(box)
        parked = _parked(db, LEADERBOARD_POST)
        assert box.run_due(now) == 0
        assert len(box.fake.calls_to("chat.postMessage")) == MAX_ATTEMPTS
        warnings = [r for r in caplog.records if r.name == "bot.app.scheduler"]
        assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
        assert "ALLYBOT_ADMINS" in warnings[0].getMessage()
        assert str(parked.id) in warnings[0].getMessage()


def test_an_admin_whose_dm_failed_gets_it_on_the_retry_and_nobody_twice(db: Database) -> None:
    """A DM that fails is retried with the alert; admins already told are not told again."""
    admins = ("U0ADMIN", "U0VOL1")
    with Sandbox(db.url, db=db, ALLYBOT_ADMINS=",".join(admins)) as box:
        now = _post_fails_until_parked(box)
        # Another post parked, and the first admin's DM about it refused once.
        with db.session() as s:
            jobs.schedule(s, kind=LEADERBOARD_POST, key="leaderboard:other", due_at=now)
        box.fake.fail_next(
            "chat.postMessage", status=400, error="not_in_channel", times=MAX_ATTEMPTS + 1
        )
        for _ in range(MAX_ATTEMPTS):
            box.run_due(now)
            now += timedelta(hours=2)
        assert [len(box.fake.dm_messages(a)) for a in admins] == [1, 2]
        assert box.run_due(now + timedelta(hours=2)) == 1
        assert [len(box.fake.dm_messages(a)) for a in admins] == [2, 2]
        assert box.run_due(now + timedelta(days=1)) == 0
        assert [len(box.fake.dm_messages(a)) for a in admins] == [2, 2]


def test_an_alert_that_cannot_be_sent_is_parked_without_alerting_about_itself(
    db: Database,
) -> None:
    """When the alert DM keeps failing it is retried, then parked; the sweep never loops."""
    with Sandbox(db.url, db=db) as box:
        schedule_leaderboard(box.db, box.settings, FIRED)
        box.fake.fail_next(
            "chat.postMessage", status=400, error="not_in_channel", times=2 * MAX_ATTEMPTS
        )
        now = FIRED
        # The post fails MAX_ATTEMPTS times; its alert, first tried in the last of those
        # sweeps, fails MAX_ATTEMPTS times too.
        for _ in range(2 * MAX_ATTEMPTS - 1):
            assert box.run_due(now) >= 1
            now += timedelta(hours=2)
        assert box.run_due(now + timedelta(days=1)) == 0
        _parked(db, LEADERBOARD_POST)
        alert = _parked(db, jobs.FAILED_ALERT)
        assert alert.last_error == "SlackApiError"
        assert box.fake.dm_messages(box.workspace.admin.id) == []
