"""Mentoring's commands: `/ally-admin mentoring ...` and `/ally mentoring [pause|leave]`."""

from __future__ import annotations

import logging
from typing import Any

from bot.rules.errors import InvalidInput
from bot.rules.mentoring import cohorts, partners, report, review
from handlers.common.commands import Invocation
from handlers.mentoring import surface
from messages.charts import bar_chart_png
from messages.render import escape_mrkdwn, render_blocks
from storage import mentoring as store
from storage.types import utcnow

logger = logging.getLogger(__name__)


ADMIN_USAGE = (
    "`/ally-admin mentoring cohort NAME MONTHS CADENCE | call NAME | "
    "pair NAME [--capacity N] [--allow-repeats] | "
    "swap NAME @a @b | exclude NAME @a @b | close NAME | report NAME` reverse mentoring"
)
ALLY_USAGE = "`/ally mentoring [pause|leave]` your mentoring pair, next check-in, or a step back"
CHART_FILENAME = "mentoring-movement.png"


def _esc(text: object) -> str:
    return escape_mrkdwn(text)


# /ally-admin mentoring ...


def on_admin_command(call: Invocation) -> None:
    """Route `/ally-admin mentoring WORD ...` (admins only: the router checks)."""
    call.ack()
    word, _, rest = call.args.partition(" ")
    handler = _ADMIN.get(word.lower())
    if handler is None:
        call.reply(f"Usage: {ADMIN_USAGE}", surface.notice(f"Usage: {ADMIN_USAGE}"))
        return
    handler(call, rest.strip())


def _say(call: Invocation, text: str) -> None:
    call.reply(text, surface.notice(text))


def _cohort_command(call: Invocation, args: str) -> None:
    spec = cohorts.parse_cohort(args)
    with call.deps.db.session() as session:
        cohort = cohorts.create(session, spec=spec, actor=call.user_id)
        cadence = cohorts.describe_cadence(cohort)
        carried = len(store.participants(session, cohort_id=cohort.id or 0))
    _say(
        call,
        f"Cohort *{_esc(spec.name)}* created: {spec.months} months, meeting {cadence}. "
        f"Post the call with `/ally-admin mentoring call {_esc(spec.name)}`."
        + (
            f" {carried} {'person' if carried == 1 else 'people'} left unmatched by earlier "
            "cohorts are already in it."
            if carried
            else ""
        ),
    )


def _call_command(call: Invocation, args: str) -> None:
    d = call.deps
    with d.db.read() as session:
        cohort = cohorts.named(session, args)
        if cohort.status == cohorts.CLOSED:
            raise InvalidInput(f"{cohort.name} is closed; create a new cohort for a new call.")
        cohort_id, name = cohort.id, cohort.name
    assert cohort_id is not None
    channel, ts = surface.post_call(call.client, d, cohort_id=cohort_id)
    with d.db.session() as session:
        cohorts.record_call(session, cohort_id=cohort_id, channel=channel, ts=ts)
    _say(call, f"The call for *{_esc(name)}* is posted in <#{channel}>.")


def _proposal_reply(call: Invocation, proposal: dict[str, Any], cohort_id: int, name: str) -> None:
    blocks = render_blocks(
        "mentoring/proposal.json.j2",
        cohort_id=cohort_id,
        cohort_name=name,
        version=proposal["version"],
        pairs=proposal["pairs"],
        unmatched=proposal["unmatched"],
        total=proposal["total"],
        confirmed=False,
    )
    call.reply(f"Proposed pairs for {name}: {len(proposal['pairs'])}", blocks)


def _pair_command(call: Invocation, args: str) -> None:
    d = call.deps
    request = review.parse_pair_request(args)
    with d.db.session() as session:
        cohort = cohorts.named(session, request.name, lock=True)
        review.allow(cohort, request)
        proposal = review.propose(session, cohort=cohort, content=surface.content(d))
        cohort_id, name = cohort.id, cohort.name
    assert cohort_id is not None
    _proposal_reply(call, proposal, cohort_id, name)


