"""The app factory: one Bolt app per call, built from explicit settings."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.app.server import quiet_request_verification
from bot.privacy import install_log_filter
from handlers import register_all
from handlers.common.client import make_client
from handlers.common.deps import Deps
from handlers.common.listeners import report_error
from handlers.common.payload import Payload

logger = logging.getLogger(__name__)

LISTENER_THREADS = 32


def create_app(
    app_deps: Deps,
    *,
    client: WebClient | None = None,
    token_verification: bool = True,
    listener_executor: Executor | None = None,
) -> App:
    """Build the Bolt app with every listener registered; nothing is read from globals."""
    settings = app_deps.settings
    install_log_filter()  # before App(): Bolt copies our logger's level and filters to its own
    app = App(
        client=client or make_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        token_verification_enabled=token_verification,
        # Ack first, then work: Bolt acks and keeps running the listener on its thread pool.
        process_before_response=False,
        # Listeners ack from these threads: Bolt's default of 5 would leave a burst of
        # requests unacknowledged while earlier listeners wait on slow Web API calls.
        listener_executor=listener_executor or new_listener_executor(),
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("allybot.bolt"),
    )
    quiet_request_verification(app)  # Bolt's own logs a refused request's whole body

    # Listeners and matchers get it by Bolt's context injection: a parameter named `deps`.
    @app.middleware
    def provide_deps(context: Any, next: Any) -> None:
        context["deps"] = app_deps
        next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any], client: WebClient) -> BoltResponse | None:
        report_error(error, Payload.of(body), client)
        return None

    routes = register_all(app)
    app_deps.due_handlers.update(routes.due)
    return app


def new_listener_executor() -> ThreadPoolExecutor:
    """The pool Bolt runs listeners on; its owner shuts it down to finish in-flight work."""
    return ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="allybot-listener")
