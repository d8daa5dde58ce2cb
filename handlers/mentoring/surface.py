"""Mentoring's outgoing Slack work: the call, introductions, notices, check-ins, DMs.

Every "send this once" is a step of a due item written with the change (bot.rules.mentoring):
the listener runs the item's steps at once after the ack, the scheduler runs it again if a
step failed, and each step runs under the item's row lock and is recorded in it, so double
clicks and replicas never send twice.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.jobs.queue import DueWork
from bot.rules.mentoring import checkins, cohorts, report
from bot.rules.mentoring.content import MentoringContent
from handlers.common.deps import Deps
from messages.render import escape_mrkdwn, render_blocks
from storage import mentoring as store

logger = logging.getLogger(__name__)


def content(d: Deps) -> MentoringContent:
    """The mentoring content loaded (and checked) at start-up."""
    assert d.content.mentoring is not None
    return d.content.mentoring


def notice(text: str, note: str | None = None) -> list[dict[str, Any]]:
    """A short message's blocks (text is mrkdwn, user text already escaped)."""
    return render_blocks("mentoring/notice.json.j2", text=text, note=note)


def dm(client: WebClient, user_id: str, text: str, blocks: list[dict[str, Any]]) -> str:
    """DM a person (posted to their user ID); the message ts."""
    return str(client.chat_postMessage(channel=user_id, text=text, blocks=blocks)["ts"])


def post_call(client: WebClient, d: Deps, *, cohort_id: int) -> tuple[str, str]:
    """Post the call for participants to the announcements channel."""
    with d.db.read() as session:
        cohort = cohorts.by_id(session, cohort_id)
        name, months, cadence = cohort.name, cohort.months, cohorts.describe_cadence(cohort)
    channel = d.settings.announcements_channel
    blocks = render_blocks(
        "mentoring/call.json.j2",
        cohort_id=cohort_id,
        cohort_name=name,
        months=months,
        cadence=cadence,
    )
    response = client.chat_postMessage(
        channel=channel, text=f"Reverse mentoring: sign up for {name}", blocks=blocks
    )
    return str(response["channel"]), str(response["ts"])


# follow-ups (due items run at once by the listener, by the scheduler if that fails)


def run_followup(d: Deps, client: WebClient, key: str) -> None:
    """Run a follow-up item's steps now (after the ack); the scheduler retries what failed."""
    with d.db.read() as session:
        item = jobs.find(session, key=key)
        if item is None or item.status != jobs.PENDING:
            return
        kind, payload = item.kind, dict(item.payload or {})
    steps = _steps(d, client, kind, payload)
    once.run_steps(d.db, key=key, steps=steps, what="mentoring")


def on_followup_due(d: Deps, client: WebClient, item: DueWork) -> None:
    """The scheduler's run of a follow-up item."""
    steps = _steps(d, client, item.kind, item.payload)
    once.run_due_steps(d.db, key=item.key, steps=steps, what="mentoring")


def _steps(d: Deps, client: WebClient, kind: str, payload: dict[str, Any]) -> list[Step]:
    """The steps of a follow-up of this kind, its stored payload read as the kind's model."""
    if kind == cohorts.INTROS:
        intros = cohorts.Intros.model_validate(payload)
        return [_intro(d, client, p) for p in intros.pairs] + [
            _unmatched(d, client, p) for p in intros.unmatched
        ]
    if kind == cohorts.PARTNER_LEFT:
        left = cohorts.PartnerLeft.model_validate(payload)
        return [_partner_left(d, client, left.participant)]
    if kind == cohorts.CLOSING:
        closing = cohorts.Closing.model_validate(payload)
        return [_closing(d, client, p) for p in closing.participants]
    if kind == report.OWN_REPORT:
        own = report.OwnReport.model_validate(payload)
        return [_own_report(d, client, own.participant)]
    if kind == checkins.LAPSE:
        lapse = checkins.Lapse.model_validate(payload)
        return [
            _lapse(d, client, index, admin, lapse.pair)
            for index, admin in enumerate(d.settings.admins)
        ]
    raise ValueError(f"no mentoring follow-up of kind {kind}")