def _review_command(call: Invocation, args: str, *, swap: bool) -> None:
    d = call.deps
    name, users = cohorts.split_mentions(args)
    if len(users) != 2:
        word = "swap" if swap else "exclude"
        raise InvalidInput(f"Name the cohort and two people: `mentoring {word} NAME @a @b`.")
    with d.db.session() as session:
        cohort = cohorts.named(session, name, lock=True)
        change = review.swap if swap else review.exclude
        proposal = change(session, cohort=cohort, users=users, content=surface.content(d))
        cohort_id, cohort_name = cohort.id, cohort.name
    assert cohort_id is not None
    _proposal_reply(call, proposal, cohort_id, cohort_name)


def _close_command(call: Invocation, args: str) -> None:
    d = call.deps
    with d.db.session() as session:
        cohort = cohorts.named(session, args, lock=True)
        people, key = cohorts.close(session, cohort=cohort, now=utcnow())
        name = cohort.name
    _say(
        call,
        f"*{_esc(name)}* is closed. {len(people)} participant"
        f"{'' if len(people) == 1 else 's'} will get the closing self-assessment by DM.",
    )
    surface.run_followup(d, call.client, key)


def _report_command(call: Invocation, args: str) -> None:
    d = call.deps
    framework = surface.content(d).framework
    with d.db.session() as session:
        cohort = cohorts.named(session, args)
        result = report.cohort_report(
            session, cohort=cohort, framework=framework, min_group=d.settings.min_group
        )
        keys = report.schedule_own_reports(session, report=result, now=utcnow())
    blocks = render_blocks(
        "mentoring/report.json.j2",
        cohort_name=result.cohort_name,
        rows=result.rows,
        overall=result.overall,
        assessed=result.assessed,
        min_group=result.min_group,
    )
    call.reply(f"Mentoring report: {result.cohort_name}", blocks)
    if result.overall is not None:
        _upload_chart(call, result)
    for key in keys:
        surface.run_followup(d, call.client, key)


def _upload_chart(call: Invocation, result: report.Report) -> None:
    overall = result.overall
    assert overall is not None
    names = {lv.level: lv.name for lv in surface.content(call.deps).framework.levels}
    labels, values = [], []
    for level, name in names.items():
        labels += [f"{name}: at sign-up", f"{name}: at the close"]
        values += [overall.levels_before.get(level, 0), overall.levels_after.get(level, 0)]
    title = f"{result.cohort_name}: people per maturity level"
    png = bar_chart_png(labels, values, title=title)
    alt = "; ".join(f"{label} {value}" for label, value in zip(labels, values, strict=True))
    channel = str(call.client.conversations_open(users=call.user_id)["channel"]["id"])
    call.client.files_upload_v2(
        channel=channel, content=png, filename=CHART_FILENAME, title=title, alt_txt=alt[:1000]
    )


_ADMIN = {
    "cohort": _cohort_command,
    "call": _call_command,
    "pair": _pair_command,
    "swap": lambda call, args: _review_command(call, args, swap=True),
    "exclude": lambda call, args: _review_command(call, args, swap=False),
    "close": _close_command,
    "report": _report_command,
}


# /ally mentoring [pause|leave]


def on_ally_command(call: Invocation) -> None:
    """Show the person their pair and next check-in, or pause or leave (no reason asked)."""
    call.ack()
    word = call.args.strip().lower()
    d = call.deps
    if word in ("pause", "leave"):
        status = cohorts.PAUSED if word == "pause" else cohorts.LEFT
        with d.db.session() as session:
            done = partners.step_back(session, user_id=call.user_id, status=status, now=utcnow())
        did = "paused your place in" if word == "pause" else "left"
        _say(
            call,
            f"You have {did} *{_esc(done.cohort_name)}*. Thank you for the time you gave. "
            + ("Your partner is told kindly, without any reason given." if done.key else ""),
        )
        if done.key:
            surface.run_followup(d, call.client, done.key)
        return
    if word:
        _say(call, f"Usage: {ALLY_USAGE}")
        return
    _say(call, surface.status_text(d, call.user_id))
