"""What the surveys feature sends: survey DMs, reminders, results as text and a chart."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.jobs import once
from bot.jobs.queue import DueWork
from bot.rules.surveys import runs
from bot.rules.surveys.comparison import Comparison
from bot.rules.surveys.results import (
    Comments,
    Distribution,
    GroupResult,
    QuestionKind,
    SurveyResults,
)
from handlers.common.deps import Deps
from messages.charts import bar_chart_png
from messages.render import escape_mrkdwn, render_blocks, split_text
from storage.models.programme import FORGOTTEN

logger = logging.getLogger(__name__)

PAGE = 1000  # users.list and conversations.members page size asked for
BLOCKS_PER_PAGE = 45  # an admin's answer stays under 50 blocks a message
# Slack refuses whole messages over about 12,000 characters (SLACK_FACTS), counting the
# blocks' text and the fallback together: a long answer is sent as several messages.
MESSAGE_CHARS = 12_000
ALT_TEXT_MAX = 1000
# Answers that no retry will change: the person cannot get the DM (their item is done).
UNREACHABLE = frozenset(
    {"user_not_found", "account_inactive", "cannot_dm_bot", "user_disabled", "channel_not_found"}
)


# recipients and sends


def human_members(client: WebClient, channel: str | None) -> list[str]:
    """Every active human member of the workspace, or of one channel."""
    humans: set[str] = set()
    cursor: str | None = None
    while True:
        answer = client.users_list(limit=PAGE, cursor=cursor)
        for user in answer.get("members") or []:
            if (
                user.get("deleted")
                or user.get("is_bot")
                or user.get("is_app_user")
                or user.get("id") == "USLACKBOT"
            ):
                continue
            humans.add(str(user["id"]))
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    if channel is None:
        return sorted(humans)
    members: set[str] = set()
    cursor = None
    while True:
        answer = client.conversations_members(channel=channel, limit=PAGE, cursor=cursor)
        members.update(str(m) for m in answer.get("members") or [])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return sorted(humans & members)


def invite_blocks(d: Deps, run: runs.RunView, *, reminder: bool = False) -> list[dict[str, Any]]:
    """The survey's DM with its `answer_survey` button."""
    survey = d.content.survey(run.survey_id)
    return render_blocks(
        "surveys/invite.json.j2",
        run_id=run.id,
        title=run.title,
        intro=survey.intro if survey else "",
        reminder=reminder,
        answered=False,
    )


def on_fanout_due(d: Deps, client: WebClient, item: DueWork) -> None:
    """List the survey's recipients and schedule one send each (keyed: nobody twice)."""
    run_id = item.read(runs.Fanout).run_id
    with d.db.read() as session:
        run = runs.get(session, run_id=run_id)
    if run is None or run.status != runs.OPEN:
        return
    people = human_members(client, run.channel)
    with d.db.session() as session:
        runs.schedule_sends(session, run_id=run_id, user_ids=people, now=item.now)


def _dm(client: WebClient, user_id: str, text: str, blocks: list[dict[str, Any]]) -> Any:
    """Post a survey DM; None when this person cannot be reached (never retried)."""
    if user_id == FORGOTTEN:
        return None  # they asked to be forgotten since the survey started
    try:
        return client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    except SlackApiError as error:
        reason = error.response.get("error")
        if reason in UNREACHABLE:
            logger.info("survey DM not possible (%s); not retried", reason)
            return None
        raise


def on_send_due(d: Deps, client: WebClient, item: DueWork) -> None:
    """DM one person the survey, once; schedule their one reminder."""
    send_item = item.read(runs.Send)
    run_id, user_id = send_item.run_id, send_item.user_id
    with d.db.read() as session:
        run = runs.get(session, run_id=run_id, count=False)
    if run is None or run.status != runs.OPEN:
        return
    text, blocks = f"{run.title}: a short anonymous survey", invite_blocks(d, run)

    def send() -> dict[str, str] | None:
        response = _dm(client, user_id, text, blocks)
        return None if response is None else {"channel": response["channel"], "ts": response["ts"]}

    def record(session: Session, sent: dict[str, str] | None) -> None:
        if sent is not None:
            runs.schedule_reminder(
                session,
                run_id=run_id,
                user_id=user_id,
                channel=str(sent["channel"]),
                ts=str(sent["ts"]),
                due_at=item.now + d.settings.survey_reminder_after,
            )

    _settled(once.send_once(d.db, _send_key(d, "dm", run_id, user_id), send, record=record))


