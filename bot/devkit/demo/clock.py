"""Demo scene: the clock runs forward: feedback, an outcome, points, the leaderboard post."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from bot.app.scheduler import last_fire_time, schedule_leaderboard
from bot.devkit import factories
from bot.devkit.demo.transcript import Transcript
from bot.devkit.sandbox import Sandbox
from bot.rules import allies
from handlers.feedback import Ids
from storage.models.requests import AllyRequest, Match
from storage.types import utcnow


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """A week passes, people are asked how it went, an answer earns points, the board is posted."""
    show.scene("Time passes: feedback, points and the leaderboard")
    requester = _named_match(box, show)
    now = utcnow()
    show.step(
        f"ALLYBOT_FEEDBACK_AFTER ({_duration(box.settings.feedback_after)}) passes: "
        "the clock is moved forward and the scheduler sweeps"
    )
    box.run_due(now + box.settings.feedback_after + timedelta(minutes=1))
    show.flush()

    prompt = next((m for m in box.fake.dm_messages(requester) if Ids.WORKED in str(m)), None)
    if prompt is not None:
        show.step(f'{_name(box, requester)} clicks "It worked"')
        updates = len(box.fake.calls_to("chat.update"))
        box.slack.click(requester, Ids.WORKED, message=prompt)
        box.fake.wait_for("chat.update", count=updates + 1)
        show.flush()
        show.note("the answer is recorded at once; the ally's business unit earns 10 points")

    admin = box.workspace.admin
    show.step(f"{admin.real_name} types `/ally-admin leaderboard`")
    count = len(box.fake.calls_to("chat.postEphemeral"))
    box.slack.slash(
        "/ally-admin", "leaderboard", user_id=admin.id, channel_id=box.workspace.general_channel
    )
    box.fake.wait_for("chat.postEphemeral", count=count + 1)

    fire = last_fire_time(box.settings, utcnow(), within=timedelta(days=400))
    if fire is None:
        return
    show.step(f"The leaderboard cron (`{box.settings.leaderboard_cron}`) fires")
    schedule_leaderboard(box.db, box.settings, fire, within=timedelta(days=400))
    box.run_due(utcnow())
    show.flush()
    files = box.fake.uploaded_files()
    if files:
        _, content = box.fake.uploaded_file(files[-1]["id"])
        if content:
            out.mkdir(parents=True, exist_ok=True)
            path = out / "leaderboard.png"
            path.write_bytes(content)
            show.note(f"the chart posted to #announcements is saved in {path}")


def _duration(value: timedelta) -> str:
    days, seconds = value.days, value.seconds
    if days and not seconds:
        return f"{days} day{'s' if days != 1 else ''}"
    return str(value)


def _name(box: Sandbox, user_id: str) -> str:
    return next((p.real_name for p in box.workspace.everyone if p.id == user_id), user_id)


def _named_match(box: Sandbox, show: Transcript) -> str:
    """The requester of an open named match; made here if the earlier scenes made none."""
    with box.db.read() as session:
        found = session.execute(
            select(col(Match.ally_user_id), col(AllyRequest.requester_id))
            .join(AllyRequest, col(AllyRequest.id) == col(Match.request_id))
            .where(col(Match.outcome).is_(None), col(AllyRequest.requester_id).is_not(None))
            .order_by(col(Match.id))
        ).first()
    if found is not None:
        ally, requester = found
        _ensure_unit(box, ally)
        return str(requester)
    requester, ally = box.workspace.requester.id, box.workspace.allies[0].id
    with box.db.read() as session:
        unit = allies.member_unit(session, user_id=ally)
    factories.match(
        box.db,
        box.settings,
        requester=requester,
        ally=ally,
        ally_unit=unit.name if unit else factories.UNIT,
        category="meeting_support",
        details="demo",
    )
    show.note(f"a match between {_name(box, requester)} and {_name(box, ally)} is set up directly")
    return requester


def _ensure_unit(box: Sandbox, user_id: str) -> None:
    """The ally's points need a business unit: theirs, or the first one."""
    with box.db.read() as session:
        if allies.member_unit(session, user_id=user_id) is not None:
            return
    factories.member(box.db, user_id, factories.UNIT)
