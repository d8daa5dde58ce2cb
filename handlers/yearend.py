"""Slack surface of the year-end programme (SPEC 2.6): stories, events, nudges, awards, export."""

from __future__ import annotations

from slack_bolt import App

from handlers.common.commands import Routes


def register(app: App, routes: Routes) -> None:
    """Add this feature's listeners, subcommands and scheduled-work handlers."""
