"""One reader of Slack request bodies: typed accessors instead of `body["user"]["id"]`.

Every listener gets its request as a `Payload` (the registrar, handlers.common.listeners,
passes it). Slack's shapes differ by kind (a slash command's `user_id`, an interaction's
`user.id`, an event's `event.user`); the accessors know them all. Whatever arrives, nothing
here raises KeyError or TypeError: a part that is missing or of the wrong type reads as empty,
and the accessors a listener cannot do without (`user_id`, `trigger_id`, `view_id`,
`action_int`) raise a `NotFound` the person is told, never an unexpected error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.rules.errors import NotFound

BUTTON_EXPIRED = "That button no longer works."
UNREADABLE = "This request could not be read. Please try again."


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    """A scalar as text ('' for None, a dict or a list: never their repr)."""
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def _optional(value: object) -> str | None:
    return _text(value) or None


@dataclass(frozen=True)
class Payload:
    """A Slack request's body (command, interaction or event), read through typed accessors."""

    body: Mapping[str, Any]

    @classmethod
    def of(cls, body: object) -> Payload:
        """The payload of whatever Bolt passed as the body (anything but a dict reads empty)."""
        return cls(_dict(body))

    # who, and where

    @property
    def user_id(self) -> str:
        """Who acted: an interaction's user, a command's user_id, an event's user."""
        user = self.body.get("user")
        found = (
            _text(user.get("id"))
            if isinstance(user, dict)
            else _text(self.body.get("user_id")) or _text(self.event.get("user"))
        )
        if not found:
            raise NotFound(UNREADABLE)
        return found

    @property
    def user_id_or_none(self) -> str | None:
        """Who acted, or None when the body does not say (an error report has nobody to tell)."""
        try:
            return self.user_id
        except NotFound:
            return None

    @property
    def channel_id(self) -> str | None:
        """The channel the request came from: the channel, or the message's container's."""
        return (
            _optional(_dict(self.body.get("channel")).get("id"))
            or _optional(self.body.get("channel_id"))
            or _optional(self.container.get("channel_id"))
        )

    @property
    def response_url(self) -> str | None:
        """Where an answer to this request may be posted (commands, message buttons)."""
        return _optional(self.body.get("response_url"))

    @property
    def trigger_id(self) -> str:
        """The trigger to open a modal with (it lives 3 s and works once)."""
        found = _text(self.body.get("trigger_id"))
        if not found:
            raise NotFound(UNREADABLE)
        return found

    @property
    def kind(self) -> str:
        """The request's type: block_actions, view_submission, event_callback... ('' for a
        slash command, whose body has none)."""
        return _text(self.body.get("type"))

    # the message a button was on

    @property
    def container(self) -> dict[str, Any]:
        """Where a clicked button was: a message (channel_id, message_ts), a view or the Home."""
        return _dict(self.body.get("container"))

    @property
    def message_ts(self) -> str | None:
        """The ts of the message a button was on (None for a view's or an ephemeral's button)."""
        if self.container.get("type") != "message":
            return None
        return _optional(self.container.get("message_ts"))

    @property
    def message_channel(self) -> str | None:
        """The channel of the message a button was on."""
        return _optional(self.container.get("channel_id")) or self.channel_id

    @property
    def on_ephemeral(self) -> bool:
        """Whether the button was on an ephemeral message (chat.update cannot edit those)."""
        return self.container.get("type") == "message" and bool(self.container.get("is_ephemeral"))

    # the button or select

    @property
    def action(self) -> dict[str, Any]:
        """The first action of an interaction ({} when there is none)."""
        actions = self.body.get("actions")
        return _dict(actions[0]) if isinstance(actions, list) and actions else {}

    @property
    def action_id(self) -> str:
        """The action_id of the button clicked."""
        return _text(self.action.get("action_id"))

    @property
    def action_value(self) -> str:
        """The value of the button clicked ('' when it has none)."""
        return _text(self.action.get("value"))

    def action_int(self, expired: str = BUTTON_EXPIRED) -> int:
        """The button's value as a number (an id), else NotFound with `expired`."""
        value = self.action_value.strip()
        if not value.isdigit() or len(value) > 18:
            raise NotFound(expired)
        return int(value)

    # a modal

    @property
    def view(self) -> dict[str, Any]:
        """The view submitted, closed, or holding the button ({} when there is none)."""
        return _dict(self.body.get("view"))

    @property
    def view_id(self) -> str:
        """The view's id (the same on Slack's retry of a submission)."""
        found = self.view_id_or_none
        if not found:
            raise NotFound(UNREADABLE)
        return found

    @property
    def view_id_or_none(self) -> str | None:
        """The id of the view the request came from, if it came from one."""
        return _optional(self.view.get("id"))

    @property
    def private_metadata(self) -> str:
        """The view's private_metadata, as sent ('' when none)."""
        return _text(self.view.get("private_metadata"))

    @property
    def metadata(self) -> dict[str, Any]:
        """The view's private_metadata read as a JSON object ({} when it is not one)."""
        try:
            found = json.loads(self.private_metadata or "{}")
        except ValueError:
            return {}
        return _dict(found)

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        """The view's state: block_id to {action_id: element}, only the well-formed parts."""
        state = _dict(_dict(self.view.get("state")).get("values"))
        return {str(block): _dict(actions) for block, actions in state.items()}

    def element(self, block_id: str, action_id: str | None = None) -> dict[str, Any]:
        """One input's state: by action_id, else the one whose action_id is the block_id, else
        the block's only element ({} when missing)."""
        actions = self.values.get(block_id) or {}
        if action_id is not None:
            return _dict(actions.get(action_id))
        if block_id in actions:
            return _dict(actions[block_id])
        return _dict(next(iter(actions.values()), None))

    def value(self, block_id: str, action_id: str | None = None) -> str:
        """A text input's value, or a single select's chosen value ('' when none)."""
        element = self.element(block_id, action_id)
        chosen = _dict(element.get("selected_option"))
        if chosen:
            return _text(chosen.get("value"))
        return _text(element.get("value"))

    def selected(self, block_id: str, action_id: str | None = None) -> list[str]:
        """The values chosen in a select, checkboxes or radio buttons (one or many)."""
        element = self.element(block_id, action_id)
        chosen = _dict(element.get("selected_option"))
        if chosen:
            return [_text(chosen.get("value"))]
        options = element.get("selected_options")
        return [_text(_dict(o).get("value")) for o in options] if isinstance(options, list) else []

    def selected_user(self, block_id: str, action_id: str | None = None) -> str | None:
        """The person chosen in a users_select."""
        return _optional(self.element(block_id, action_id).get("selected_user"))

    def selected_users(self, block_id: str, action_id: str | None = None) -> list[str]:
        """The people chosen in a multi_users_select."""
        users = self.element(block_id, action_id).get("selected_users")
        return [_text(u) for u in users if _text(u)] if isinstance(users, list) else []

    # an event

    @property
    def event(self) -> dict[str, Any]:
        """An Events API event ({} for anything else)."""
        return _dict(self.body.get("event"))

    @property
    def event_id(self) -> str:
        """The event's unique id (the key to de-duplicate Slack's retries on)."""
        return _text(self.body.get("event_id"))

    # a slash command

    @property
    def command_text(self) -> str:
        """What was typed after a slash command."""
        return _text(self.body.get("text"))
