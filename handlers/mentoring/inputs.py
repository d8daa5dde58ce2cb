"""What mentoring's listeners read from a payload (metadata, view values), and the views.open
path."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rules.errors import UserFacingError
from handlers.common.client import trigger_client
from handlers.common.payload import Payload
from handlers.common.replies import tell_privately
from handlers.mentoring.ids import MATURITY_PREFIX


def metadata(**values: Any) -> str:
    """A view's private_metadata: opaque ids as compact JSON."""
    return json.dumps(values, separators=(",", ":"))


def read_metadata(payload: Payload, name: str) -> int | None:
    """One id from a view's private_metadata (None when missing or forged)."""
    try:
        return int(payload.metadata[name])
    except (ValueError, KeyError, TypeError):
        return None


def open_view(ack: Ack, payload: Payload, client: WebClient, build: Any) -> None:
    """views.open with the trigger at once, then the ack, whatever happens."""
    failed: Exception | None = None
    try:
        trigger_client(client).views_open(trigger_id=payload.trigger_id, view=build())
    except (SlackApiError, OSError, UserFacingError) as error:
        failed = error
    finally:
        ack()
    if failed is not None:
        text = (
            failed.message
            if isinstance(failed, UserFacingError)
            else "I could not open the form just now. Please click the button again."
        )
        channel = payload.container.get("channel_id") or None
        tell_privately(client, user_id=payload.user_id, text=text, channel_id=channel)


def values(payload: Payload) -> dict[str, dict[str, Any]]:
    """A submitted view's values by block_id (each block's one element)."""
    return {block: payload.element(block) for block, actions in payload.values.items() if actions}


def text(values: dict[str, dict[str, Any]], block: str) -> str:
    """A text input's value, or a select's chosen value."""
    entry = values.get(block) or {}
    if entry.get("selected_option"):
        return str(entry["selected_option"].get("value") or "")
    return str(entry.get("value") or "")


def behaviours(values: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """The behaviour ids ticked in every `maturity…` checkbox input."""
    return tuple(
        str(option.get("value"))
        for block, entry in values.items()
        if block.startswith(MATURITY_PREFIX)
        for option in entry.get("selected_options") or []
    )


def container(payload: Payload) -> tuple[str | None, str | None]:
    """The channel and ts of the message a button was on."""
    return payload.message_channel, payload.message_ts
