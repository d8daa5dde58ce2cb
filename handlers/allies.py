"""The Slack surface of allies and business units: `/ally join`, sign-up, `/ally-admin bu`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import allies
from bot.deps import Deps, deps
from bot.errors import InvalidInput
from handlers.commands import Invocation, Routes
from handlers.replies import tell_privately
from messages.render import render, render_blocks


class Ids(StrEnum):
    """The callback_id, action_id and block_id strings of this feature (SPEC 5)."""

    SIGNUP_VIEW = "ally_signup"
    BUSINESS_UNIT = "business_unit"
    AVAILABILITY = "availability"
    JOIN = "join_allies"
    LEAVE = "leave_allies"
    IMPORT_VIEW = "bu_import"
    CSV = "csv"


def register(app: App, routes: Routes) -> None:
    """Register sign-up, leaving and the admins' business unit commands."""
    routes.ally.add(
        "join",
        on_join_command,
        "`/ally join`: become an ally, or change your business unit and availability",
    )
    app.action(Ids.JOIN.value)(on_join_button)
    app.action(Ids.LEAVE.value)(on_leave_button)
    app.view(Ids.SIGNUP_VIEW.value)(on_signup_submitted)
    routes.admin.add(
        "bu",
        on_bu_command,
        "`/ally-admin bu` lists business units; `bu add NAME` adds one; "
        "`bu import` assigns people from a CSV",
    )
    app.view(Ids.IMPORT_VIEW.value)(on_import_submitted)


def _notice(text: str) -> list[dict[str, Any]]:
    return render_blocks("allies/notice.json.j2", text=text)


def signup_modal(d: Deps, user_id: str) -> dict[str, Any]:
    """The `ally_signup` view, prefilled with the ally's current profile."""
    with d.db.session() as session:
        units = [bu.name for bu in allies.business_units(session)]
        current = allies.profile(session, user_id=user_id)
    view = render("allies/signup.json.j2", units=units, current=current)
    assert isinstance(view, dict)
    return view


def on_join_command(call: Invocation) -> None:
    """`/ally join` opens the sign-up modal (the trigger is used before the ack)."""
    try:
        call.client.views_open(
            trigger_id=call.command["trigger_id"], view=signup_modal(call.deps, call.user_id)
        )
    finally:
        call.ack()


def on_join_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """The "Become an ally" / "Change" button opens the sign-up modal."""
    try:
        client.views_open(
            trigger_id=body["trigger_id"], view=signup_modal(deps(context), body["user"]["id"])
        )
    finally:
        ack()


def on_signup_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Save the ally's business unit and availability; a unit not in the list is a modal error."""
    d = deps(context)
    user_id = body["user"]["id"]
    values = body["view"].get("state", {}).get("values", {})
    unit = (
        (values.get(Ids.BUSINESS_UNIT, {}).get(Ids.BUSINESS_UNIT) or {}).get("selected_option")
        or {}
    ).get("value") or ""
    availability = (
        (values.get(Ids.AVAILABILITY, {}).get(Ids.AVAILABILITY) or {}).get("selected_option") or {}
    ).get("value")
    try:
        with d.db.session() as session:
            allies.join(
                session,
                user_id=user_id,
                business_unit=unit,
                available=availability != "unavailable",
            )
    except InvalidInput as error:
        ack(response_action="errors", errors={error.block_id or Ids.BUSINESS_UNIT: error.message})
        return
    ack()
    text = (
        "You are an ally. Requests appear in the allies channel: click *I can help* to offer."
        if availability != "unavailable"
        else "Saved. You are marked as unavailable; switch back with `/ally join` any time."
    )
    client.chat_postMessage(channel=user_id, text=text, blocks=_notice(text))


def on_leave_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Leave the allies (from the sign-up modal)."""
    ack()
    d = deps(context)
    user_id = body["user"]["id"]
    with d.db.session() as session:
        allies.leave(session, user_id=user_id)
    view = body.get("view") or {}
    if view.get("id"):
        client.views_update(view_id=view["id"], view=render("allies/left.json.j2"))


# admins: business units


def on_bu_command(call: Invocation) -> None:
    """`/ally-admin bu [add NAME | import]`."""
    word, _, rest = call.args.partition(" ")
    if word.lower() == "import":
        with call.deps.db.read() as session:
            units = [bu.name for bu in allies.business_units(session)]
        try:
            call.client.views_open(
                trigger_id=call.command["trigger_id"],
                view=render("allies/bu_import.json.j2", units=units),
            )
        finally:
            call.ack()
        return
    call.ack()
    if word.lower() == "add":
        with call.deps.db.session() as session:
            unit = allies.add_business_unit(session, rest)
        text = f"Added the business unit {unit.name}."
    else:
        with call.deps.db.session() as session:
            names = [bu.name for bu in allies.business_units(session)]
        text = "Business units: " + (", ".join(names) if names else "none yet")
    call.reply(text, _notice(text))


def on_import_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Check every line before the ack; resolve e-mails after it; apply all or nothing."""
    d = deps(context)
    user_id = body["user"]["id"]
    if not d.settings.is_admin(user_id):
        ack(response_action="errors", errors={Ids.CSV: "Only programme admins can import."})
        return
    values = body["view"].get("state", {}).get("values", {})
    text = str((values.get(Ids.CSV, {}).get(Ids.CSV) or {}).get("value") or "")
    try:
        with d.db.read() as session:
            names = [bu.name for bu in allies.business_units(session)]
        rows = allies.parse_import(text, names)
    except InvalidInput as error:
        ack(response_action="errors", errors={Ids.CSV: error.message[:1900]})
        return
    ack()
    assignments: list[tuple[str, str]] = []
    problems: list[str] = []
    for row in rows:
        if not row.is_email:
            assignments.append((row.identifier, row.business_unit))
            continue
        try:
            found = client.users_lookupByEmail(email=row.identifier)
            assignments.append((str(found["user"]["id"]), row.business_unit))
        except SlackApiError as error:
            problems.append(f"line {row.line}: {error.response.get('error', 'not found')}")
    if problems:
        reply = "Nothing was imported. No Slack user for " + "; ".join(problems[:20])
    else:
        with d.db.session() as session:
            count = allies.apply_import(session, assignments)
        reply = f"Imported {count} people into their business units."
    tell_privately(client, user_id=user_id, text=reply, blocks=_notice(reply))
