"""Mentoring's listeners: admin and participant commands, buttons and views (ack first)."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rules import points
from bot.rules.errors import InvalidInput, NotFound, UserFacingError
from bot.rules.mentoring import checkins, cohorts, report, signup
from handlers.common.client import trigger_client
from handlers.common.commands import Invocation
from handlers.common.deps import Deps, deps
from handlers.common.replies import tell_privately
from handlers.mentoring import surface
from handlers.mentoring.ids import MATURITY_PREFIX, Ids
from messages.charts import bar_chart_png
from messages.render import escape_mrkdwn, render, render_blocks
from storage import mentoring as store
from storage.types import utcnow

logger = logging.getLogger(__name__)

ADMIN_USAGE = (
    "`/ally-admin mentoring cohort NAME MONTHS CADENCE | call NAME | pair NAME | "
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
    _say(
        call,
        f"Cohort *{_esc(spec.name)}* created: {spec.months} months, meeting {cadence}. "
        f"Post the call with `/ally-admin mentoring call {_esc(spec.name)}`.",
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
        ids=Ids,
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
    with d.db.session() as session:
        cohort = cohorts.named(session, args, lock=True)
        proposal = cohorts.propose(session, cohort=cohort, content=surface.content(d))
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
        change = cohorts.swap if swap else cohorts.exclude
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
            done = cohorts.step_back(session, user_id=call.user_id, status=status, now=utcnow())
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


# sign-up


def _metadata(**values: Any) -> str:
    return json.dumps(values, separators=(",", ":"))


def _read_metadata(view: dict[str, Any], name: str) -> int | None:
    try:
        return int(json.loads(view.get("private_metadata") or "{}")[name])
    except (ValueError, KeyError, TypeError):
        return None


def _open_view(ack: Ack, body: dict[str, Any], client: WebClient, build: Any) -> None:
    """views.open with the trigger at once, then the ack, whatever happens."""
    failed: Exception | None = None
    try:
        trigger_client(client).views_open(trigger_id=body["trigger_id"], view=build())
    except (SlackApiError, OSError, UserFacingError) as error:
        failed = error
    finally:
        ack()
    if failed is not None:
        text = (
            failed.message
            if isinstance(failed, UserFacingError)
            else "I could not open the form just now. Please click the button again."
        )
        channel = ((body.get("container") or {}).get("channel_id")) or None
        tell_privately(client, user_id=str(body["user"]["id"]), text=text, channel_id=channel)


def _signup_view(d: Deps, cohort_id: int, user_id: str) -> dict[str, Any]:
    mentoring = surface.content(d)
    with d.db.read() as session:
        cohort_name = signup.open_for_signup(session, cohort_id, now=utcnow()).name
        row = store.participant(session, cohort_id=cohort_id, user_id=user_id)
        units = sorted(points.unit_names(session), key=str.casefold)
        current = (
            {
                "role": row.role,
                "business_unit": row.business_unit,
                "country": row.country,
                "seniority": row.seniority,
                "interests": list(row.interests),
                "reports_to": row.reports_to if str(row.reports_to)[:1] in "UW" else None,
                "exclude": [u for u in row.exclude if str(u)[:1] in "UW"],
                "behaviours": list(row.behaviours_before),
            }
            if row
            else None
        )
    return render(
        "mentoring/signup_modal.json.j2",
        ids=Ids,
        callback_id=Ids.SIGNUP.value,
        closing=False,
        metadata=_metadata(c=cohort_id),
        cohort_name=cohort_name,
        interests=mentoring.interests,
        groups=mentoring.framework.checkbox_groups(),
        level_names=mentoring.level_names(),
        units=units,
        current=current,
    )


def on_signup_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Open the sign-up form for the call's cohort (prefilled when signing up again)."""
    d = deps(context)
    user_id = str(body["user"]["id"])
    value = str(body["actions"][0].get("value") or "")
    if not value.isdigit():
        ack()
        tell_privately(client, user_id=user_id, text="This sign-up button has expired.")
        return
    _open_view(ack, body, client, lambda: _signup_view(d, int(value), user_id))


def _values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values = (view.get("state") or {}).get("values") or {}
    return {block: next(iter(actions.values()), {}) for block, actions in values.items() if actions}


def _text(values: dict[str, dict[str, Any]], block: str) -> str:
    entry = values.get(block) or {}
    if entry.get("selected_option"):
        return str(entry["selected_option"].get("value") or "")
    return str(entry.get("value") or "")


