"""HTTP mode: a production WSGI server (waitress) in front of Bolt, plus /healthz."""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request.internals import build_normalized_headers, extract_content_type
from slack_bolt.request.internals import parse_body as bolt_parse_body
from slack_sdk.signature import SignatureVerifier
from waitress import wasyncore
from waitress.server import create_server

from storage.db import Database

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack may send a burst; Python's default listen backlog of 5 would refuse connections.
BACKLOG = 1024
THREADS = 16


# Where Bolt reads a body to route it and build its context, the JSON types Slack sends.
# Bolt indexes into these without checking (`"id" in user`, `body["event"]["type"]`), so a
# body that breaks them cannot come from Slack and would make Bolt answer 500.
_KEY = (str,)  # what Bolt compares with a listener's constraint (== or a pattern)
_ID = (str, type(None))
_ID_OR_OBJECT = (str, dict, type(None))
_LIST = (list, type(None))


def _fields(names: str, types: tuple[type, ...]) -> dict[str, tuple[type, ...]]:
    return dict.fromkeys(names.split(), types)


_ENVELOPE = {
    **_fields("type command callback_id action_id block_id", _KEY),
    **_fields(
        "subtype user_id channel_id team_id enterprise_id thread_ts response_url trigger_id "
        "text channel_type tab bot_id challenge function_execution_id",
        _ID,
    ),
    **_fields("user team channel enterprise user_team", _ID_OR_OBJECT),
    **_fields("authorizations response_urls actions", _LIST),
}
# Objects whose own fields Bolt reads with the envelope's meaning.
_NESTED_ENVELOPES = ("event", "message", "previous_message", "item", "assistant_thread")
_VIEW = {**_fields("type callback_id", _KEY), **_fields("id", _ID)}
_ACTION = _fields("type action_id block_id", _KEY)
# What Bolt takes for granted in each type of request.
_REQUIRED = {
    "block_actions": "actions",
    "interactive_message": "actions",
    "view_submission": "view",
    "view_closed": "view",
    "event_callback": "event",
    "workflow_step_edit": "workflow_step",
}
# Bolt reads a workflow step from any other view type; the app has no workflow steps.
_VIEW_TYPES = ("modal", "home")
# Small identifiers only, so a log line can never carry a person's text.
_KIND = re.compile(r"[a-z_]{1,40}")


class _Unparsable:
    """A body that is neither JSON nor a form."""


def parse_body(raw: str, content_type: str | None) -> object:
    """The body as Bolt would parse it (any JSON value), or `_Unparsable`."""
    try:
        return bolt_parse_body(raw, content_type)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return _Unparsable()


def shape_problem(body: object) -> str | None:
    """Why a parsed body cannot be a Slack request, or None when Bolt can route it."""
    if isinstance(body, _Unparsable):
        return "the body is neither JSON nor a form"
    if not isinstance(body, dict):
        return f"the body is {_json_type(body)}, not an object"
    checks: list[tuple[str, object, dict[str, tuple[type, ...]]]] = [("the body", body, _ENVELOPE)]
    checks += [(name, body[name], _ENVELOPE) for name in _NESTED_ENVELOPES if name in body]
    event = body.get("event")
    if isinstance(event, dict):
        checks += [(f"event.{n}", event[n], _ENVELOPE) for n in _NESTED_ENVELOPES if n in event]
    if "view" in body:
        checks.append(("view", body["view"], _VIEW))
    for name, fields in (
        ("actions", _ACTION),
        ("authorizations", _ENVELOPE),
        ("response_urls", {}),
    ):
        items = body.get(name)
        if isinstance(items, list):
            checks += [(f"{name}[]", item, fields) for item in items]
    for where, value, fields in checks:
        if not isinstance(value, dict):
            return f"{where} is {_json_type(value)}, not an object"
        for field, types in fields.items():
            if field in value and not isinstance(value[field], types):
                return f"{where}: {field} is {_json_type(value[field])}"
    kind = body.get("type")
    needed = _REQUIRED.get(str(kind))
    if needed and not body.get(needed):
        return f"a {kind} request without {needed}"
    if kind == "block_actions" and any("action_id" not in a for a in body["actions"]):
        return "a block_actions action without action_id"
    if "view" in body and body["view"].get("type") not in _VIEW_TYPES:
        return "view: type is not modal or home"
    return None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")


def request_kind(body: object) -> str:
    """What kind of request a body is (`event_callback/message`, `block_actions`), no more."""
    if not isinstance(body, dict):
        return "unparsed"
    if isinstance(body.get("command"), str):
        return "slash_command"
    event = body.get("event")
    parts = [body.get("type"), event.get("type") if isinstance(event, dict) else None]
    kinds = [p for p in parts if isinstance(p, str) and _KIND.fullmatch(p)]
    return "/".join(kinds) or "unknown"


def describe_rejected(raw: str, content_type: str | None) -> str:
    """A rejected request as it may be logged: its kind and length, never its content."""
    return f"type {request_kind(parse_body(raw, content_type))}, {len(raw.encode())} bytes"


