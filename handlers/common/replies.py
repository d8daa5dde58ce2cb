"""Ways to answer one person privately, wherever they asked from."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

logger = logging.getLogger(__name__)


def tell_privately(
    client: WebClient,
    *,
    user_id: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    channel_id: str | None = None,
    response_url: str | None = None,
) -> None:
    """Show a message only this person sees: ephemeral where they are, else by DM."""
    if channel_id:
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            # The bot may not be in that channel (or it is someone else's DM).
            logger.info(
                "ephemeral reply failed (%s); trying another way", exc.response.get("error")
            )
    if response_url:
        try:
            status = (
                WebhookClient(response_url)
                .send(text=text, blocks=blocks, response_type="ephemeral")
                .status_code
            )
        except OSError as exc:
            status = None
            logger.info("response_url reply failed (%s); sending a DM", type(exc).__name__)
        if status == 200:
            return
    client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
