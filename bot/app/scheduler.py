"""APScheduler runs three jobs: the sweep of due items, the leaderboard cron and the call for
stories' cron (the same pattern as the leaderboard's).

APScheduler only decides *when to look*; the database decides what is due (bot.jobs.queue), so the
in-memory job store is enough and several replicas can run this side by side: the cron job
only schedules a due item whose key names the cron's fire time, so two replicas firing it
make one post, and the sweep claims each item before anyone sends it.

On start-up the cron's latest fire time is scheduled too, however long ago it was (but not
before the programme had a business unit): a post missed while the bot was down is made once
it is back. Only the latest: it is at most one cron period old, and the standings are read
when it is sent, so it is never stale; the earlier ones would only repeat it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.config import Settings
from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.rules.points import leaderboard
from bot.rules.yearend import calls
from handlers.common.deps import Deps
from messages.render import render_blocks
from storage.db import Database
from storage.types import utcnow

logger = logging.getLogger(__name__)

SWEEP_JOB = "allybot.sweep"
LEADERBOARD_JOB = "allybot.leaderboard"
STORIES_CALL_JOB = "allybot.stories_call"
# A call for stories missed while the bot was down is still posted if it is this recent.
STORIES_CALL_CATCH_UP = timedelta(days=7)
DEFAULT_INTERVAL = 30.0
# A small pause between sends in a sweep keeps bulk DMs within Slack's rate limits.
DEFAULT_PACE = 0.5
# How far back the cron job looks for the fire time it runs for (it runs at that time, or
# within its misfire grace time).
CRON_WINDOW = timedelta(hours=1)
# Where the backwards search for the latest fire time starts; each step doubles it.
_FIRST_LOOK_BACK = timedelta(hours=1)

Clock = Callable[[], datetime]


class Sweeper:
    """Runs the due items of one app instance (its handlers, and the admins' alerts)."""

    def __init__(
        self,
        deps: Deps,
        client: WebClient,
        *,
        worker: str | None = None,
        pace: float = 0.0,
        lease: timedelta = jobs.DEFAULT_LEASE,
        clock: Clock = utcnow,
    ) -> None:
        self.deps = deps
        self.client = client
        self.worker = worker or jobs.worker_name()
        self.pace = pace
        self.lease = lease
        self.clock = clock

    def run_due(self, now: datetime | None = None) -> int:
        """Run everything due at `now` (default: the clock) once; return how many items ran."""
        handlers = {
            kind: partial(handler, self.deps, self.client)
            for kind, handler in self.deps.due_handlers.items()
        }
        handlers[jobs.FAILED_ALERT] = partial(on_failed_alert_due, self.deps, self.client)
        return jobs.sweep(
            self.deps.db,
            handlers,
            now=now or self.clock(),
            worker=self.worker,
            lease=self.lease,
            pace=self.pace,
        )


def failed_alert_text(kind: str, item_id: int, attempts: int, error: str) -> str:
    """The alert's notification text: the same facts as its blocks, nothing more."""
    return (
        f"Scheduled work failed and was parked: a {kind} item (due item {item_id}) failed "
        f"{attempts} times, last with {error}. Check the logs for due item {item_id}."
    )


def on_failed_alert_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """Tell each admin by DM, once each, that a scheduled item was parked as failed.

    The alert carries the parked item's kind, id, attempts and error class only (its payload
    and the error's text may hold user text). An admin whose DM fails is tried again with the
    item; those already told are not told twice.
    """
    alert = item.read(jobs.FailedAlert)
    kind, item_id, attempts, error = alert.kind, alert.item_id, alert.attempts, alert.error
    admins = deps.settings.admins
    if not admins:
        logger.warning(
            "scheduled %s %s was parked as failed; no ALLYBOT_ADMINS to alert", kind, item_id
        )
        return
    text = failed_alert_text(kind, item_id, attempts, error)
    blocks = render_blocks(
        "jobs/failed_alert.json.j2", kind=kind, item_id=item_id, attempts=attempts, error=error
    )
    steps = [
        # Named by a keyed marker of the admin: the record of the send holds no ID.
        Step(
            f"admin:{deps.privacy.marker(admin)[:16]}", partial(_alert, client, admin, text, blocks)
        )
        for admin in admins
    ]
    # Each admin is told once; one whose DM fails is tried again with the item (the others
    # are not told twice). Parked in the end, the alert alerts nobody.
    once.run_due_steps(deps.db, key=item.key, steps=steps, what="failed-item alert")


def _alert(client: WebClient, admin: str, text: str, blocks: list[dict[str, Any]]) -> None:
    client.chat_postMessage(channel=admin, text=text, blocks=blocks)


def last_fire_time(
    settings: Settings,
    now: datetime,
    *,
    within: timedelta = CRON_WINDOW,
    trigger: BaseTrigger | None = None,
) -> datetime | None:
    """The cron's latest fire time at or before `now`, if within `within` (default: the
    leaderboard's cron)."""
    trigger = trigger or settings.leaderboard_trigger()
    limit = now - within
    # Backwards in doubling windows: as cheap for a cron firing every minute (a short window
    # holds the latest fire) as for one firing once a year (a few long windows).
    look_back = min(_FIRST_LOOK_BACK, within)
    while True:
        start = max(now - look_back, limit)
        fire = _latest_fire(trigger, start.astimezone(settings.zone), now)
        if fire is not None or start <= limit:
            return fire
        look_back *= 2


def _latest_fire(trigger: BaseTrigger, start: datetime, now: datetime) -> datetime | None:
    """The trigger's last fire time in [start, now], if any."""
    fire = trigger.get_next_fire_time(None, start)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


def schedule_leaderboard(
    db: Database,
    settings: Settings,
    now: datetime,
    *,
    within: timedelta | None = CRON_WINDOW,
) -> str | None:
    """Schedule the post for the cron's latest fire time (one item per fire time); its key.

    `within=None` looks back as far as the programme goes (its first business unit): fire
    times before that were not missed, there was nothing to rank.
    """
    if within is None:
        with db.read() as session:
            started = leaderboard.programme_started(session)
        if started is None or started > now:
            return None
        within = now - started
    fire = last_fire_time(settings, now, within=within)
    if fire is None:
        return None
    with db.session() as session:
        return leaderboard.schedule_leaderboard_post(session, fire_time=fire, settings=settings)


def schedule_stories_call(
    db: Database, settings: Settings, now: datetime, *, within: timedelta = CRON_WINDOW
) -> str | None:
    """Schedule the call for stories of the cron's latest fire time (one item per fire time)."""
    trigger = settings.stories_call_trigger()
    fire = last_fire_time(settings, now, within=within, trigger=trigger)
    if fire is None:
        return None
    with db.session() as session:
        return calls.schedule_stories_call(session, fire_time=fire, settings=settings)


class Scheduler:
    """The background scheduler of one process: the periodic sweep and the leaderboard cron."""

    def __init__(
        self,
        deps: Deps,
        client: WebClient,
        *,
        interval: float = DEFAULT_INTERVAL,
        pace: float = DEFAULT_PACE,
        clock: Clock = utcnow,
    ) -> None:
        self.deps = deps
        self.clock = clock
        self.interval = interval
        self.sweeper = Sweeper(deps, client, pace=pace, clock=clock)
        self.scheduler = BackgroundScheduler(timezone=deps.settings.zone)

    def start(self) -> Scheduler:
        """Add both jobs and start; the first sweep runs at once (work due while down)."""
        settings = self.deps.settings
        self.scheduler.add_job(
            self.sweep,
            IntervalTrigger(seconds=self.interval, timezone=settings.zone),
            id=SWEEP_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            next_run_time=datetime.now(settings.zone),
        )
        self.scheduler.add_job(
            self.leaderboard_tick,
            settings.leaderboard_trigger(),
            id=LEADERBOARD_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
        self.scheduler.add_job(
            self.stories_call_tick,
            settings.stories_call_trigger(),
            id=STORIES_CALL_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
        # The post whose fire time passed while the bot was down is still made, once.
        self.leaderboard_tick(within=None)
        self.stories_call_tick(within=STORIES_CALL_CATCH_UP)
        self.scheduler.start()
        return self

    def shutdown(self, wait: bool = True) -> None:
        """Stop the jobs (waiting for a running sweep to finish when `wait`)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def sweep(self) -> int:
        """One sweep (what the interval job runs); errors are logged, the items stay due."""
        try:
            return self.sweeper.run_due()
        except Exception:  # a database outage: the next sweep tries again
            logger.exception("the sweep of due items failed; it runs again shortly")
            return 0

    def stories_call_tick(self, within: timedelta = CRON_WINDOW) -> str | None:
        """What the stories cron runs: schedule the call due now (idempotent across replicas)."""
        try:
            return schedule_stories_call(
                self.deps.db, self.deps.settings, self.clock(), within=within
            )
        except Exception:
            logger.exception("could not schedule the call for stories")
            return None

    def leaderboard_tick(self, within: timedelta | None = CRON_WINDOW) -> str | None:
        """What the cron runs: schedule the post due now (idempotent across replicas)."""
        try:
            return schedule_leaderboard(
                self.deps.db, self.deps.settings, self.clock(), within=within
            )
        except Exception:
            logger.exception("could not schedule the leaderboard post")
            return None
