"""The App Home tab and `/ally status`: the programme, the person's requests, their ally profile."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient

from bot.privacy import privacy
from bot.rules import misuse
from bot.rules.allies import profile
from handlers.common.commands import Invocation, Routes
from handlers.common.deps import Deps
from handlers.common.listeners import Listeners
from handlers.common.payload import Payload
from handlers.common.permissions import ANYONE
from handlers.mentoring.surface import home_blocks as mentoring_home
from handlers.points import home_standings_blocks
from handlers.surveys.stats import home_blocks as admin_figures
from handlers.yearend.surface import story_campaign_open
from messages.render import render, render_blocks
from storage import requests as store


class Ids(StrEnum):
    """The home's own block id (its buttons are other features')."""

    ACTIONS = "home_actions"


@dataclass(frozen=True)
class HomeRequest:
    """One of the person's requests as the home shows it."""

    id: int
    status: str
    category_label: str
    details: str


def register(on: Listeners, routes: Routes) -> None:
    """Publish the home when it is opened; add `/ally status`."""
    on.event("app_home_opened", allow=ANYONE)(on_app_home_opened)
    routes.ally.add(
        "status", on_status_command, "`/ally status`: your requests and your ally profile"
    )


def home_view(
    d: Deps, user_id: str, *, standings: bool = True, client: WebClient | None = None
) -> dict[str, Any]:
    """The home view for this person (admins also see the programme's figures)."""
    with d.db.session() as session:
        requests = [
            HomeRequest(
                id=r.id or 0,
                status=r.status,
                category_label=(c.label if (c := d.content.category(r.category)) else r.category),
                details=r.details or "",
            )
            for r in store.requests_of(session, requester_id=user_id)
        ]
        ally = profile(session, user_id=user_id)
    view = render(
        "home/home.json.j2",
        purpose=d.content.purpose,
        requests=requests,
        profile=ally,
        story_campaign=story_campaign_open(d),
        standings=mentoring_home(d, user_id)
        + (home_standings_blocks(d) if standings else [])
        + (admin_figures(d, client) if standings and d.settings.is_admin(user_id) else []),
    )
    assert isinstance(view, dict)
    return view


def publish_home(client: WebClient, d: Deps, *, user_id: str) -> None:
    """Publish (or refresh) this person's Home tab."""
    client.views_publish(user_id=user_id, view=home_view(d, user_id, client=client))


def on_app_home_opened(payload: Payload, client: WebClient, deps: Deps) -> None:
    """Opening the Home tab shows the person's current state."""
    if payload.event.get("tab", "home") != "home" or not payload.user_id_or_none:
        return
    publish_home(client, deps, user_id=payload.user_id)


STATUS_TEXT = "Your requests and ally profile"


def status_blocks(d: Deps, user_id: str) -> list[dict[str, Any]]:
    """What `/ally status` shows: a pause if any, the home's requests and ally profile."""
    blocks: list[dict[str, Any]] = home_view(d, user_id, standings=False)["blocks"]
    with d.db.read() as session:
        paused = misuse.is_paused(session, marker=privacy(d.settings).marker(user_id))
    shown = render_blocks("surveys/paused.json.j2", text=misuse.PAUSED_TEXT) if paused else []
    return shown + blocks[3:]


def on_status_command(call: Invocation) -> None:
    """`/ally status` shows the person's requests and ally profile privately.

    The reply is ephemeral: its Withdraw buttons are answered through their response_url
    (handlers.requests), since chat.update cannot edit an ephemeral message.
    """
    call.ack()
    call.reply(STATUS_TEXT, status_blocks(call.deps, call.user_id))
