"""Slack surface of reverse mentoring (SPEC 4): cohorts, sign-up, pairing, check-ins, report."""

from __future__ import annotations

from bot.rules.mentoring import checkins, cohorts, report
from handlers.common.commands import Routes
from handlers.common.listeners import Listeners
from handlers.common.permissions import ANYONE
from handlers.mentoring import commands, pairs, signup, surface
from handlers.mentoring.ids import Ids

__all__ = ["Ids", "commands", "pairs", "register", "signup", "surface"]


def register(on: Listeners, routes: Routes) -> None:
    """Add this feature's listeners, subcommands and scheduled-work handlers."""
    routes.admin.add("mentoring", commands.on_admin_command, commands.ADMIN_USAGE)
    routes.ally.add("mentoring", commands.on_ally_command, commands.ALLY_USAGE)
    on.action(Ids.SIGNUP, allow=ANYONE)(signup.on_signup_clicked)
    on.view(Ids.SIGNUP, allow=ANYONE)(signup.on_signup_submitted)
    on.action(Ids.CONFIRM, allow=pairs.CONFIRMERS)(pairs.on_confirm_clicked)
    # The pair's own buttons: the rules check the person against the check-in, the
    # participant or the assessment the button is for.
    on.action(Ids.MET, allow=ANYONE)(pairs.on_checkin_clicked)
    on.action(Ids.NOT_MET, allow=ANYONE)(pairs.on_checkin_clicked)
    on.action(Ids.NOTE, allow=ANYONE)(pairs.on_note_clicked)
    on.view(Ids.NOTE_VIEW, allow=ANYONE)(pairs.on_note_submitted)
    on.action(Ids.ASSESS, allow=ANYONE)(signup.on_assessment_clicked)
    on.view(Ids.ASSESS_VIEW, allow=ANYONE)(signup.on_assessment_submitted)
    on.action(Ids.NEW_PARTNER, allow=ANYONE)(pairs.on_new_partner_clicked)
    routes.due[cohorts.INTROS] = surface.on_followup_due
    routes.due[cohorts.PARTNER_LEFT] = surface.on_followup_due
    routes.due[cohorts.CLOSING] = surface.on_followup_due
    routes.due[report.OWN_REPORT] = surface.on_followup_due
    routes.due[checkins.LAPSE] = surface.on_followup_due
    routes.due[checkins.CHECKIN] = surface.on_checkin_due
