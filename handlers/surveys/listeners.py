"""Listeners of the awareness surveys: `/ally-admin survey ...`, `answer_survey`, the form."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rules.errors import Conflict, InvalidInput, NotFound, UserFacingError
from bot.rules.points import adjustments
from bot.rules.surveys import runs
from bot.rules.surveys.comparison import compare
from handlers.common.client import trigger_client
from handlers.common.commands import Invocation
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.replies import tell_privately
from handlers.common.units import (
    VIEW_MAX_BYTES,
    UnitChoice,
    choose_units,
    resolve_typed,
    unknown_unit,
)
from handlers.requests.surface import in_words
from handlers.surveys import surface
from handlers.surveys.ids import Ids
from messages.render import escape_mrkdwn, render, render_blocks
from storage.surveys import checkpoint
from storage.types import utcnow

logger = logging.getLogger(__name__)

USAGE = "`/ally-admin survey list|start ID [#channel]|close ID|results ID [ID2]` awareness surveys"
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


# /ally-admin survey


def on_survey_command(call: Invocation) -> None:
    """Route `survey list|start|close|results`."""
    call.ack()
    word, _, rest = call.args.partition(" ")
    words = rest.split()
    action = {"list": _list, "start": _start, "close": _close, "results": _results}.get(
        word.lower()
    )
    if action is None:
        raise InvalidInput(f"Usage: {USAGE}")
    action(call, words)


def _list(call: Invocation, words: list[str]) -> None:
    d = call.deps
    with d.db.read() as session:
        all_runs = runs.all_runs(session)
    available = [
        f"`{s.id}`: {escape_mrkdwn(s.title)} ({len(s.questions)} questions)"
        for s in d.content.surveys
    ]
    sent = [
        f"`{r.name}`: {r.status}, {r.answers} answers from {r.recipients} people asked"
        f"{' in <#' + r.channel + '>' if r.channel else ''}, started {r.opened_at:%Y-%m-%d}"
        for r in all_runs
    ]
    sections = [
        "*Surveys you can start*\n" + ("\n".join(available) or "None: add survey.yml."),
        "*Surveys sent*\n" + ("\n".join(sent) or "None yet."),
    ]
    _reply_pages(call, "Awareness surveys", sections)


def _start(call: Invocation, words: list[str]) -> None:
    d = call.deps
    if not words or len(words) > 2:
        raise InvalidInput("Usage: `/ally-admin survey start ID [#channel]`")
    survey = d.content.survey(words[0].lower())
    if survey is None:
        known = ", ".join(f"`{s.id}`" for s in d.content.surveys) or "none"
        raise NotFound(f"There is no survey {escape_mrkdwn(words[0][:64])!s}. Surveys: {known}.")
    channel = None
    if len(words) == 2:
        found = CHANNEL.match(words[1])
        if not found:
            raise InvalidInput("Name the channel as #channel (Slack links it), or leave it out.")
        channel = found.group(1)
    with d.db.session() as session:
        run = runs.start(session, survey=survey, channel=channel, now=utcnow())
    where = f"the members of <#{channel}>" if channel else "every active member of the workspace"
    call.reply(
        f"Started {run.name}: {survey.title}. It is on its way to {where}, by DM, "
        f"with one reminder after {in_words(d.settings.survey_reminder_after)}. "
        f"Close it with `/ally-admin survey close {run.name}`."
    )


def _close(call: Invocation, words: list[str]) -> None:
    d = call.deps
    if len(words) != 1:
        raise InvalidInput("Usage: `/ally-admin survey close ID`")
    with d.db.session() as session:
        run = runs.close(session, name=words[0], now=utcnow())
    checkpoint(d.db)
    call.reply(
        f"Closed {run.name} with {run.answers} answers. Who answered is no longer stored "
        f"anywhere. Results: `/ally-admin survey results {run.name}`."
    )


def _results(call: Invocation, words: list[str]) -> None:
    d = call.deps
    if not 1 <= len(words) <= 2:
        raise InvalidInput("Usage: `/ally-admin survey results ID [ID2]`")
    min_group = d.settings.min_group
    with d.db.read() as session:
        found = [runs.find(session, name=w, status=runs.CLOSED) for w in words]
        shown = [runs.run_results(session, run=r, min_group=min_group) for r in found]
    if len(found) == 1:
        run, result = found[0], shown[0]
        title = f"Results of {run.name}: {run.title}"
        sections = surface.results_sections(title, result)
        note = (
            f"Figures only for groups of at least {min_group} answers, comments only for "
            f"{2 * min_group}; a figure that would let subtraction reveal a smaller group is "
            "withheld too."
        )
        _reply_pages(call, title, sections, note)
        labels, values = surface.chart_points(result)
        surface.upload_chart(
            call.client, user_id=call.user_id, title=title, labels=labels, values=values
        )
        return
    before, after = found
    title = f"{before.name} compared with {after.name}"
    comparison = compare(shown[0], shown[1])
    _reply_pages(call, title, surface.comparison_sections(before.name, after.name, comparison))


def _reply_pages(call: Invocation, title: str, sections: list[str], note: str = "") -> None:
    for blocks in surface.pages(title, sections, note):
        text = title
        call.reply(text, blocks)


# the survey DM's button and the form


# What the form keeps free of the units' options besides its other parts (spacing, margin).
FORM_MARGIN = 10_000


def form_data(*, metadata: str, title: str, questions: Any, units: list[str]) -> dict[str, Any]:
    """The survey form's template data: the units listed while the view, with its questions,
    stays within Slack's 250 kB; past that the unit's name is typed (handlers.common.units)."""
    data: dict[str, Any] = {
        "metadata": metadata,
        "title": title,
        "questions": questions,
        "text_max": runs.TEXT_MAX,
    }
    typed = UnitChoice("typed", units) if units else UnitChoice("none", units)
    rest = render("surveys/form.json.j2", **data, choice=typed)
    used = len(json.dumps(rest, ensure_ascii=False, separators=(",", ":")).encode())
    data["choice"] = choose_units(units, budget=VIEW_MAX_BYTES - used - FORM_MARGIN)
    return data


def form_view(*, metadata: str, title: str, questions: Any, units: list[str]) -> dict[str, Any]:
    """The survey form (a view within Slack's limits at any number of units)."""
    view = render(
        "surveys/form.json.j2",
        **form_data(metadata=metadata, title=title, questions=questions, units=units),
    )
    assert isinstance(view, dict)
    return view


def on_answer_clicked(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Open the form (the trigger first): or say why not (closed, already answered)."""
    user_id = payload.user_id
    refusal: str | None = None
    try:
        run_id = int(payload.action_value or "0")
        marker = runs.marker(deps.privacy, run_id=run_id, user_id=user_id)
        # Read-only, before views.open: never waits for SQLite's writer.
        with deps.db.read() as session:
            run = runs.check_open(runs.get(session, run_id=run_id))
            if runs.has_answered(session, run_id=run_id, marker=marker):
                raise Conflict("You have already answered this survey. Thank you!")
            units = sorted(adjustments.unit_names(session), key=str.casefold)
        channel, ts = payload.message_channel, payload.message_ts
        metadata = json.dumps({"r": run.id, "c": channel, "t": ts}, separators=(",", ":"))
        trigger_client(client).views_open(
            trigger_id=payload.trigger_id,
            view=form_view(
                metadata=metadata, title=run.title, questions=run.questions, units=units
            ),
        )
    except UserFacingError as error:
        refusal = error.message
    except ValueError:
        refusal = "This survey no longer exists."
    except (SlackApiError, OSError) as error:
        logger.info("survey form not opened (%s)", type(error).__name__)
        refusal = "I could not open the survey just now. Please click the button again."
    finally:
        ack()
    if refusal is not None:
        tell_privately(client, user_id=user_id, channel_id=payload.message_channel, text=refusal)


def _values(payload: Payload) -> tuple[dict[str, str | None], str | None]:
    values: dict[str, str | None] = {}
    unit: str | None = None
    for block_id, actions in payload.values.items():
        for action_id in actions:
            element = payload.element(block_id, str(action_id))
            chosen = element.get("selected_option") or {}
            value = (
                chosen.get("value") if isinstance(chosen, dict) and chosen else element.get("value")
            )
            if block_id == Ids.UNIT.value:
                unit = (str(value).strip() or None) if value else None
            else:
                values[block_id] = None if value is None else str(value)
    return values, unit


def on_form_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Store the answers without the person's ID (refusals show in the form), then thank."""
    user_id = payload.user_id
    values, unit = _values(payload)
    first_block = next(iter(values), Ids.UNIT.value)
    meta = payload.metadata
    try:
        run_id = int(meta["r"])
    except (ValueError, KeyError, TypeError):
        ack(response_action="errors", errors={first_block: "This form has expired."})
        return
    marker = runs.marker(deps.privacy, run_id=run_id, user_id=user_id)
    try:
        # The one write before the ack, bounded: its refusals must show in the form.
        with deps.db.session(wait=2.0) as session:
            if unit is not None:
                # A select's value, or a typed name (too many units to list): ignoring case.
                found = resolve_typed(unit, list(adjustments.unit_names(session)))
                if found is None:
                    raise InvalidInput(unknown_unit(unit), block_id=Ids.UNIT.value)
                unit = found
            runs.record_answer(
                session,
                run_id=run_id,
                marker=marker,
                business_unit=unit,
                values=values,
                today=utcnow().astimezone(deps.settings.zone).date(),
            )
    except UserFacingError as error:
        block = getattr(error, "block_id", None) if isinstance(error, InvalidInput) else None
        ack(response_action="errors", errors={block or first_block: error.message})
        return
    ack()
    channel, ts = meta.get("c"), meta.get("t")
    if channel and ts:
        with deps.db.read() as session:
            run = runs.get(session, run_id=run_id)
        title = run.title if run else "Survey"
        blocks = render_blocks(
            "surveys/invite.json.j2",
            run_id=run_id,
            title=title,
            intro="",
            reminder=False,
            answered=True,
        )
        try:
            client.chat_update(
                channel=str(channel), ts=str(ts), text="Thank you for answering.", blocks=blocks
            )
        except SlackApiError as error:
            logger.info("survey DM not updated (%s)", error.response.get("error"))
