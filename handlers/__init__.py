"""Bolt listeners, one module or package per feature; `register_all` wires them into an app.

(A package's `listeners` module is imported under its own name, so that `handlers.requests`
stays the package.)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

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
from handlers.anonymous.ids import Ids as AnonymousIds
from handlers.common import commands
from handlers.common.listeners import Listeners
from handlers.mentoring.ids import Ids as MentoringIds
from handlers.requests import listeners as requests_listeners
from handlers.requests.ids import Ids as RequestsIds
from handlers.surveys.ids import Ids as SurveysIds
from handlers.yearend.ids import Ids as YearendIds
from messages.render import use_ids

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


# Every feature's interaction ids, as templates name them: `ids.<feature>.<NAME>`.
IDS: Mapping[str, type[StrEnum]] = MappingProxyType(
    {
        "help": help.Ids,
        "allies": allies.Ids,
        "requests": RequestsIds,
        "home": home.Ids,
        "anonymous": AnonymousIds,
        "feedback": feedback.Ids,
        "forget": forget.Ids,
        "yearend": YearendIds,
        "surveys": SurveysIds,
        "mentoring": MentoringIds,
    }
)


def use_template_ids() -> None:
    """Hand the ids to the templates (`messages` is below `handlers` and cannot import them)."""
    use_ids(IDS)


def register_all(app: App) -> commands.Routes:
    """Register every feature's listeners, subcommands and scheduled-work handlers.

    Listeners go through the registrar (handlers.common.listeners), which declares each one's
    permission and puts the guard around it.
    """
    return register_on(Listeners(app))


def register_on(on: Listeners) -> commands.Routes:
    """Register everything through this registrar (which records what it registered)."""
    use_template_ids()
    routes = commands.register(on)
    for feature in FEATURES:
        feature.register(on, routes)
    return routes