def _intro(d: Deps, client: WebClient, pair_id: int) -> Step:
    def send() -> dict[str, str] | None:
        with d.db.read() as session:
            pair = store.pair(session, pair_id=pair_id)
            if pair is None or pair.status != cohorts.ACTIVE or pair.intro_ts:
                return None
            cohort = cohorts.by_id(session, pair.cohort_id)
            users = f"{pair.mentor_id},{pair.mentee_id}"
            blocks = render_blocks(
                "mentoring/intro.json.j2",
                mentor=pair.mentor_id,
                mentee=pair.mentee_id,
                cohort_name=cohort.name,
                cadence=cohorts.describe_cadence(cohort),
                item=content(d).library.item_for_meeting(1),
            )
        channel = str(client.conversations_open(users=users)["channel"]["id"])
        response = client.chat_postMessage(
            channel=channel, text="Meet your reverse-mentoring partner", blocks=blocks
        )
        return {"channel": channel, "ts": str(response["ts"])}

    def record(session: Session, at: dict[str, str] | None) -> None:
        if at is not None:
            store.record_intro(session, pair_id=pair_id, channel=at["channel"], ts=at["ts"])

    return Step(f"pair:{pair_id}", send, record=record)


def _unmatched(d: Deps, client: WebClient, participant_id: int) -> Step:
    def send() -> None:
        with d.db.read() as session:
            row = store.participant_by_id(session, participant_id=participant_id)
            if row is None:
                return
            name, user_id = cohorts.by_id(session, row.cohort_id).name, row.user_id
        text = (
            f"Thank you for signing up to *{escape_mrkdwn(name)}*. We could not find you a "
            "partner this time: the pairing keeps people apart for reporting lines, earlier "
            "pairs and choices made at sign-up, and the numbers did not work out. You stay in "
            "the pool in case a partner becomes free, and you are kept for the next cohort: "
            "you will be in it without signing up again (`/ally mentoring leave` if you'd "
            "rather not)."
        )
        dm(client, user_id, "About your mentoring pairing", notice(text))

    return Step(f"unmatched:{participant_id}", send)


def _partner_left(d: Deps, client: WebClient, participant_id: int) -> Step:
    def send() -> None:
        with d.db.read() as session:
            row = store.participant_by_id(session, participant_id=participant_id)
            if row is None:
                return
            cohort = cohorts.by_id(session, row.cohort_id)
            offer = cohorts.offer_partner(
                session, participant_id=participant_id, content=content(d)
            )
            user_id = row.user_id
            blocks = render_blocks(
                "mentoring/partner_left.json.j2",
                participant_id=participant_id,
                cohort_name=cohort.name,
                offer=offer is not None,
            )
        dm(client, user_id, "Your mentoring partner has stepped back", blocks)

    return Step("partner", send)


def _closing(d: Deps, client: WebClient, participant_id: int) -> Step:
    def send() -> None:
        with d.db.read() as session:
            row = store.participant_by_id(session, participant_id=participant_id)
            if row is None:
                return
            name, user_id = cohorts.by_id(session, row.cohort_id).name, row.user_id
        blocks = render_blocks(
            "mentoring/closing.json.j2", participant_id=participant_id, cohort_name=name
        )
        dm(client, user_id, f"{name} has ended: your closing self-assessment", blocks)

    return Step(f"closing:{participant_id}", send)


def _own_report(d: Deps, client: WebClient, participant_id: int) -> Step:
    def send() -> None:
        with d.db.read() as session:
            row = store.participant_by_id(session, participant_id=participant_id)
            if row is None or row.level_after is None:
                return
            name, user_id = cohorts.by_id(session, row.cohort_id).name, row.user_id
            movement = report.movement(row, content(d).framework)
        blocks = render_blocks("mentoring/own_report.json.j2", cohort_name=name, row=movement)
        dm(client, user_id, f"Your journey in {name}", blocks)

    return Step("own", send)


def _lapse(d: Deps, client: WebClient, index: int, admin: str, pair_id: int) -> Step:
    def send() -> None:
        with d.db.read() as session:
            pair = store.pair(session, pair_id=pair_id)
            if pair is None:
                return
            name = cohorts.by_id(session, pair.cohort_id).name
            mentor, mentee = pair.mentor_id, pair.mentee_id
        text = (
            f":warning: <@{mentor}> and <@{mentee}> in *{escape_mrkdwn(name)}* "
            "have not met for two check-ins in a row. A friendly word may help."
        )
        dm(client, admin, "A mentoring pair has not met for a while", notice(text))

    return Step(f"admin:{index}", send)


