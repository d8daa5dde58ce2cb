"""The Slack surface of allies and business units: `/ally join`, sign-up, `/ally-admin bu`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rules import allies
from bot.rules.errors import InvalidInput
from handlers.common.client import trigger_client
from handlers.common.commands import Invocation, Routes
from handlers.common.deps import Deps
from handlers.common.listeners import Listeners
from handlers.common.payload import Payload
from handlers.common.permissions import ANYONE, admins
from handlers.common.replies import tell_privately
from handlers.common.units import choose_units, resolve_typed, submitted_unit, unknown_unit
from messages.render import escape_mrkdwn, render, render_blocks


class Ids(StrEnum):
    """The callback_id, action_id and block_id strings of this feature (SPEC 5)."""

    SIGNUP_VIEW = "ally_signup"
    BUSINESS_UNIT = "business_unit"
    AVAILABILITY = "availability"
    JOIN = "join_allies"
    LEAVE = "leave_allies"
    IMPORT_VIEW = "bu_import"
    CSV = "csv"
    LEAVE_BLOCK = "leave"
    LEFT_VIEW = "ally_left"


logger = logging.getLogger(__name__)

# Business units listed per `/ally-admin bu` message (two sections of 30; well under 12k).
LIST_PER_MESSAGE = 60
NOT_OPENED = "I could not open the form just now. Please try again in a moment."
SLACK_UNAVAILABLE = (
    "Nothing was imported: I could not ask Slack who the e-mail addresses belong to just now "
    "({error}). Please try the import again in a few minutes."
)


def register(on: Listeners, routes: Routes) -> None:
    """Register sign-up, leaving and the admins' business unit commands."""
    routes.ally.add(
        "join",
        on_join_command,
        "`/ally join`: become an ally, or change your business unit and availability",
    )
    on.action(Ids.JOIN, allow=ANYONE)(on_join_button)
    on.action(Ids.LEAVE, allow=ANYONE)(on_leave_button)
    on.view(Ids.SIGNUP_VIEW, allow=ANYONE)(on_signup_submitted)
    routes.admin.add(
        "bu",
        on_bu_command,
        "`/ally-admin bu` lists business units; `bu add NAME` adds one; "
        "`bu import` assigns people from a CSV",
    )
    # Told in the form: the CSV stays there (an admin who stopped being one meanwhile).
    importers = admins("Only programme admins can import.", field=Ids.CSV)
    on.view(Ids.IMPORT_VIEW, allow=importers)(on_import_submitted)


def _notice(text: str) -> list[dict[str, Any]]:
    return render_blocks("allies/notice.json.j2", text=text)


def signup_modal(d: Deps, user_id: str) -> dict[str, Any]:
    """The `ally_signup` view, prefilled with the ally's current profile (a read only)."""
    with d.db.read() as session:
        units = [bu.name for bu in allies.business_units(session)]
        current = allies.profile(session, user_id=user_id)
    view = render("allies/signup.json.j2", choice=choose_units(units), current=current)
    assert isinstance(view, dict)
    return view


def _try_open(client: WebClient, trigger_id: str, view: Callable[[], dict[str, Any]]) -> bool:
    """views.open with a trigger, before the ack: one quick try; False if it failed."""
    try:
        trigger_client(client).views_open(trigger_id=trigger_id, view=view())
        return True
    except (SlackApiError, OSError) as error:
        # Not re-raised: Bolt drops the ack's response when the listener raises right after it.
        logger.info("modal not opened (%s)", type(error).__name__)
        return False


def on_join_command(call: Invocation) -> None:
    """`/ally join` opens the sign-up modal (the trigger is used before the ack)."""
    opened = False
    try:
        opened = _try_open(
            call.client,
            call.trigger_id,
            lambda: signup_modal(call.deps, call.user_id),
        )
    finally:
        call.ack()
    if not opened:
        call.reply(NOT_OPENED, _notice(NOT_OPENED))


def on_join_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """The "Become an ally" / "Change" button opens the sign-up modal."""
    user_id = payload.user_id
    opened = False
    try:
        opened = _try_open(client, payload.trigger_id, lambda: signup_modal(deps, user_id))
    finally:
        ack()
    if not opened:
        tell_privately(
            client,
            user_id=user_id,
            channel_id=payload.channel_id,
            text=NOT_OPENED,
            blocks=_notice(NOT_OPENED),
        )


