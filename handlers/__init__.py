"""Bolt listeners, one module per feature; `register_all` wires them into an app."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    allies,
    feedback,
    forget,
    help,
    home,
    mentoring,
    points,
    surveys,
    yearend,
)
from handlers.anonymous import listeners as anonymous
from handlers.common import commands
from handlers.requests import listeners as requests

FEATURES = (
    help,
    allies,
    requests,
    home,
    anonymous,
    feedback,
    points,
    forget,
    yearend,
    surveys,
    mentoring,
)


def register_all(app: App) -> commands.Routes:
    """Register every feature's listeners, subcommands and scheduled-work handlers."""
    routes = commands.register(app)
    for feature in FEATURES:
        feature.register(app, routes)
    return routes
