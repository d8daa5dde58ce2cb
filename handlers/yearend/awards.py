"""`/ally-admin awards [YYYY]` and `confirm_awards`: the standings, then one announcement.

The announcement is one due item keyed by the year: however many admins click, however often
Slack retries, the text and the chart are each posted once (bot.jobs.once).
"""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.rules.errors import NotAllowed, NotFound
from bot.rules.yearend import export, results
from bot.rules.yearend.standings import AwardStandings, Line, chart_data
from handlers.common.commands import Invocation
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.permissions import admins
from handlers.common.replies import tell_privately
from messages.charts import bar_chart_png
from messages.render import escape_mrkdwn, render_blocks
from storage.types import utcnow

ANNOUNCE = results.AWARDS_ANNOUNCEMENT
CHART_FILENAME = "awards.png"


class Announce(jobs.Payload):
    """ANNOUNCE: the year whose awards are announced."""

    year: int


ALT_TEXT_MAX = 1000
# Characters of standings lines per admin message (Slack refuses about 12,000 in all).
PAGE_CHARS = 7000
LINE_EXTRA = 90
# Who may confirm the announcement (declared on `confirm_awards`).
ANNOUNCERS = admins("Only programme admins can announce the awards.")


def announce_key(year: int) -> str:
    """The due item of one year's announcement."""
    return f"{ANNOUNCE}:{year}"


def pages(lines: tuple[Line, ...]) -> list[list[Line]]:
    """The lines split so that each message stays well within Slack's size limit."""
    out: list[list[Line]] = [[]]
    size = 0
    for line in lines:
        cost = len(escape_mrkdwn(line.text)) + LINE_EXTRA
        if out[-1] and size + cost > PAGE_CHARS:
            out.append([])
            size = 0
        out[-1].append(line)
        size += cost
    return out


def standings_text(s: AwardStandings, year: int, lines: list[Line]) -> str:
    """The notification text of a standings message: the same lines, escaped."""
    body = "\n".join(escape_mrkdwn(line.text) for line in lines)
    return f"{s.title}, {year}\n{escape_mrkdwn(s.decided_by)}\n{body}"


def on_awards_command(call: Invocation) -> None:
    """Show the admin the standings behind each award, with the formula and the tie rule."""
    call.ack()
    d = call.deps
    year = results.parse_year(call.args, now=utcnow(), settings=d.settings)
    with d.db.read() as session:
        awards = results.year_awards(session, year=year, settings=d.settings)
    for number, s in enumerate(awards):
        split = pages(s.lines)
        for index, lines in enumerate(split, 1):
            last = number == len(awards) - 1 and index == len(split)
            blocks = render_blocks(
                "yearend/standings.json.j2",
                s=s,
                year=year,
                lines=lines,
                page=index,
                pages=len(split),
                confirm=last,
            )
            call.reply(standings_text(s, year, lines), blocks)


def announcement_text(year: int, awards: tuple[AwardStandings, ...]) -> str:
    """The announcement's text fallback: each award's winners and figure."""
    parts = [f"The {year} allyship awards:"]
    for s in awards:
        who = " and ".join(escape_mrkdwn(w) for w in s.winners) or "not awarded this year"
        figure = f" ({escape_mrkdwn(s.lines[0].detail)})" if s.winners else ""
        parts.append(f"{s.title}: {who}{figure}")
    return "\n".join(parts)


def _alt_text(title: str, labels: tuple[str, ...], values: tuple[int, ...]) -> str:
    lines = [title, *(f"{label}: {value}" for label, value in zip(labels, values, strict=True))]
    return "\n".join(lines)[:ALT_TEXT_MAX]


def announcement_steps(client: WebClient, d: Deps, year: int) -> list[Step]:
    """Post the winners, then the chart of the year's points (each once)."""
    channel = d.settings.announcements_channel

    def awards() -> tuple[AwardStandings, ...]:
        with d.db.read() as session:
            return results.year_awards(session, year=year, settings=d.settings)

    def post_text() -> None:
        found = awards()
        client.chat_postMessage(
            channel=channel,
            text=announcement_text(year, found),
            blocks=render_blocks("yearend/announcement.json.j2", awards=found, year=year),
        )

    def post_chart() -> None:
        chart = chart_data(awards()[0])
        if not chart.labels:
            return
        title = f"{chart.title} {year}: {chart.value_label}"
        client.files_upload_v2(
            channel=channel,
            content=bar_chart_png(chart.labels, chart.values, title=title),
            filename=CHART_FILENAME,
            title=title,
            alt_txt=_alt_text(title, chart.labels, chart.values),
        )

    return [Step("text", post_text), Step("chart", post_chart)]


def on_confirm_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """An admin confirms: the year's awards are announced once, whoever clicks and how often."""
    ack()
    user = payload.user_id
    value = payload.action_value
    year = (
        results.parse_year(value, now=utcnow(), settings=deps.settings) if value.isdigit() else None
    )
    if year is None:
        raise NotAllowed("That button no longer works.")
    with deps.db.session() as session:
        results.year_awards(session, year=year, settings=deps.settings)  # NotFound: no data
        first = jobs.find(session, key=announce_key(year)) is None
        jobs.schedule(
            session,
            kind=ANNOUNCE,
            key=announce_key(year),
            due_at=utcnow() + jobs.DEFAULT_LEASE,
            payload=Announce(year=year),
        )
    channel = payload.channel_id
    if not first:
        text = f"The {year} awards were already announced (or are being announced): once is enough."
        tell_privately(client, user_id=user, channel_id=channel, text=text)
        return
    steps = announcement_steps(client, deps, year)
    once.run_steps(deps.db, key=announce_key(year), steps=steps, what="awards")
    tell_privately(
        client,
        user_id=user,
        channel_id=channel,
        text=f"The {year} awards are announced in the announcements channel.",
    )


def on_announce_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The scheduler finishes an announcement whose click did not (each step once)."""
    year = item.read(Announce).year
    once.run_due_steps(d.db, key=item.key, steps=announcement_steps(client, d, year), what="awards")


def on_export_command(call: Invocation) -> None:
    """Upload the year's ledger and outcomes as two CSV files into the admin's DM (files v2)."""
    call.ack()
    d = call.deps
    year = results.parse_year(call.args, now=utcnow(), settings=d.settings)
    with d.db.read() as session:
        ledger, ledger_rows = export.ledger_csv(session, year=year, settings=d.settings)
        outcomes, outcome_rows = export.outcomes_csv(session, year=year, settings=d.settings)
    if not ledger_rows and not outcome_rows:
        raise NotFound(f"There is nothing to export for {year} yet.")
    dm = call.client.conversations_open(users=call.user_id)
    channel = str((dm.get("channel") or {}).get("id"))
    call.client.files_upload_v2(
        channel=channel,
        initial_comment=(
            f"The {year} export: {ledger_rows} ledger rows and {outcome_rows} outcomes. "
            "No requester or reporter IDs and no request or story text are in them."
        ),
        file_uploads=[
            {
                "content": ledger,
                "filename": f"allybot-ledger-{year}.csv",
                "title": f"Ledger {year}",
            },
            {
                "content": outcomes,
                "filename": f"allybot-outcomes-{year}.csv",
                "title": f"Outcomes {year}",
            },
        ],
    )
