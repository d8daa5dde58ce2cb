"""The Web API client: Slack's own, pointed at SLACK_API_URL, with retries attached."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings


class ServerErrorRetryHandler(RetryHandler):
    """Retry Slack's transient 5xx answers a few times with backoff."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


def make_client(settings: Settings) -> WebClient:
    """A WebClient for the bot token that retries 429s, 5xx and connection errors."""
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


# Seconds views.open may take before the ack (Slack allows 3 s for the ack and the trigger).
TRIGGER_TIMEOUT = 2
# Seconds a database write made before an ack may wait for a lock (then: "try again").
PRE_ACK_WAIT = 1.0


def trigger_client(client: WebClient) -> WebClient:
    """A client for views.open with a trigger: one try, short timeout, so the ack is in time.

    Retrying a failed views.open (with backoff) would outlive both the trigger and the ack.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=TRIGGER_TIMEOUT,
        retry_handlers=[],
    )
