"""The Slack surface of points: `/ally-admin leaderboard`, `/ally-admin points adjust`, the post."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_sdk import WebClient

from bot.jobs import once
from bot.jobs.once import Step
from bot.jobs.queue import DueWork
from bot.rules.points import adjustments, leaderboard
from handlers.common.commands import Invocation, Routes
from handlers.common.deps import Deps
from handlers.common.listeners import Listeners
from messages.charts import bar_chart_png
from messages.render import escape_mrkdwn, render_blocks
from storage.types import utcnow

logger = logging.getLogger(__name__)

CHART_FILENAME = "leaderboard.png"
# files.getUploadURLExternal refuses a longer description (alt_txt_too_large).
ALT_TEXT_MAX = 1000
# Slack refuses whole messages over about 12,000 characters (SLACK_FACTS), counting the
# blocks' text and the fallback text together: an admin's answer is split into messages of
# at most this many characters of standings (each unit is named in both), leaving room for
# the title (twice) and the context line.
PAGE_CHARS = 11_000
# What a line holds besides the unit's name, at most, in the blocks
# (`: 1000 points (12 successful allyships, 3 volunteer cases)`) and in the fallback
# (`: 1000 points`), newlines included.
LINE_CHARS = 80
FALLBACK_LINE_CHARS = 30


def register(on: Listeners, routes: Routes) -> None:
    """Add the admin subcommands and the scheduled leaderboard post."""
    routes.admin.add(
        "leaderboard",
        on_leaderboard_command,
        "`/ally-admin leaderboard [month|quarter|year|YYYY]` business unit standings",
    )
    routes.admin.add(
        "points", on_points_command, f"{adjustments.ADJUST_USAGE}: a signed correction"
    )
    routes.due[leaderboard.LEADERBOARD_POST] = on_leaderboard_due


def standings_text(title: str, standings: list[leaderboard.Standing], more: int = 0) -> str:
    """The plain-text standings: one line per BU, e.g. `Engineering: 10 points`."""
    # Fallback text is mrkdwn too (notifications, old clients): names are escaped.
    lines = [f"{escape_mrkdwn(s.business_unit)}: {s.points} points" for s in standings]
    if more:
        lines.append(_more_line(more))
    return "\n".join([title, *lines]) if lines else f"{title}\nNo business units yet."


def _more_line(more: int) -> str:
    return f"…and {more} more business unit{'' if more == 1 else 's'}."


def chart_alt_text(title: str, standings: list[leaderboard.Standing], more: int = 0) -> str:
    """The chart's description for screen readers: plain text (never escaped), within limit."""
    lines = [title]
    for index, standing in enumerate(standings):
        line = f"{standing.business_unit}: {standing.points} points"
        left = more + len(standings) - index
        # Room is kept for the closing count of the units that do not fit.
        if len("\n".join([*lines, line, _more_line(left)])) > ALT_TEXT_MAX:
            lines.append(_more_line(left))
            return "\n".join(lines)[:ALT_TEXT_MAX]
        lines.append(line)
    if more:
        lines.append(_more_line(more))
    return "\n".join(lines)[:ALT_TEXT_MAX]


def public_standings(
    standings: list[leaderboard.Standing],
) -> tuple[list[leaderboard.Standing], int]:
    """What a public leaderboard names (the top units) and how many more it only counts."""
    return standings[: leaderboard.PUBLIC_TOP], max(len(standings) - leaderboard.PUBLIC_TOP, 0)


def standings_pages(standings: list[leaderboard.Standing]) -> list[list[leaderboard.Standing]]:
    """The standings split so that each message stays within Slack's size limits."""
    pages: list[list[leaderboard.Standing]] = [[]]
    size = 0
    for standing in standings:
        name = len(escape_mrkdwn(standing.business_unit))
        line = 2 * name + LINE_CHARS + FALLBACK_LINE_CHARS
        if pages[-1] and size + line > PAGE_CHARS:
            pages.append([])
            size = 0
        pages[-1].append(standing)
        size += line
    return pages


def home_standings_blocks(d: Deps) -> list[dict[str, Any]]:
    """This year's BU standings for the App Home (units only, never people)."""
    period = leaderboard.year_period(utcnow().astimezone(d.settings.zone).year, d.settings.zone)
    with d.db.session() as session:
        standings = leaderboard.standings(session, period=period)
    shown, more = public_standings(standings)
    title = f"Business unit standings, {period.label}"
    return render_blocks(
        "points/leaderboard.json.j2", title=title, standings=shown, more=more, public=True
    )


def on_leaderboard_command(call: Invocation) -> None:
    """Answer an admin privately with every BU's standings for a period (default: this year)."""
    call.ack()
    settings = call.deps.settings
    period = leaderboard.parse_period(call.args, now=utcnow(), zone=settings.zone)
    with call.deps.db.session() as session:
        standings = leaderboard.standings(session, period=period)
    title = f"Business unit standings, {period.label}"
    pages = standings_pages(standings)
    for number, page in enumerate(pages, 1):
        heading = f"{title} ({number}/{len(pages)})" if len(pages) > 1 else title
        blocks = render_blocks(
            "points/leaderboard.json.j2", title=heading, standings=page, more=0, public=False
        )
        call.reply(standings_text(heading, page), blocks)


def on_points_command(call: Invocation) -> None:
    """`points adjust BU AMOUNT REASON`: a signed adjustment by an admin, never a deletion."""
    call.ack()
    with call.deps.db.session() as session:
        adjustment = adjustments.parse_adjustment(call.args, units=adjustments.unit_names(session))
        unit = adjustments.adjust(
            session,
            adjustment=adjustment,
            actor=call.user_id,
            # The same delivery of a command never adds two rows.
            request_key=call.trigger_id,
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
    year = item.read(leaderboard.LeaderboardPost).year or item.due_at.astimezone(settings.zone).year
    period = leaderboard.year_period(year, settings.zone)
    with app_deps.db.session() as session:
        standings = leaderboard.standings(session, period=period)
    shown, more = public_standings(standings)
    title = f"Allyship standings by business unit, {period.label}"
    blocks = render_blocks(
        "points/leaderboard.json.j2", title=title, standings=shown, more=more, public=True
    )
    steps = [
        Step(
            "text",
            partial(
                client.chat_postMessage,
                channel=channel,
                text=standings_text(title, shown, more),
                blocks=blocks,
            ),
        )
    ]
    if shown:
        png = bar_chart_png(
            [s.business_unit for s in shown], [s.points for s in shown], title=title
        )
        # If the upload fails the text is already posted; the item is retried for the chart.
        upload = partial(
            client.files_upload_v2,
            channel=channel,
            content=png,
            filename=CHART_FILENAME,
            title=title,
            alt_txt=chart_alt_text(title, shown, more),
        )
        steps.append(Step("chart", upload))
    once.run_due_steps(app_deps.db, key=item.key, steps=steps, what="leaderboard", clear=False)