def on_reminder_due(d: Deps, client: WebClient, item: DueWork) -> None:
    """Remind once whoever has not answered while the survey is open."""
    reminder = item.read(runs.Reminder)
    run_id, user_id = reminder.run_id, reminder.user_id
    marker = runs.marker(d.privacy, run_id=run_id, user_id=user_id)
    with d.db.read() as session:
        run = runs.get(session, run_id=run_id, count=False)
        answered = runs.has_answered(session, run_id=run_id, marker=marker)
    if run is None or run.status != runs.OPEN or answered:
        return
    text = f"Reminder: {run.title} is still open"
    blocks = invite_blocks(d, run, reminder=True)
    _settled(
        once.send_once(
            d.db, f"survey-reminder:{item.id}", partial(_dm, client, user_id, text, blocks)
        )
    )


def _send_key(d: Deps, what: str, run_id: int, user_id: str) -> str:
    """A survey DM's send, named by a keyed marker: the record holds no one's ID (and not the
    run's answer marker, which goes at close)."""
    return f"survey-{what}:{run_id}:{d.privacy.marker(f'survey-{what}:{run_id}:{user_id}')[:32]}"


def _settled(outcome: once.Outcome) -> None:
    if not outcome.settled:  # a sweeper whose lease ran out is sending it: try later
        raise once.StepsPending("a survey DM is being sent elsewhere")


# results


def _group_lines(result: GroupResult, kind: QuestionKind) -> list[str]:
    label = escape_mrkdwn(result.label)
    if result.withheld is not None:
        return [f"• *{label}*: {result.withheld.text}"]
    shown = result.shown
    if isinstance(shown, Comments):
        if not shown.texts:
            return [f"• *{label}*: no comments"]
        quoted = [f"   > {escape_mrkdwn(' '.join(t.split()))}" for t in shown.texts]
        return [f"• *{label}*: {len(shown.texts)} comments", *quoted]
    assert isinstance(shown, Distribution)
    if shown.all_alike is not None:
        alike = f"all answered alike ({escape_mrkdwn(shown.all_alike.label)})"
        return [f"• *{label}* ({shown.respondents} answers): {alike}"]
    answered = shown.respondents - shown.no_answer
    parts = [
        f"{escape_mrkdwn(option.label)} {round(100 * count / answered) if answered else 0}%"
        for option, count in shown.counts
    ]
    mean = f", mean {shown.mean}/5" if kind is QuestionKind.LIKERT and shown.mean else ""
    return [f"• *{label}* ({shown.respondents} answers{mean}): " + ", ".join(parts)]


def results_sections(title: str, result: SurveyResults) -> list[str]:
    """The results as mrkdwn sections: respondents, then each question overall and by unit."""
    groups = []
    for cell in result.groups.cells:
        name = escape_mrkdwn("No unit given" if cell.key is None else cell.key)
        if cell.published:
            groups.append(f"{name}: {cell.count}")
        elif cell.reason is not None and cell.reason.value == "subtraction":
            groups.append(
                f"{name}: withheld, so that no subtraction reveals fewer than "
                f"{result.min_group} answers"
            )
        else:
            groups.append(f"{name}: fewer than {result.min_group}")
    sections = [
        f"*Answers*: {result.respondents.text}"
        + (("\n*By unit*: " + "; ".join(groups)) if groups else "")
    ]
    for question in result.questions:
        lines = [f"*{escape_mrkdwn(question.question.text)}*"]
        kind = question.question.kind
        lines += _group_lines(question.overall, kind)
        for group in question.groups:
            lines += _group_lines(group, kind)
        sections.append("\n".join(lines))
    return sections


