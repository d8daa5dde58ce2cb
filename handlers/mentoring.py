"""Slack surface of reverse mentoring (SPEC 4): cohorts, sign-up, pairing, check-ins, report."""

from __future__ import annotations

from slack_bolt import App

from handlers.common.commands import Routes


def register(app: App, routes: Routes) -> None:
    """Add this feature's listeners, subcommands and scheduled-work handlers."""
