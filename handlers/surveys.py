"""Slack surface of the awareness surveys, programme figures and the misuse review (SPEC 3)."""

from __future__ import annotations

from slack_bolt import App

from handlers.common.commands import Routes


def register(app: App, routes: Routes) -> None:
    """Add this feature's listeners, subcommands and scheduled-work handlers."""
