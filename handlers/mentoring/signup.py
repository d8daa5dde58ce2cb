"""Mentoring's sign-up view and the closing self-assessment (ack first, views.open at once)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.rules.errors import UserFacingError
from bot.rules.mentoring import cohorts, signup
from bot.rules.points import adjustments
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.replies import tell_privately
from handlers.mentoring import inputs, surface
from handlers.mentoring.ids import Ids
from messages.render import escape_mrkdwn, render
from storage import mentoring as store
from storage.types import utcnow

logger = logging.getLogger(__name__)


def _esc(text: object) -> str:
    return escape_mrkdwn(text)


# sign-up


def _signup_view(d: Deps, cohort_id: int, user_id: str) -> dict[str, Any]:
    mentoring = surface.content(d)
    with d.db.read() as session:
        cohort_name = signup.open_for_signup(session, cohort_id, now=utcnow()).name
        row = store.participant(session, cohort_id=cohort_id, user_id=user_id)
        units = sorted(adjustments.unit_names(session), key=str.casefold)
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
        callback_id=Ids.SIGNUP.value,
        closing=False,
        metadata=inputs.metadata(c=cohort_id),
        cohort_name=cohort_name,
        interests=mentoring.interests,
        groups=mentoring.framework.checkbox_groups(),
        level_names=mentoring.level_names(),
        units=units,
        current=current,
    )


def on_signup_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Open the sign-up form for the call's cohort (prefilled when signing up again)."""
    user_id = payload.user_id
    value = payload.action_value
    if not value.isdigit():
        ack()
        tell_privately(client, user_id=user_id, text="This sign-up button has expired.")
        return
    inputs.open_view(ack, payload, client, lambda: _signup_view(deps, int(value), user_id))


def on_signup_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Check the form (errors shown in the modal), ack, save, and confirm by DM."""
    user_id = payload.user_id
    cohort_id = inputs.read_metadata(payload, "c")
    if cohort_id is None:
        ack(response_action="errors", errors={Ids.ROLE: "This form has expired."})
        return
    values = inputs.values(payload)
    form = signup.SignupForm(
        role=inputs.text(values, Ids.ROLE),
        business_unit=inputs.text(values, Ids.BUSINESS_UNIT),
        country=inputs.text(values, Ids.COUNTRY),
        seniority=inputs.text(values, Ids.SENIORITY),
        interests=tuple(payload.selected(Ids.INTERESTS)),
        reports_to=payload.selected_user(Ids.REPORTS_TO),
        exclude=tuple(payload.selected_users(Ids.EXCLUDE)),
        behaviours=inputs.behaviours(values),
    )
    mentoring = surface.content(deps)
    try:
        form = signup.check(form, user_id=user_id, content=mentoring)
        with deps.db.read() as session:
            signup.open_for_signup(session, cohort_id, now=utcnow())
    except UserFacingError as error:
        block = getattr(error, "block_id", None) or Ids.ROLE
        ack(response_action="errors", errors={block: error.message})
        return
    ack()
    with deps.db.session() as session:
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


# closing assessment


def _assessment_view(d: Deps, participant_id: int, user_id: str) -> dict[str, Any]:
    mentoring = surface.content(d)
    with d.db.read() as session:
        row = signup.assessment_owner(session, participant_id=participant_id, user_id=user_id)
        cohort_name = cohorts.by_id(session, row.cohort_id).name
        ticked = list(row.behaviours_after or [])
    return render(
        "mentoring/signup_modal.json.j2",
        callback_id=Ids.ASSESS_VIEW.value,
        closing=True,
        metadata=inputs.metadata(p=participant_id),
        cohort_name=cohort_name,
        interests=mentoring.interests,
        groups=mentoring.framework.checkbox_groups(),
        level_names=mentoring.level_names(),
        units=[],
        current={"behaviours": ticked},
    )


def on_assessment_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Open the closing self-assessment (only for the person it was sent to)."""
    raw = payload.action_value
    user_id = payload.user_id
    inputs.open_view(
        ack,
        payload,
        client,
        lambda: _assessment_view(deps, int(raw) if raw.isdigit() else 0, user_id),
    )


def on_assessment_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Save the closing self-assessment; the person's own before/after comes with the report."""
    user_id = payload.user_id
    participant_id = inputs.read_metadata(payload, "p") or 0
    with deps.db.read() as session:
        try:
            signup.assessment_owner(session, participant_id=participant_id, user_id=user_id)
        except UserFacingError as error:
            first = next(iter(inputs.values(payload)), "maturity_1_1")
            ack(response_action="errors", errors={first: error.message})
            return
    ack()
    with deps.db.session() as session:
        row = signup.save_assessment(
            session,
            participant_id=participant_id,
            user_id=user_id,
            behaviours=inputs.behaviours(inputs.values(payload)),
            content=surface.content(deps),
        )
        level = surface.content(deps).framework.name(row.level_after or 1)
    text = f"Thank you! Your closing self-assessment is saved (*{_esc(level)}*)."
    surface.dm(client, user_id, text, surface.notice(text, "Only you and the organisers see it."))