def status_text(d: Deps, user_id: str) -> str:
    """The person's cohort, partner and next check-in, in words (for them only)."""
    with d.db.read() as session:
        me = store.latest_participation(session, user_id=user_id)
        if me is None:
            return "You are not taking part in a mentoring cohort at the moment."
        name, role, status = cohorts.by_id(session, me.cohort_id).name, me.role, me.status
        pair = store.active_pair_of(session, cohort_id=me.cohort_id, user_id=user_id)
        partner = None
        due = None
        if pair is not None and pair.id is not None:
            partner = pair.mentee_id if pair.mentor_id == user_id else pair.mentor_id
            due = checkins.next_checkin(session, pair_id=pair.id)
    head = f"*{escape_mrkdwn(name)}*: you signed up as a {role}"
    if status != cohorts.ACTIVE:
        return f"{head}, and you have {status} for now. Sign up again from the call to return."
    if partner is None:
        return f"{head}. You are waiting for a partner; the organisers will pair you."
    when = (
        f"Your next check-in is on {due.astimezone(d.settings.zone):%A %d %B at %H:%M}."
        if due
        else "There are no more check-ins scheduled."
    )
    return f"{head}. Your partner is <@{partner}>. {when}"


def home_blocks(d: Deps, user_id: str) -> list[dict[str, Any]]:
    """The App Home's mentoring section, for people who signed up to a cohort."""
    with d.db.read() as session:
        taking_part = store.latest_participation(session, user_id=user_id) is not None
    if not taking_part:
        return []
    return render_blocks(
        "mentoring/notice.json.j2",
        text="*Reverse mentoring*\n" + status_text(d, user_id),
        note="Pause or leave any time with `/ally mentoring pause` or `/ally mentoring leave`.",
    )


# check-ins


def checkin_blocks(
    d: Deps, *, checkin_id: int, meeting: int, answer: str | None, noted: bool = False
) -> list[dict[str, Any]]:
    """A check-in's blocks: the buttons, or the answer with the next content item."""
    return render_blocks(
        "mentoring/checkin.json.j2",
        checkin_id=checkin_id,
        meeting=meeting,
        answer=answer,
        item=content(d).library.item_for_meeting(meeting + 1),
        noted=noted,
    )


class IntroPending(RuntimeError):
    """The pair's group DM is not open yet; the check-in waits for the introduction."""


def on_checkin_due(d: Deps, client: WebClient, item: DueWork) -> None:
    """Post one check-in in the pair's group DM (once: the item is claimed and records its ts)."""
    checkin = item.read(checkins.Checkin)
    pair_id, meeting = checkin.pair, checkin.meeting
    with d.db.session() as session:
        pair = store.pair(session, pair_id=pair_id)
        if pair is not None and pair.status == cohorts.ACTIVE and pair.channel is None:
            raise IntroPending("introduction not sent yet")
        ready = checkins.prepare(session, pair_id=pair_id, meeting=meeting)
        if ready is None:
            return
        checkin_id, channel = ready.checkin.id, ready.pair.channel
        posted_ts = ready.checkin.ts
    assert checkin_id is not None and channel is not None
    if not posted_ts:
        blocks = checkin_blocks(d, checkin_id=checkin_id, meeting=meeting, answer=None)

        def post() -> str:
            response = client.chat_postMessage(
                channel=channel, text=f"Mentoring check-in {meeting}: did you meet?", blocks=blocks
            )
            return str(response["ts"])

        def record(session: Session, ts: str) -> None:
            checkins.posted(session, checkin_id=checkin_id, ts=ts, now=item.now)

        posted = once.send_once(d.db, f"checkin:{checkin_id}", post, record=record)
        if not posted.settled:
            raise once.StepsPending("the check-in is being posted elsewhere")
        return  # recorded with the post (or by whoever posted it)
    with d.db.session() as session:
        checkins.posted(session, checkin_id=checkin_id, ts=str(posted_ts), now=item.now)
