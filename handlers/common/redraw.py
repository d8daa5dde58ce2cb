"""Redrawing a message that may be gone: a deleted message or closed channel is not an error."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.errors import SlackApiError

# Slack errors that retrying cannot fix: the message or its channel is gone or closed to us.
_CARD_GONE = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "cant_update_message",
        "edit_window_closed",
    }
)


def redraw_or_gone(redraw: Callable[[], object]) -> str | None:
    """Run a card redraw; a card that is gone is not an error (its Slack error is returned)."""
    try:
        redraw()
    except SlackApiError as error:
        if error.response.get("error") not in _CARD_GONE:
            raise
        return str(error.response.get("error"))
    return None
