"""The Slack surface of points: `/ally-admin leaderboard`, `/ally-admin points adjust`, the post."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import jobs, points
from bot.charts import bar_chart_png
from bot.deps import Deps
from bot.jobs import DueWork
from handlers.commands import Invocation, Routes
from messages.render import escape_mrkdwn, render_blocks
from storage.types import utcnow

logger = logging.getLogger(__name__)

CHART_FILENAME = "leaderboard.png"


def register(app: App, routes: Routes) -> None:
    """Add the admin subcommands and the scheduled leaderboard post."""
    routes.admin.add(
        "leaderboard",
        on_leaderboard_command,
        "`/ally-admin leaderboard [month|quarter|year|YYYY]` business unit standings",
    )
    routes.admin.add("points", on_points_command, f"{points.ADJUST_USAGE}: a signed correction")
    routes.due[points.LEADERBOARD_POST] = on_leaderboard_due


def standings_text(title: str, standings: list[points.Standing]) -> str:
    """The plain-text standings: one line per BU, e.g. `Engineering: 10 points`."""
    # Fallback text is mrkdwn too (notifications, old clients): names are escaped.
    lines = [f"{escape_mrkdwn(s.business_unit)}: {s.points} points" for s in standings]
    return "\n".join([title, *lines]) if lines else f"{title}\nNo business units yet."


def home_standings_blocks(d: Deps) -> list[dict[str, Any]]:
    """This year's BU standings for the App Home (units only, never people)."""
    period = points.year_period(utcnow().astimezone(d.settings.zone).year, d.settings.zone)
    with d.db.session() as session:
        standings = points.standings(session, period=period)
    title = f"Business unit standings, {period.label}"
    return render_blocks(
        "points/leaderboard.json.j2", title=title, standings=standings, public=True
    )


def on_leaderboard_command(call: Invocation) -> None:
    """Answer an admin privately with the BU standings for a period (default: this year)."""
    call.ack()
    settings = call.deps.settings
    period = points.parse_period(call.args, now=utcnow(), zone=settings.zone)
    with call.deps.db.session() as session:
        standings = points.standings(session, period=period)
    title = f"Business unit standings, {period.label}"
    blocks = render_blocks(
        "points/leaderboard.json.j2", title=title, standings=standings, public=False
    )
    call.reply(standings_text(title, standings), blocks)


def on_points_command(call: Invocation) -> None:
    """`points adjust BU AMOUNT REASON`: a signed adjustment by an admin, never a deletion."""
    call.ack()
    adjustment = points.parse_adjustment(call.args)
    with call.deps.db.session() as session:
        unit = points.adjust(
            session,
            adjustment=adjustment,
            actor=call.user_id,
            # The same delivery of a command never adds two rows.
            request_key=call.command.get("trigger_id"),
        )
    text = (
        f"Recorded {adjustment.amount:+d} points for {escape_mrkdwn(unit.name)}: "
        f"{escape_mrkdwn(adjustment.reason)}"
    )
    call.reply(
        text,
        render_blocks(
            "points/adjusted.json.j2",
            business_unit=unit.name,
            amount=adjustment.amount,
            reason=adjustment.reason,
        ),
    )


def on_leaderboard_due(app_deps: Deps, client: WebClient, item: DueWork) -> None:
    """Post the standings to the announcements channel: text first, then the chart."""
    settings = app_deps.settings
    channel = settings.announcements_channel
    year = int(item.payload.get("year") or item.due_at.astimezone(settings.zone).year)
    period = points.year_period(year, settings.zone)
    with app_deps.db.session() as session:
        standings = points.standings(session, period=period)
    title = f"Allyship standings by business unit, {period.label}"
    if not item.sent.get("text_ts"):
        blocks = render_blocks(
            "points/leaderboard.json.j2", title=title, standings=standings, public=True
        )
        response = client.chat_postMessage(
            channel=channel, text=standings_text(title, standings), blocks=blocks
        )
        with app_deps.db.session() as session:
            jobs.record_sent(session, key=item.key, name="text_ts", value=str(response["ts"]))
    if not item.sent.get("chart_file") and standings:
        png = bar_chart_png(
            [s.business_unit for s in standings], [s.points for s in standings], title=title
        )
        # If the upload fails the text is already posted; the item is retried for the chart.
        response = client.files_upload_v2(
            channel=channel,
            content=png,
            filename=CHART_FILENAME,
            title=title,
            alt_txt=standings_text(title, standings)[:1000],
        )
        file_id = str((response.get("file") or {}).get("id") or "uploaded")
        with app_deps.db.session() as session:
            jobs.record_sent(session, key=item.key, name="chart_file", value=file_id)
