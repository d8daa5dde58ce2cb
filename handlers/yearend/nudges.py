"""`/ally-admin nudges [YYYY]`, `send_nudges`, `/ally-admin bu contact NAME <@U…>` and the
paced sends (due items: never a loop of posts inside a listener)."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.rules.errors import NotAllowed
from bot.rules.yearend import nudges, results
from handlers.common.commands import Handler, Invocation, Route, Routes
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from handlers.common.permissions import admins
from handlers.common.replies import tell_privately
from messages.render import escape_mrkdwn, render_blocks
from storage import yearend as store
from storage.models.programme import FORGOTTEN
from storage.types import utcnow

logger = logging.getLogger(__name__)

# Slack's answers for a contact no DM can reach (left, deactivated, a bot, an unknown ID): the
# contact is skipped, never retried, and the unit's other contacts are still invited.
UNREACHABLE = frozenset(
    {"user_not_found", "account_inactive", "cannot_dm_bot", "user_disabled", "channel_not_found"}
)
# What is recorded for a contact who could not be reached (a sent DM records its ts).

# Units per preview message: a line is at most ~160 characters, so a message stays far below
# Slack's ~12,000-character limit.
PER_MESSAGE = 50
# Who may send the invitations (declared on `send_nudges`).
SENDERS = admins("Only programme admins can send the invitations.")


def _notice(text: str) -> list[dict[str, Any]]:
    return render_blocks("yearend/notice.json.j2", text=text)


def on_nudges_command(call: Invocation) -> None:
    """Preview the units that took no part, with `send_nudges`."""
    call.ack()
    d = call.deps
    year = results.parse_year(call.args, now=utcnow(), settings=d.settings)
    helpers = d.volunteers.members(call.client)
    with d.db.read() as session:
        found = nudges.targets(session, year=year, settings=d.settings, volunteers=helpers)
        already = [t.name for t in found if nudges.nudged(session, year=year, unit_id=t.unit_id)]
    text = f"{len(found)} business unit(s) took no part in {year}: " + escape_mrkdwn(
        ", ".join(t.name for t in found)[:2000]
    )
    split = [found[i : i + PER_MESSAGE] for i in range(0, len(found), PER_MESSAGE)] or [[]]
    for page, part in enumerate(split, 1):
        blocks = render_blocks(
            "yearend/nudges_preview.json.j2",
            year=year,
            targets=part,
            already=already,
            page=page,
            pages=len(split),
            confirm=page == len(split),
        )
        call.reply(text if page == 1 else f"{year} nudges, continued", blocks)


def on_send_button(ack: Ack, payload: Payload, client: WebClient, deps: Deps) -> None:
    """An admin sends: each unit's invitation is scheduled once per year, paced."""
    ack()
    user = payload.user_id
    value = payload.action_value
    if not value.isdigit():
        raise NotAllowed("That button no longer works.")
    year = results.parse_year(value, now=utcnow(), settings=deps.settings)
    helpers = deps.volunteers.members(client)
    with deps.db.session() as session:
        found = nudges.targets(session, year=year, settings=deps.settings, volunteers=helpers)
        done = nudges.schedule(session, year=year, found=found)
    text = (
        f"Invitations for {done.units} business unit(s) are on their way, paced within "
        f"Slack's limits."
        + (f" {done.already} unit(s) were already invited this year." if done.already else "")
    )
    tell_privately(
        client, user_id=user, channel_id=payload.channel_id, text=text, blocks=_notice(text)
    )


def on_unit_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """DM each contact of one unit once (each DM a send of bot.jobs.once, so a retry after a
    failure part-way never DMs anyone twice); forgotten and unreachable contacts are skipped."""
    nudge = item.read(nudges.NudgeUnit)
    year, unit_id = nudge.year, nudge.unit_id
    with d.db.read() as session:
        name = store.unit_names_by_id(session).get(unit_id)
    if name is None:
        return

    def invite(contact: str) -> None:
        if contact == FORGOTTEN:
            return  # forgotten since the send was scheduled
        try:
            client.chat_postMessage(
                channel=contact,
                text=f"An invitation for {escape_mrkdwn(name)} to join the allyship programme",
                blocks=render_blocks("yearend/nudge.json.j2", unit=name, year=year),
            )
        except SlackApiError as error:
            reason = str(error.response.get("error"))
            if reason not in UNREACHABLE:
                raise  # retried later; the contacts already invited are recorded
            logger.info("a nudge contact cannot be reached (%s); skipped", reason)

    contacts = nudge.contacts
    steps = [
        # By place in the payload (stable when forget-me scrubs an ID): the key holds no ID.
        Step(f"contact:{index}", partial(invite, contact))
        for index, contact in enumerate(contacts)
        if contact not in contacts[:index]
    ]
    once.run_due_steps(d.db, key=item.key, steps=steps, what="nudge")


def on_post_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The one friendly post for the units without a contact."""
    post_item = item.read(nudges.NudgePost)
    year = post_item.year
    with d.db.read() as session:
        names = store.unit_names_by_id(session)
    units = [names[i] for i in post_item.unit_ids if i in names]
    if not units:
        return
    post = partial(
        client.chat_postMessage,
        channel=d.settings.announcements_channel,
        text=f"There is still time to join the {year} allyship programme",
        blocks=render_blocks("yearend/nudge_post.json.j2", units=units, year=year),
    )
    once.run_due_steps(d.db, key=item.key, steps=[Step("post", post)], what="nudge post")


def on_contact(call: Invocation) -> None:
    """`bu contact NAME <@U…>`: name a unit's contact for the invitations."""
    call.ack()
    with call.deps.db.session() as session:
        unit, user = nudges.parse_contact(call.args, session=session)
        added = nudges.add_contact(session, unit_id=int(unit.id or 0), user_id=user)
    name = escape_mrkdwn(unit.name)
    text = (
        f"<@{user}> is now a contact for {name}."
        if added
        else f"<@{user}> was already a contact for {name}."
    )
    call.reply(text, _notice(text))


def add_contact_route(routes: Routes) -> None:
    """Add `contact` to `/ally-admin bu` (registered by the allies feature) without touching
    its other words: `bu contact ...` comes here, everything else goes on to the original."""
    original = routes.admin.routes.get("bu")
    if original is None:
        routes.admin.add("bu", on_contact, f"{nudges.CONTACT_USAGE}: a unit's contact for nudges")
        return
    before: Handler = original.handler

    def on_bu(call: Invocation) -> None:
        if call.args.strip().lower().startswith("contact"):
            on_contact(call)
        else:
            before(call)

    routes.admin.routes["bu"] = Route(
        on_bu, f"{original.usage}; {nudges.CONTACT_USAGE} names a unit's contact for nudges"
    )
