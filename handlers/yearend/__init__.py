"""Slack surface of the year-end programme (SPEC 2.6): stories, events, nudges, awards, export."""

from __future__ import annotations

from bot.rules.yearend import assessment, calls
from bot.rules.yearend import nudges as nudge_rules
from handlers.common.commands import Routes
from handlers.common.listeners import Listeners
from handlers.common.permissions import ANYONE
from handlers.yearend import awards, listeners, nudges, surface
from handlers.yearend.ids import Ids


def register(on: Listeners, routes: Routes) -> None:
    """Add this feature's listeners, subcommands and scheduled-work handlers."""
    routes.ally.add(
        "story",
        listeners.on_story_command,
        "`/ally story`: share a story of allyship that happened outside the programme",
    )
    routes.ally.add(
        "event",
        listeners.on_event_command,
        "`/ally event`: log an allyship event a business unit organised",
    )
    on.action(Ids.OPEN_STORY, allow=ANYONE)(listeners.on_open_story_button)
    on.view(Ids.STORY_VIEW, allow=ANYONE)(listeners.on_story_submitted)
    on.view(Ids.EVENT_VIEW, allow=ANYONE)(listeners.on_event_submitted)
    assessors = listeners.only_volunteers()
    on.action(Ids.ACCEPT_STORY, allow=assessors)(listeners.on_accept_button)
    on.action(Ids.ACCEPT_EVENT, allow=assessors)(listeners.on_accept_button)
    on.action(Ids.MARK_CREATIVE, allow=assessors)(listeners.on_creative_button)
    on.view(Ids.DECLINE_VIEW, allow=assessors)(listeners.on_decline_submitted)
    # The decline form opens for anyone who may decide (the conflicts, a database read):
    # the roster may call Slack, which never comes before a trigger; the submission checks it.
    on.action(Ids.DECLINE_STORY, allow=ANYONE)(listeners.on_decline_button)
    on.action(Ids.DECLINE_EVENT, allow=ANYONE)(listeners.on_decline_button)
    routes.admin.add(
        "awards",
        awards.on_awards_command,
        "`/ally-admin awards [YYYY]`: the standings behind each year-end award, then announce",
    )
    routes.admin.add(
        "export",
        awards.on_export_command,
        "`/ally-admin export [YYYY]`: the year's ledger and outcomes as CSV files, in your DM",
    )
    on.action(Ids.CONFIRM_AWARDS, allow=awards.ANNOUNCERS)(awards.on_confirm_button)
    routes.due[awards.ANNOUNCE] = awards.on_announce_due
    routes.admin.add(
        "nudges",
        nudges.on_nudges_command,
        "`/ally-admin nudges [YYYY]`: preview the units that took no part, then invite them",
    )
    nudges.add_contact_route(routes)
    on.action(Ids.SEND_NUDGES, allow=nudges.SENDERS)(nudges.on_send_button)
    routes.due[nudge_rules.NUDGE_UNIT] = nudges.on_unit_due
    routes.due[nudge_rules.NUDGE_POST] = nudges.on_post_due
    routes.due[calls.STORIES_CALL] = surface.on_stories_call_due
    routes.due[surface.CARD] = surface.on_card_due
    routes.due[surface.PURGE] = surface.on_purge_due
    routes.due[assessment.REDRAW_CARDS] = surface.on_redraw_due
    routes.due[surface.DECIDED] = surface.on_decided_due
