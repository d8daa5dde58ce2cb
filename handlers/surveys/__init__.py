"""Slack surface of the awareness surveys, programme figures and the misuse review (SPEC 3)."""

from __future__ import annotations

from bot.rules.surveys import runs
from handlers.common.commands import Routes
from handlers.common.listeners import Listeners
from handlers.common.permissions import ANYONE, volunteers
from handlers.surveys import listeners, misuse, stats, surface
from handlers.surveys.ids import Ids

__all__ = ["Ids", "listeners", "misuse", "register", "stats", "surface"]


def register(on: Listeners, routes: Routes) -> None:
    """Add this feature's listeners, subcommands and scheduled-work handlers."""
    routes.admin.add("survey", listeners.on_survey_command, listeners.USAGE)
    # Anyone DMed the survey; one answer per person is the rules' (by marker).
    on.action(Ids.ANSWER, allow=ANYONE)(listeners.on_answer_clicked)
    on.view(Ids.VIEW, allow=ANYONE)(listeners.on_form_submitted)
    routes.admin.add("stats", stats.on_stats_command, stats.USAGE)
    routes.admin.add("pause", misuse.on_pause_command, misuse.PAUSE_USAGE)
    routes.admin.add("unpause", misuse.on_unpause_command, "`/ally-admin unpause @person`")
    reviewers = volunteers(misuse.ONLY_VOLUNTEERS)
    on.action(Ids.DISMISS, allow=reviewers)(misuse.on_decision_clicked)
    on.action(Ids.PAUSE, allow=reviewers)(misuse.on_decision_clicked)
    routes.due[runs.FANOUT] = surface.on_fanout_due
    routes.due[runs.SEND] = surface.on_send_due
    routes.due[runs.REMINDER] = surface.on_reminder_due
