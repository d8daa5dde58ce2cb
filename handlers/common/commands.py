"""Slash commands `/ally` and `/ally-admin`, routed to the features by their first word."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from handlers.common.deps import Deps, DueHandler
from handlers.common.listeners import Listeners
from handlers.common.payload import Payload
from handlers.common.permissions import ANYONE, admins
from handlers.common.replies import tell_privately
from messages.render import render_blocks

ALLY = "/ally"
ALLY_ADMIN = "/ally-admin"


@dataclass(frozen=True)
class Invocation:
    """One slash command call, with its first word removed from the text."""

    ack: Ack
    respond: Respond
    client: WebClient
    payload: Payload
    args: str
    deps: Deps

    @property
    def user_id(self) -> str:
        """Who typed the command."""
        return self.payload.user_id

    @property
    def trigger_id(self) -> str:
        """The command's trigger, to open a modal with (before the ack)."""
        return self.payload.trigger_id

    def reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Answer privately through the Web API (after the ack)."""
        tell_privately(
            self.client,
            user_id=self.user_id,
            channel_id=self.payload.channel_id,
            response_url=self.payload.response_url,
            text=text,
            blocks=blocks,
        )


Handler = Callable[[Invocation], None]


@dataclass(frozen=True)
class Route:
    """A subcommand: what it does, and the line that describes it in help."""

    handler: Handler
    usage: str


class Subcommands:
    """The subcommands of one slash command; features add theirs at registration."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.routes: dict[str, Route] = {}
        self.bare: Handler | None = None

    def add(self, word: str, handler: Handler, usage: str) -> None:
        """Route `/command word ...` to handler; usage is its line in help."""
        if word in self.routes:
            raise ValueError(f"{self.command} {word} is registered twice")
        self.routes[word] = Route(handler, usage)

    def usage_lines(self) -> list[str]:
        """The help lines, in registration order."""
        return [route.usage for route in self.routes.values()]

    def find(self, text: str) -> tuple[Handler | None, str]:
        """The handler for this command text and the rest of the text."""
        word, _, rest = text.strip().partition(" ")
        if not word:
            return self.bare, ""
        route = self.routes.get(word.lower())
        return (route.handler if route else None), rest.strip()


@dataclass
class Routes:
    """Where features plug in: both slash commands' routers and scheduled-work handlers."""

    ally: Subcommands
    admin: Subcommands
    due: dict[str, DueHandler] = field(default_factory=dict)


def register(on: Listeners) -> Routes:
    """Register both slash commands and return their routers for features to fill.

    `/ally-admin` is declared for admins: its subcommands never check again.
    """
    commands = Routes(ally=Subcommands(ALLY), admin=Subcommands(ALLY_ADMIN))

    def on_ally_command(
        ack: Ack, respond: Respond, payload: Payload, client: WebClient, deps: Deps
    ) -> None:
        handler, args = commands.ally.find(payload.command_text)
        (handler or help_for(commands.ally))(Invocation(ack, respond, client, payload, args, deps))

    def on_ally_admin_command(
        ack: Ack, respond: Respond, payload: Payload, client: WebClient, deps: Deps
    ) -> None:
        handler, args = commands.admin.find(typed_text(payload.command_text))
        call = Invocation(ack, respond, client, payload, args, deps)
        (handler or help_for(commands.admin))(call)

    only_admins = admins(
        "`/ally-admin` is for programme admins. If you think you should be one, "
        "ask the programme's organisers.",
        blocks=render_blocks("help/refusal.json.j2", text="`/ally-admin` is for programme admins."),
    )
    on.command(ALLY, allow=ANYONE)(on_ally_command)
    on.command(ALLY_ADMIN, allow=only_admins)(on_ally_admin_command)
    return commands


def typed_text(text: str) -> str:
    """What an admin typed: `/ally-admin` has should_escape (SPEC 5.2), so Slack sends `&`, `<`
    and `>` of typed text as entities (and people as `<@U…|name>`); undone here, so that a unit
    called "R&D" is found by name. Replies escape user text again (templates, escape_mrkdwn)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def help_for(router: Subcommands) -> Handler:
    def show_help(call: Invocation) -> None:
        call.ack()
        template = (
            "help/admin_help.json.j2" if router.command == ALLY_ADMIN else "help/ally_help.json.j2"
        )
        lines = router.usage_lines()
        blocks = render_blocks(template, purpose=call.deps.content.purpose, commands=lines)
        call.reply("\n".join(lines), blocks)

    return show_help
