"""The call for stories (SPEC 2.6): one post per cron fire time, through the durable queue."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.config import Settings
from bot.jobs import queue as jobs

STORIES_CALL = "stories_call"


class StoriesCall(jobs.Payload):
    """STORIES_CALL: the year whose stories are called for (None: the year it falls due)."""

    year: int | None = None


def schedule_stories_call(session: Session, *, fire_time: datetime, settings: Settings) -> str:
    """Schedule the call for one fire time; replicas firing together make one item."""
    local = fire_time.astimezone(settings.zone)
    key = f"{STORIES_CALL}:{local.strftime('%Y-%m-%dT%H:%M')}"
    jobs.schedule(
        session, kind=STORIES_CALL, key=key, due_at=fire_time, payload=StoriesCall(year=local.year)
    )
    return key
