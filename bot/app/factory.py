"""The app factory: one Bolt app per call, built from explicit settings."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.app.server import quiet_request_verification
from bot.privacy import install_log_filter
from bot.rules.errors import UserFacingError
from handlers import register_all
from handlers.common.client import make_client
from handlers.common.deps import Deps
from handlers.common.replies import tell_privately

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

    @app.middleware
    def provide_deps(context: Any, next: Any) -> None:
        context["deps"] = app_deps
        next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any], client: WebClient) -> BoltResponse | None:
        report_error(error, body, client)
        return None

    routes = register_all(guarded(app))
    app_deps.due_handlers.update(routes.due)
    return app


def new_listener_executor() -> ThreadPoolExecutor:
    """The pool Bolt runs listeners on; its owner shuts it down to finish in-flight work."""
    return ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="allybot-listener")


def _user_of(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    return body.get("user_id") or (body.get("event") or {}).get("user")


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict):
        return channel.get("id")
    return body.get("channel_id")


def report_error(error: Exception, body: dict[str, Any], client: WebClient) -> None:
    """Tell the person what went wrong: a refusal as it is, anything else with a reference."""
    user_id = _user_of(body)
    if isinstance(error, UserFacingError):
        text = error.message
    else:
        reference = uuid.uuid4().hex[:8]
        # The exception only, never the payload: it may hold an anonymous request's text.
        logger.error(
            "unexpected error %s in %s", reference, body.get("type") or "command", exc_info=error
        )
        text = f"Something went wrong on our side (reference `{reference}`). Please try again."
    if not user_id:
        return
    try:
        tell_privately(
            client,
            user_id=user_id,
            text=text,
            channel_id=_channel_of(body),
            response_url=body.get("response_url"),
        )
    except Exception:  # the person could not be told; the log has the reason
        logger.exception("could not tell the user about an error")


# Bolt's listener registrations whose functions get the guard.
_LISTENER_KINDS = (
    "action",
    "command",
    "event",
    "message",
    "options",
    "shortcut",
    "view",
    "view_closed",
    "view_submission",
    "block_action",
)
# What the guard itself needs from Bolt, on top of what the listener asks for.
_GUARD_ARGS = ("ack", "body", "client")


class _Guarded:
    """Registers listeners on a Bolt app with the guard around each (see `guarded`)."""

    def __init__(self, app: App) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        register = getattr(self._app, name)
        if name not in _LISTENER_KINDS:
            return register

        def with_guard(*args: Any, **kwargs: Any) -> Any:
            decorator = register(*args, **kwargs)
            return lambda listener: decorator(_guard(listener))

        return with_guard


def guarded(app: App) -> App:
    """The app, registering listeners so that their errors never reach Bolt's runner.

    Bolt's runner, on an exception raised after ack(), resets the ack it may not have sent
    yet (it polls every 10 ms), so Slack sees no answer. The guard acks if the listener did
    not, then reports the error to the person itself.
    """
    return _Guarded(app)  # type: ignore[return-value]


def _guard(listener: Callable[..., Any]) -> Callable[..., Any]:
    wanted = list(inspect.signature(listener).parameters)

    def guarded_listener(**kwargs: Any) -> Any:
        ack = kwargs.get("ack")
        try:
            return listener(**{name: kwargs[name] for name in wanted if name in kwargs})
        except Exception as error:
            if ack is not None and getattr(ack, "response", None) is None:
                ack()
            report_error(error, kwargs.get("body") or {}, kwargs["client"])
            return None

    # Bolt injects arguments by name (it reads __signature__): the listener's, and the guard's.
    names = dict.fromkeys([*wanted, *_GUARD_ARGS])
    guarded_listener.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    guarded_listener.__name__ = getattr(listener, "__name__", "listener")
    guarded_listener.__doc__ = listener.__doc__
    return guarded_listener