def _behaviours(values: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    return tuple(
        str(option.get("value"))
        for block, entry in values.items()
        if block.startswith(MATURITY_PREFIX)
        for option in entry.get("selected_options") or []
    )


def on_signup_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Check the form (errors shown in the modal), ack, save, and confirm by DM."""
    d = deps(context)
    view = body["view"]
    user_id = str(body["user"]["id"])
    cohort_id = _read_metadata(view, "c")
    if cohort_id is None:
        ack(response_action="errors", errors={"role": "This form has expired."})
        return
    values = _values(view)
    form = signup.SignupForm(
        role=_text(values, "role"),
        business_unit=_text(values, "business_unit"),
        country=_text(values, "country"),
        seniority=_text(values, "seniority"),
        interests=tuple(
            str(o.get("value"))
            for o in (values.get("interests") or {}).get("selected_options") or []
        ),
        reports_to=(values.get("reports_to") or {}).get("selected_user") or None,
        exclude=tuple((values.get("exclude") or {}).get("selected_users") or ()),
        behaviours=_behaviours(values),
    )
    mentoring = surface.content(d)
    try:
        form = signup.check(form, user_id=user_id, content=mentoring)
        with d.db.read() as session:
            signup.open_for_signup(session, cohort_id, now=utcnow())
    except UserFacingError as error:
        block = getattr(error, "block_id", None) or "role"
        ack(response_action="errors", errors={block: error.message})
        return
    ack()
    with d.db.session() as session:
        saved = signup.save(
            session,
            cohort_id=cohort_id,
            user_id=user_id,
            form=form,
            content=mentoring,
            now=utcnow(),
        )
    what = "signed up to" if saved.created else "updated your sign-up to"
    wait = (
        " The pairs are already confirmed, so you wait in the pool: you may be offered a "
        "partner who becomes free, or you are first in line for the next cohort."
        if saved.pooled
        else " The organisers will let you know your partner."
    )
    text = f"You have {what} *{_esc(saved.cohort_name)}*.{wait}"
    surface.dm(
        client,
        user_id,
        text,
        surface.notice(text, "Only the programme's organisers see your answers."),
    )


# review: confirm


def on_confirm_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Confirm the proposal shown (once, whoever clicks twice), then introduce the pairs."""
    ack()
    d = deps(context)
    user_id = str(body["user"]["id"])
    if not d.settings.is_admin(user_id):
        raise NotFound("Confirming pairs is for programme admins.")
    cohort_id, _, version = str(body["actions"][0].get("value") or "").partition(":")
    if not (cohort_id.isdigit() and version.isdigit()):
        raise InvalidInput("This button has expired.")
    with d.db.session() as session:
        done = cohorts.confirm(
            session, cohort_id=int(cohort_id), version=int(version), now=utcnow()
        )
    text = (
        f"Confirmed: {len(done.pair_ids)} pair{'' if len(done.pair_ids) == 1 else 's'} "
        f"introduced by group DM; {len(done.unmatched_ids)} told kindly they wait in the pool."
    )
    surface.run_followup(d, client, done.key)
    tell_privately(client, user_id=user_id, text=text, blocks=surface.notice(text))


# check-ins


def _container(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return channel, container.get("message_ts")


def on_checkin_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Record whether the pair met (one click), then show the next content item."""
    ack()
    d = deps(context)
    action = body["actions"][0]
    value = checkins.MET if action["action_id"] == Ids.MET.value else checkins.NOT_MET
    raw = str(action.get("value") or "")
    if not raw.isdigit():
        raise InvalidInput("This check-in button has expired.")
    user_id = str(body["user"]["id"])
    with d.db.session() as session:
        result = checkins.answer(
            session, checkin_id=int(raw), user_id=user_id, value=value, now=utcnow()
        )
        meeting, channel, ts = result.checkin.meeting, result.checkin.channel, result.checkin.ts
        noted = bool(result.checkin.note)
    if not result.recorded:
        said = "you met" if result.answer == checkins.MET else "you did not meet this time"
        tell_privately(
            client,
            user_id=user_id,
            channel_id=_container(body)[0],
            text=f"This check-in is already answered: {said}.",
        )
        return
    blocks = surface.checkin_blocks(
        d, checkin_id=int(raw), meeting=meeting, answer=result.answer, noted=noted
    )
    if channel and ts:
        client.chat_update(channel=channel, ts=ts, text="Check-in answered", blocks=blocks)
    if result.flag_key is not None:
        surface.run_followup(d, client, result.flag_key)


def on_note_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Open the optional note's modal."""
    raw = str(body["actions"][0].get("value") or "")
    metadata = _metadata(k=int(raw) if raw.isdigit() else 0)
    _open_view(
        ack,
        body,
        client,
        lambda: render("mentoring/note_modal.json.j2", ids=Ids, metadata=metadata),
    )


def on_note_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Keep the note (only the pair's), then show it saved on the check-in."""
    d = deps(context)
    view = body["view"]
    checkin_id = _read_metadata(view, "k")
    note = _text(_values(view), "note")
    user_id = str(body["user"]["id"])
    try:
        # Read-only before the ack, so that refusals show in the modal.
        with d.db.read() as session:
            checkins.check_note(session, checkin_id=checkin_id or 0, user_id=user_id, note=note)
    except UserFacingError as error:
        ack(response_action="errors", errors={"note": error.message})
        return
    ack()
    with d.db.session() as session:
        row = checkins.save_note(session, checkin_id=checkin_id or 0, user_id=user_id, note=note)
        meeting, channel, ts, answer = row.meeting, row.channel, row.ts, row.answer
    if channel and ts:
        blocks = surface.checkin_blocks(
            d, checkin_id=checkin_id or 0, meeting=meeting, answer=answer, noted=True
        )
        client.chat_update(channel=channel, ts=ts, text="Check-in answered", blocks=blocks)


# closing assessment


def _assessment_view(d: Deps, participant_id: int, user_id: str) -> dict[str, Any]:
    mentoring = surface.content(d)
    with d.db.read() as session:
        row = signup.assessment_owner(session, participant_id=participant_id, user_id=user_id)
        cohort_name = cohorts.by_id(session, row.cohort_id).name
        ticked = list(row.behaviours_after or [])
    return render(
        "mentoring/signup_modal.json.j2",
        ids=Ids,
        callback_id=Ids.ASSESS_VIEW.value,
        closing=True,
        metadata=_metadata(p=participant_id),
        cohort_name=cohort_name,
        interests=mentoring.interests,
        groups=mentoring.framework.checkbox_groups(),
        level_names=mentoring.level_names(),
        units=[],
        current={"behaviours": ticked},
    )


def on_assessment_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Open the closing self-assessment (only for the person it was sent to)."""
    d = deps(context)
    raw = str(body["actions"][0].get("value") or "")
    user_id = str(body["user"]["id"])
    _open_view(
        ack, body, client, lambda: _assessment_view(d, int(raw) if raw.isdigit() else 0, user_id)
    )


def on_assessment_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: Any
) -> None:
    """Save the closing self-assessment; the person's own before/after comes with the report."""
    d = deps(context)
    view = body["view"]
    user_id = str(body["user"]["id"])
    participant_id = _read_metadata(view, "p") or 0
    with d.db.read() as session:
        try:
            signup.assessment_owner(session, participant_id=participant_id, user_id=user_id)
        except UserFacingError as error:
            first = next(iter(_values(view)), "maturity_1_1")
            ack(response_action="errors", errors={first: error.message})
            return
    ack()
    with d.db.session() as session:
        row = signup.save_assessment(
            session,
            participant_id=participant_id,
            user_id=user_id,
            behaviours=_behaviours(_values(view)),
            content=surface.content(d),
        )
        level = surface.content(d).framework.name(row.level_after or 1)
    text = f"Thank you! Your closing self-assessment is saved (*{_esc(level)}*)."
    surface.dm(client, user_id, text, surface.notice(text, "Only you and the organisers see it."))


# a new partner after one stepped back


def on_new_partner_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Pair the person with the best partner waiting in the pool, and introduce them."""
    ack()
    d = deps(context)
    raw = str(body["actions"][0].get("value") or "")
    user_id = str(body["user"]["id"])
    with d.db.session() as session:
        row = cohorts.accept_partner(
            session,
            participant_id=int(raw) if raw.isdigit() else 0,
            user_id=user_id,
            content=surface.content(d),
            now=utcnow(),
        )
        key = f"{cohorts.INTROS}:pair:{row.id}"
    surface.run_followup(d, client, key)
    channel, ts = _container(body)
    if channel and ts:
        text = "You have a new partner: see your group DM."
        client.chat_update(channel=channel, ts=ts, text=text, blocks=surface.notice(text))
