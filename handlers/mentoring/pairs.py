"""Mentoring's pair buttons: confirm the proposal, check-ins and their notes, a new partner."""

from __future__ import annotations

import logging

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.rules.errors import InvalidInput, UserFacingError
from bot.rules.mentoring import checkins, cohorts, partners, review
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.permissions import admins
from handlers.common.replies import tell_privately
from handlers.mentoring import inputs, surface
from handlers.mentoring.ids import Ids
from messages.render import escape_mrkdwn, render, render_blocks
from storage.types import utcnow

logger = logging.getLogger(__name__)


def _esc(text: object) -> str:
    return escape_mrkdwn(text)


# Who may confirm a proposal (declared on its button).
CONFIRMERS = admins("Confirming pairs is for programme admins.")


# review: confirm


def on_confirm_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Confirm the proposal shown (once, whoever clicks twice), then introduce the pairs."""
    ack()
    user_id = payload.user_id
    cohort_id, _, version = payload.action_value.partition(":")
    if not (cohort_id.isdigit() and version.isdigit()):
        raise InvalidInput("This button has expired.")
    with deps.db.session() as session:
        done = review.confirm(session, cohort_id=int(cohort_id), version=int(version), now=utcnow())
    text = (
        f"Confirmed: {len(done.pair_ids)} pair{'' if len(done.pair_ids) == 1 else 's'} "
        f"introduced by group DM; {len(done.unmatched_ids)} told kindly they wait in the pool."
    )
    _retire_proposal(payload, deps, int(cohort_id))
    surface.run_followup(deps, client, done.key)
    tell_privately(client, user_id=user_id, text=text, blocks=surface.notice(text))


def _retire_proposal(payload: Payload, d: Deps, cohort_id: int) -> None:
    """Show the confirmed proposal without its button (an ephemeral: through response_url)."""
    response_url = payload.response_url
    if not response_url:
        return
    with d.db.read() as session:
        cohort = cohorts.by_id(session, cohort_id)
        name, proposal = cohort.name, dict(cohort.proposal)
    blocks = render_blocks(
        "mentoring/proposal.json.j2",
        cohort_id=cohort_id,
        cohort_name=name,
        version=proposal.get("version", 0),
        pairs=proposal.get("pairs", []),
        unmatched=proposal.get("unmatched", []),
        total=proposal.get("total", 0),
        confirmed=True,
    )
    try:
        WebhookClient(response_url).send(
            replace_original=True, text=f"Confirmed pairs for {name}", blocks=blocks
        )
    except OSError as error:  # the pairs are confirmed either way; the old view stays
        logger.info("proposal not redrawn (%s)", type(error).__name__)


# check-ins


def on_checkin_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Record whether the pair met (one click), then show the next content item."""
    ack()
    value = checkins.MET if payload.action_id == Ids.MET.value else checkins.NOT_MET
    raw = payload.action_value
    if not raw.isdigit():
        raise InvalidInput("This check-in button has expired.")
    user_id = payload.user_id
    with deps.db.session() as session:
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
            channel_id=inputs.container(payload)[0],
            text=f"This check-in is already answered: {said}.",
        )
        return
    blocks = surface.checkin_blocks(
        deps, checkin_id=int(raw), meeting=meeting, answer=result.answer, noted=noted
    )
    if channel and ts:
        client.chat_update(channel=channel, ts=ts, text="Check-in answered", blocks=blocks)
    if result.flag_key is not None:
        surface.run_followup(deps, client, result.flag_key)


def on_note_clicked(ack: Ack, payload: Payload, client: WebClient) -> None:
    """Open the optional note's modal."""
    raw = payload.action_value
    metadata = inputs.metadata(k=int(raw) if raw.isdigit() else 0)
    inputs.open_view(
        ack,
        payload,
        client,
        lambda: render("mentoring/note_modal.json.j2", metadata=metadata),
    )


def on_note_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Keep the note (only the pair's), then show it saved on the check-in."""
    checkin_id = inputs.read_metadata(payload, "k")
    note = inputs.text(inputs.values(payload), Ids.NOTE_INPUT)
    user_id = payload.user_id
    try:
        # Read-only before the ack, so that refusals show in the modal.
        with deps.db.read() as session:
            checkins.check_note(session, checkin_id=checkin_id or 0, user_id=user_id, note=note)
    except UserFacingError as error:
        ack(response_action="errors", errors={Ids.NOTE_INPUT: error.message})
        return
    ack()
    with deps.db.session() as session:
        row = checkins.save_note(session, checkin_id=checkin_id or 0, user_id=user_id, note=note)
        meeting, channel, ts, answer = row.meeting, row.channel, row.ts, row.answer
    if channel and ts:
        blocks = surface.checkin_blocks(
            deps, checkin_id=checkin_id or 0, meeting=meeting, answer=answer, noted=True
        )
        client.chat_update(channel=channel, ts=ts, text="Check-in answered", blocks=blocks)


# a new partner after one stepped back


def on_new_partner_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Pair the person with the best partner waiting in the pool, and introduce them."""
    ack()
    raw = payload.action_value
    user_id = payload.user_id
    with deps.db.session() as session:
        row = partners.accept_partner(
            session,
            participant_id=int(raw) if raw.isdigit() else 0,
            user_id=user_id,
            content=surface.content(deps),
            now=utcnow(),
        )
        key = f"{cohorts.INTROS}:pair:{row.id}"
    surface.run_followup(deps, client, key)
    channel, ts = inputs.container(payload)
    if channel and ts:
        text = "You have a new partner: see your group DM."
        client.chat_update(channel=channel, ts=ts, text=text, blocks=surface.notice(text))
