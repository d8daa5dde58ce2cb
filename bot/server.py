"""HTTP mode: a production WSGI server (waitress) in front of Bolt, plus /healthz."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from waitress import wasyncore
from waitress.server import create_server

from storage.db import Database

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack may send a burst; Python's default listen backlog of 5 would refuse connections.
BACKLOG = 1024
THREADS = 16


class _SlackEndpoint(SlackRequestHandler):
    """Bolt's WSGI adapter, answering 400 to a body it cannot parse instead of crashing."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = BoltRequest(
                body=request.get_body(), query=request.query_string, headers=request.get_headers()
            )
        except ValueError:  # JSON or text decoding: nothing to act on, whoever signed it
            return BoltResponse(status=400, body="malformed request body")
        return self.app.dispatch(bolt_request)


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
        import threading

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
