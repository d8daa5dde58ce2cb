"""Redrawing a posted message to show its rows' current state.

No transaction stays open across the call to Slack: the state is read in a short read, the
message updated, then the state read again. A change that committed meanwhile (whose own
redraw may have landed first) is drawn once more, so the last update shows the latest state
without any lock held while Slack answers. A deleted message or closed channel is not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.jobs import once
from storage.db import Database

# A redraw reads again at most this many times; each change also runs its own redraw.
_ROUNDS = 3

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


@dataclass(frozen=True)
class Drawing:
    """A posted message as it should look now."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


def redraw(
    client: WebClient,
    db: Database,
    read: Callable[[Session], Drawing | None],
    *,
    drawn: Drawing | None = None,
) -> None:
    """Update the message `read` describes until what was drawn is what the rows say.

    `read` gets a read-only session and returns None when there is nothing to draw (the
    message was never posted, or must not change). `drawn` is what the message shows already
    (just posted): it is updated only if the rows changed meanwhile.
    """
    for _ in range(_ROUNDS):
        with db.read() as session:
            drawing = read(session)
        if drawing is None or drawing == drawn:
            return
        client.chat_update(
            channel=drawing.channel, ts=drawing.ts, text=drawing.text, blocks=drawing.blocks
        )
        drawn = drawing


Read = Callable[[Session], Drawing | None]


def post_once(
    client: WebClient,
    db: Database,
    key: str,
    *,
    channel: str,
    text: str,
    blocks: list[dict[str, Any]],
    record: Callable[[Session, str, str], None],
    read: Read,
    shown_text: str | None = None,
) -> once.Outcome:
    """Post a message that is then kept up to date (a card, an offers DM), once.

    The post is a send of bot.jobs.once under `key`; `record(session, channel, ts)` writes
    where it went on the caller's rows. Rows that changed while it was being posted are drawn
    at once (`read` says what it should show now; `shown_text` is the text a redraw would
    use, when the first post's notification text differs).
    """

    def post() -> dict[str, str]:
        answer = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return {"channel": str(answer["channel"]), "ts": str(answer["ts"])}

    outcome = once.send_once(
        db, key, post, record=lambda session, at: record(session, at["channel"], at["ts"])
    )
    if outcome.sent:
        at = outcome.value
        drawn = Drawing(at["channel"], at["ts"], shown_text or text, blocks)
        redraw(client, db, read, drawn=drawn)
    return outcome
