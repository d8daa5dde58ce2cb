"""Bolt listeners, one module or package per feature; `register_all` wires them into an app.

(A package's `listeners` module is imported under its own name, so that `handlers.requests`
stays the package.)
"""

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
from handlers.anonymous import listeners as anonymous_listeners
from handlers.common import commands
from handlers.common.listeners import Listeners
from handlers.requests import listeners as requests_listeners

FEATURES = (
    help,
    allies,
    requests_listeners,
    home,
    anonymous_listeners,
    feedback,
    points,
    forget,
    yearend,
    surveys,
    mentoring,
)


def register_all(app: App) -> commands.Routes:
    """Register every feature's listeners, subcommands and scheduled-work handlers.

    Listeners go through the registrar (handlers.common.listeners), which declares each one's
    permission and puts the guard around it.
    """
    return register_on(Listeners(app))


def register_on(on: Listeners) -> commands.Routes:
    """Register everything through this registrar (which records what it registered)."""
    routes = commands.register(on)
    for feature in FEATURES:
        feature.register(on, routes)
    return routes
