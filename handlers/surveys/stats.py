"""Programme figures for organisers: `/ally-admin stats [YYYY]` and the admins' App Home."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rules import stats
from bot.rules.errors import InvalidInput
from handlers.common.commands import Invocation
from handlers.common.deps import Deps
from handlers.surveys.surface import pages
from messages.render import escape_mrkdwn, render_blocks
from storage.types import utcnow

USAGE = "`/ally-admin stats [YYYY]` programme figures (small groups shown as fewer than N)"
logger = logging.getLogger(__name__)
YEAR = re.compile(r"^(19|20|21)\d\d$")


def year_of(d: Deps, args: str) -> int:
    """The year asked for (default: this year in the programme's zone)."""
    text = args.strip()
    if not text:
        return utcnow().astimezone(d.settings.zone).year
    if not YEAR.match(text):
        raise InvalidInput("Give a year such as 2026, or nothing for this year.")
    return int(text)


def sections(figures: stats.Figures) -> list[str]:
    """The figures as mrkdwn sections (names escaped)."""
    return [
        "\n".join([f"*{escape_mrkdwn(title)}*", *(f"• {escape_mrkdwn(line)}" for line in body)])
        for title, body in stats.lines(figures)
    ]


def compute(d: Deps, client: WebClient | None, year: int) -> stats.Figures:
    """The year's figures; volunteers by unit need the volunteers channel's members."""
    volunteers: frozenset[str] | None = None
    if client is not None:
        try:
            volunteers = d.volunteers.members(client)
        except SlackApiError as error:
            logger.info("volunteers not counted (%s)", error.response.get("error"))
    labels = {c.id: c.label for c in d.content.categories}
    with d.db.read() as session:
        return stats.figures(
            session,
            year=year,
            zone=d.settings.zone,
            min_group=d.settings.min_group,
            category_labels=labels,
            volunteers=volunteers,
        )


def note(figures: stats.Figures) -> str:
    """The line under the figures: the small-group rule."""
    return (
        f"Any group under {figures.min_group} shows as “fewer than {figures.min_group}”; a part "
        "that subtraction would expose is withheld too."
    )


def on_stats_command(call: Invocation) -> None:
    """Answer an admin privately with the year's programme figures."""
    call.ack()
    year = year_of(call.deps, call.args)
    figures = compute(call.deps, call.client, year)
    title = f"Programme figures, {year}"
    for blocks in pages(title, sections(figures), note(figures)):
        call.reply(title, blocks)


def home_blocks(d: Deps, client: WebClient | None) -> list[dict[str, Any]]:
    """The admins' part of App Home: this year's figures."""
    year = utcnow().astimezone(d.settings.zone).year
    figures = compute(d, client, year)
    return render_blocks(
        "surveys/report.json.j2",
        title=f"Programme figures, {year} (admins only)",
        sections=sections(figures),
        note=note(figures),
    )