def comparison_sections(before: str, after: str, comparison: Comparison) -> list[str]:
    """Two surveys side by side: each question's mean before and after, where both are shown."""
    sections = []
    for item in comparison.questions:
        lines = [f"*{escape_mrkdwn(item.question.text)}*"]
        for change in (item.overall, *item.groups):
            label = escape_mrkdwn(change.label)
            if change.mean_change is not None:
                assert change.before and isinstance(change.before.shown, Distribution)
                assert change.after and isinstance(change.after.shown, Distribution)
                lines.append(
                    f"• *{label}*: {change.before.shown.mean} → {change.after.shown.mean} "
                    f"({change.mean_change:+})"
                )
            else:
                lines.append(f"• *{label}*: not shown in both surveys")
        sections.append("\n".join(lines))
    if comparison.only_before:
        sections.append(
            f"Asked only in {escape_mrkdwn(before)}: " + ", ".join(comparison.only_before)
        )
    if comparison.only_after:
        sections.append(
            f"Asked only in {escape_mrkdwn(after)}: " + ", ".join(comparison.only_after)
        )
    return sections or ["The two surveys share no question."]


def page_data(title: str, sections: list[str], note: str = "") -> list[dict[str, Any]]:
    """The sections as the data of messages Slack accepts: at most BLOCKS_PER_PAGE blocks and
    MESSAGE_CHARS characters each (blocks' text plus the title as fallback), nothing left out.

    A section over 3000 characters is split into several; the pieces of one section stay in
    one message when they fit, and go on in the next otherwise.
    """
    # The title appears twice (header, clipped to 150, and fallback), with a page number.
    fixed = len(title) + min(len(title), 150) + 2 * len(" (99/99)") + min(len(note or ""), 3000)
    # The default note, when none is given, is under 200 characters.
    budget = MESSAGE_CHARS - fixed - 200
    out: list[list[str]] = [[]]
    used = size = 0
    for section in sections:
        pieces = split_text(section, 3000) or [section]
        cost = sum(min(len(piece), 3000) for piece in pieces)
        if out[-1] and (used + len(pieces) > BLOCKS_PER_PAGE or size + cost > budget):
            out.append([])
            used = size = 0
        for piece in pieces:
            if out[-1] and (used + 1 > BLOCKS_PER_PAGE or size + len(piece) > budget):
                out.append([])
                used = size = 0
            out[-1].append(piece)
            used += 1
            size += min(len(piece), 3000)
    total = len(out)
    return [
        {
            "title": f"{title} ({n}/{total})" if total > 1 else title,
            "sections": page,
            "note": note,
        }
        for n, page in enumerate(out, 1)
    ]


def pages(title: str, sections: list[str], note: str = "") -> list[list[dict[str, Any]]]:
    """The sections rendered as messages Slack accepts (see page_data)."""
    return [
        render_blocks("surveys/report.json.j2", **data) for data in page_data(title, sections, note)
    ]


def chart_points(result: SurveyResults) -> tuple[list[str], list[int]]:
    """Per Likert question shown overall: the share who agree (4 or 5), in percent."""
    labels, values = [], []
    for question in result.questions:
        shown = question.overall.shown
        if question.question.kind is QuestionKind.LIKERT and isinstance(shown, Distribution):
            agree = shown.share("4") + shown.share("5")
            labels.append(question.question.text[:75])
            values.append(round(100 * agree))
    return labels, values


def upload_chart(
    client: WebClient, *, user_id: str, title: str, labels: list[str], values: list[int]
) -> None:
    """The chart into the admin's DM (files v2 flow), with a text description."""
    if not labels:
        return
    png = bar_chart_png(labels, values, title=title)
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    alt = "\n".join(
        [title, *(f"{label}: {value}% agree" for label, value in zip(labels, values, strict=True))]
    )
    client.files_upload_v2(
        channel=channel,
        content=png,
        filename="survey-results.png",
        title=title,
        alt_txt=alt[:ALT_TEXT_MAX],
    )
