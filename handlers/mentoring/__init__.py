"""Slack surface of reverse mentoring (SPEC 4): cohorts, sign-up, pairing, check-ins, report."""

from __future__ import annotations

from slack_bolt import App

from bot.rules.mentoring import checkins, cohorts, report
from handlers.common.commands import Routes
from handlers.mentoring import commands, pairs, signup, surface
from handlers.mentoring.ids import Ids

__all__ = ["Ids", "commands", "pairs", "register", "signup", "surface"]


def register(app: App, routes: Routes) -> None:
    """Add this feature's listeners, subcommands and scheduled-work handlers."""
    routes.admin.add("mentoring", commands.on_admin_command, commands.ADMIN_USAGE)
    routes.ally.add("mentoring", commands.on_ally_command, commands.ALLY_USAGE)
    app.action(Ids.SIGNUP.value)(signup.on_signup_clicked)
    app.view(Ids.SIGNUP.value)(signup.on_signup_submitted)
    app.action(Ids.CONFIRM.value)(pairs.on_confirm_clicked)
    app.action(Ids.MET.value)(pairs.on_checkin_clicked)
    app.action(Ids.NOT_MET.value)(pairs.on_checkin_clicked)
    app.action(Ids.NOTE.value)(pairs.on_note_clicked)
    app.view(Ids.NOTE_VIEW.value)(pairs.on_note_submitted)
    app.action(Ids.ASSESS.value)(signup.on_assessment_clicked)
    app.view(Ids.ASSESS_VIEW.value)(signup.on_assessment_submitted)
    app.action(Ids.NEW_PARTNER.value)(pairs.on_new_partner_clicked)
    routes.due[cohorts.INTROS] = surface.on_followup_due
    routes.due[cohorts.PARTNER_LEFT] = surface.on_followup_due
    routes.due[cohorts.CLOSING] = surface.on_followup_due
    routes.due[report.OWN_REPORT] = surface.on_followup_due
    routes.due[checkins.LAPSE] = surface.on_followup_due
    routes.due[checkins.CHECKIN] = surface.on_checkin_due
