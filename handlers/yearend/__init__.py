"""Slack surface of the year-end programme (SPEC 2.6): stories, events, nudges, awards, export."""

from __future__ import annotations

from slack_bolt import App

from bot.rules.yearend import calls
from bot.rules.yearend import nudges as nudge_rules
from handlers.common.commands import Routes
from handlers.yearend import awards, listeners, nudges, surface
from handlers.yearend.ids import Ids
from storage.yearend import REDRAW_CARDS


def register(app: App, routes: Routes) -> None:
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
    app.action(Ids.OPEN_STORY.value)(listeners.on_open_story_button)
    app.view(Ids.STORY_VIEW.value)(listeners.on_story_submitted)
    app.view(Ids.EVENT_VIEW.value)(listeners.on_event_submitted)
    app.action(Ids.ACCEPT_STORY.value)(listeners.on_accept_button)
    app.action(Ids.ACCEPT_EVENT.value)(listeners.on_accept_button)
    app.action(Ids.DECLINE_STORY.value)(listeners.on_decline_button)
    app.action(Ids.DECLINE_EVENT.value)(listeners.on_decline_button)
    app.action(Ids.MARK_CREATIVE.value)(listeners.on_creative_button)
    app.view(Ids.DECLINE_VIEW.value)(listeners.on_decline_submitted)
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
    app.action(Ids.CONFIRM_AWARDS.value)(awards.on_confirm_button)
    routes.due[awards.ANNOUNCE] = awards.on_announce_due
    routes.admin.add(
        "nudges",
        nudges.on_nudges_command,
        "`/ally-admin nudges [YYYY]`: preview the units that took no part, then invite them",
    )
    nudges.add_contact_route(routes)
    app.action(Ids.SEND_NUDGES.value)(nudges.on_send_button)
    routes.due[nudge_rules.NUDGE_UNIT] = nudges.on_unit_due
    routes.due[nudge_rules.NUDGE_POST] = nudges.on_post_due
    routes.due[calls.STORIES_CALL] = surface.on_stories_call_due
    routes.due[surface.CARD] = surface.on_card_due
    routes.due[surface.PURGE] = surface.on_purge_due
    routes.due[REDRAW_CARDS] = surface.on_redraw_due
    routes.due[surface.DECIDED] = surface.on_decided_due