# Slack's timestamps are whole seconds since the epoch, in ASCII digits.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class _NumericTimestampVerifier(SignatureVerifier):
    """slack_sdk's check, refusing a timestamp that is not a number instead of raising.

    Its `int(timestamp)` raises on "abc" or "1.5": the exception would reach the app's error
    handler with an unverified body (whose user and response_url it would answer) and end in
    a 500, where a bad signature must be a 401 and nothing else.
    """

    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        """Whether the signature is Slack's, for a request of the last five minutes."""
        if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
            return False
        return super().is_valid(body, timestamp, signature)


class QuietRequestVerification(RequestVerification):
    """Bolt's signature check, logging a rejected request's kind and length, not its body.

    Bolt's own logs the whole body at INFO: with a rotated secret or a skewed clock, that
    would put every person's text and user id in the log, anonymous requesters' included.
    """

    def __init__(self, signing_secret: str) -> None:
        super().__init__(signing_secret)
        self._verifier = _NumericTimestampVerifier(signing_secret)

    def _debug_log_error(self, signature: str, timestamp: str, body: str) -> None:
        logger.warning(
            "rejected a request with a bad or stale signature (%s)", describe_rejected(body, None)
        )


def quiet_request_verification(app: App) -> None:
    """Swap Bolt's signature check for `QuietRequestVerification`, in the same place.

    Bolt has no option to pass its verification middleware in; the same check at the same
    position keeps the order (before authorization and url_verification) exactly Bolt's.
    """
    middleware = app._middleware_list
    found = [i for i, m in enumerate(middleware) if type(m) is RequestVerification]
    if len(found) != 1:
        raise RuntimeError(f"expected one Bolt RequestVerification middleware, found {len(found)}")
    middleware[found[0]] = QuietRequestVerification(app._signing_secret)


class _SlackEndpoint(SlackRequestHandler):
    """Bolt's WSGI adapter, answering 400 to a body Bolt cannot route instead of a 500."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            raw = request.get_body()
        except ValueError:  # not UTF-8 text: nothing to act on, whoever signed it
            logger.warning("rejected a malformed request (not UTF-8 text)")
            return BoltResponse(status=400, body="malformed request body")
        headers = build_normalized_headers(request.get_headers())
        content_type = extract_content_type(headers)
        body = parse_body(raw, content_type)
        problem = shape_problem(body)
        if problem:
            # The body is not acted on, nor logged: a signed one may hold a person's text.
            logger.warning(
                "rejected a malformed request (%s): %s",
                describe_rejected(raw, content_type),
                problem,
            )
            return BoltResponse(status=400, body="malformed request body")
        return self.app.dispatch(BoltRequest(body=raw, query=request.query_string, headers=headers))


def make_wsgi_app(app: App, db: Database) -> Callable[..., Iterable[bytes]]:
    """The WSGI callable: Slack's endpoint and the health check."""
    slack = _SlackEndpoint(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            healthy = db.ping()
            body = json.dumps(
                {
                    "status": "ok" if healthy else "degraded",
                    "database": "ok" if healthy else "unavailable",
                }
            ).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return wsgi


def serve(
    app: App, db: Database, *, host: str, port: int, on_stop: Callable[[], None] | None = None
) -> None:
    """Serve until SIGTERM or SIGINT, then stop accepting, finish, and clean up."""
    server = create_server(
        make_wsgi_app(app, db),
        host=host,
        port=port,
        threads=THREADS,
        backlog=BACKLOG,
        ident="allybot",
        clear_untrusted_proxy_headers=True,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("received signal %s; shutting down", signum)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("allybot listening on http://%s:%s%s", host, server.effective_port, EVENTS_PATH)  # type: ignore[union-attr]
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
        if on_stop:
            on_stop()
        db.dispose()
        logger.info("allybot stopped")


# How long stopping the background server may take (in-flight requests finish first).
STOP_WAIT = 30.0


class BackgroundServer:
    """The same server on a thread, for the demo and the tests."""

    def __init__(self, app: App, db: Database, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = create_server(
            make_wsgi_app(app, db),
            host=host,
            port=port,
            threads=THREADS,
            backlog=BACKLOG,
            ident="allybot",
        )
        self.url = f"http://{host}:{self._server.effective_port}"  # type: ignore[union-attr]
        self._thread = threading.Thread(target=self._server.run, name="allybot-http", daemon=True)

    def start(self) -> BackgroundServer:
        """Start serving on the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        server = self._server

        def close_everything() -> None:
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)  # type: ignore[union-attr]

        # Run the close on the server's own loop thread: closing its sockets from here,
        # under a running select(), makes the loop fail with EBADF.
        try:
            server.trigger.pull_trigger(close_everything)  # type: ignore[union-attr]
        except OSError:
            # Its wake-up pipe is already gone (the loop is closing or closed): close here.
            close_everything()
        self._thread.join(timeout=STOP_WAIT)
        if self._thread.is_alive():
            raise RuntimeError(f"the HTTP server did not stop within {STOP_WAIT} s")