def on_signup_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Save the ally's business unit and availability; a unit not in the list is a modal error.

    The check before the ack is a read (it never waits for SQLite's writer); the write
    follows the ack, and its outcome is told by DM.
    """
    user_id = payload.user_id
    unit = submitted_unit(payload.values, Ids.BUSINESS_UNIT)
    availability = payload.value(Ids.AVAILABILITY)
    try:
        with deps.db.read() as session:
            names = [bu.name for bu in allies.business_units(session)]
            # A typed name (too many units to list) is matched ignoring case.
            found = resolve_typed(unit, names)
            if found is None:
                raise InvalidInput(
                    unknown_unit(unit) if unit else "Choose your business unit.",
                    Ids.BUSINESS_UNIT,
                )
            unit = found
            allies.require_business_unit(session, unit)
    except InvalidInput as error:
        ack(response_action="errors", errors={error.block_id or Ids.BUSINESS_UNIT: error.message})
        return
    ack()
    try:
        with deps.db.session() as session:
            allies.join(
                session,
                user_id=user_id,
                business_unit=unit,
                available=availability != "unavailable",
            )
    except InvalidInput as error:  # the unit went between the check and the write
        text = f"Nothing was saved: {error.message} Open the form again with `/ally join`."
        client.chat_postMessage(channel=user_id, text=text, blocks=_notice(text))
        return
    text = (
        "You are an ally. Requests appear in the allies channel: click *I can help* to offer."
        if availability != "unavailable"
        else "Saved. You are marked as unavailable; switch back with `/ally join` any time."
    )
    client.chat_postMessage(channel=user_id, text=text, blocks=_notice(text))


def on_leave_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Leave the allies (from the sign-up modal)."""
    ack()
    with deps.db.session() as session:
        allies.leave(session, user_id=payload.user_id)
    if view_id := payload.view_id_or_none:
        client.views_update(view_id=view_id, view=render("allies/left.json.j2"))


# admins: business units


def on_bu_command(call: Invocation) -> None:
    """`/ally-admin bu [add NAME | import]`."""
    word, _, rest = call.args.partition(" ")
    if word.lower() == "import":
        opened = False
        try:
            opened = _try_open(call.client, call.trigger_id, lambda: _import_modal(call))
        finally:
            call.ack()
        if not opened:
            call.reply(NOT_OPENED, _notice(NOT_OPENED))
        return
    call.ack()
    if word.lower() == "add":
        with call.deps.db.session() as session:
            unit = allies.add_business_unit(session, rest)
        text = f"Added the business unit {escape_mrkdwn(unit.name)}."
        call.reply(text, _notice(text))
        return
    with call.deps.db.read() as session:
        names = [bu.name for bu in allies.business_units(session)]
    if not names:
        call.reply("Business units: none yet", _notice("Business units: none yet"))
        return
    # Every unit, in as many messages as it takes (a section holds 3000 characters).
    for start in range(0, len(names), LIST_PER_MESSAGE):
        part = names[start : start + LIST_PER_MESSAGE]
        blocks = render_blocks("allies/bu_list.json.j2", names=part, first=start == 0)
        call.reply("Business units: " + escape_mrkdwn(", ".join(part)), blocks)


def _import_modal(call: Invocation) -> dict[str, Any]:
    with call.deps.db.read() as session:
        units = [bu.name for bu in allies.business_units(session)]
    view = render("allies/bu_import.json.j2", units=units)
    assert isinstance(view, dict)
    return view


def on_import_submitted(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """Check every line before the ack; resolve e-mails after it; apply all or nothing."""
    user_id = payload.user_id
    text = payload.value(Ids.CSV)
    try:
        with deps.db.read() as session:
            names = [bu.name for bu in allies.business_units(session)]
        rows = allies.parse_import(text, names)
    except InvalidInput as error:
        ack(response_action="errors", errors={Ids.CSV: error.message[:1900]})
        return
    ack()
    reply = _import(deps, client, rows)
    tell_privately(client, user_id=user_id, text=reply, blocks=_notice(reply))


def _import(d: Deps, client: WebClient, rows: list[allies.ImportRow]) -> str:
    """Resolve the e-mails (after the ack) and apply every line, or none; what to tell."""
    try:
        users = _look_up_emails(client, rows)
    except (SlackApiError, OSError) as error:
        reason = (
            str(error.response.get("error") or "no answer")
            if isinstance(error, SlackApiError)
            else type(error).__name__
        )
        logger.warning("bu import: users.lookupByEmail failed (%s); nothing imported", reason)
        return SLACK_UNAVAILABLE.format(error=reason)
    assignments: list[tuple[str, str]] = []
    unknown: list[str] = []
    for row in rows:
        found = users.get(row.identifier.casefold()) if row.is_email else row.identifier
        if found is None:
            unknown.append(f"line {row.line}")
        else:
            assignments.append((found, row.business_unit))
    if unknown:
        more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        return "Nothing was imported. No Slack user for " + "; ".join(unknown[:20]) + more
    try:
        with d.db.session() as session:
            count = allies.apply_import(session, assignments)
    except InvalidInput as error:
        return error.message
    return f"Imported {count} people into their business units."


def _look_up_emails(client: WebClient, rows: list[allies.ImportRow]) -> dict[str, str | None]:
    """Each distinct e-mail's user ID, or None when Slack has no such user (users_not_found).

    One call per address, one after another, on the client that retries rate limits as Slack
    asks (Retry-After). Any other failure (still rate limited, a missing scope, Slack down)
    raises at once: the import then applies nothing.
    """
    users: dict[str, str | None] = {}
    for row in rows:
        key = row.identifier.casefold()
        if not row.is_email or key in users:
            continue
        try:
            users[key] = str(client.users_lookupByEmail(email=row.identifier)["user"]["id"])
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise
            users[key] = None
    return users
