"""`allybot serve` as a real process, and the health check."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.server import BackgroundServer
from bot.devkit.fakeslack import FakeSlack, SignedClient
from bot.devkit.sandbox import Sandbox
from storage.db import Database
from tests.helpers import BOT_TOKEN, SIGNING_SECRET, base_env


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 (local test URL)
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthz_reports_the_database(sqlite_sandbox: Sandbox) -> None:
    """GET /healthz answers 200 with the documented JSON when the database answers."""
    status, body = _get(sqlite_sandbox.server.url + "/healthz")
    assert (status, body) == (200, {"status": "ok", "database": "ok"})


def test_healthz_is_503_when_the_database_is_down(sqlite_sandbox: Sandbox) -> None:
    """With no database reachable, /healthz says so with a 503."""
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    server = BackgroundServer(sqlite_sandbox.app, down).start()
    try:
        status, body = _get(server.url + "/healthz")
    finally:
        server.stop()
    assert status == 503
    assert body["database"] == "unavailable"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, FakeSlack]]:
    """`allybot serve` started as Slack's admins would, against the fake Web API."""
    fake = FakeSlack(bot_token=BOT_TOKEN).start()
    fake.add_user("U0COLLEAGUE", "tom", real_name="Tom Baker")
    fake.add_channel("C0GENERAL", "general", members=["U0COLLEAGUE"])
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ALLYBOT_"))}
    env.update(base_env(SLACK_API_URL=fake.api_url, DATABASE_URL=f"sqlite:///{tmp_path}/a.db"))
    # Within a day after the leaderboard cron fires (by default the 1st, 09:00 UTC) serve would
    # post the standings as it starts, a call the tests do not expect: fire on another day.
    env["ALLYBOT_LEADERBOARD_CRON"] = f"0 9 {1 if datetime.now(UTC).day in (15, 16) else 15} * *"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _get(url + "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(
            "allybot serve did not become healthy: "
            + (process.stdout.read() if process.stdout else "")
        )
    yield process, url, fake
    if process.poll() is None:
        process.kill()
        process.wait()
    fake.stop()


def test_serve_answers_signed_help_and_refuses_bad_signatures(
    served: tuple[subprocess.Popen[str], str, FakeSlack],
) -> None:
    """The real process answers /ally help through SLACK_API_URL and 401s a forged request."""
    _process, url, fake = served
    slack = SignedClient(url, SIGNING_SECRET, fake)
    assert slack.slash("/ally", "help", user_id="U0COLLEAGUE", channel_id="C0GENERAL").status == 200
    [call] = fake.wait_for("chat.postEphemeral")
    assert "/ally help" in str(call.args["blocks"])
    fake.reset_calls()
    forged = SignedClient(url, "wrong-secret", fake)
    assert (
        forged.slash("/ally", "help", user_id="U0COLLEAGUE", channel_id="C0GENERAL").status == 401
    )
    time.sleep(0.3)
    assert fake.calls == []


def test_serve_stops_cleanly_on_sigterm(
    served: tuple[subprocess.Popen[str], str, FakeSlack],
) -> None:
    """SIGTERM ends the process with exit code 0 and a goodbye in the log."""
    process, _url, _fake = served
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "allybot stopped" in output


def test_run_uses_socket_mode_when_an_app_token_is_set(tmp_path: Path) -> None:
    """`allybot run` with SLACK_APP_TOKEN opens a Socket Mode connection with that token."""
    fake = FakeSlack(bot_token=BOT_TOKEN).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ALLYBOT_"))}
    env.update(
        base_env(
            SLACK_API_URL=fake.api_url,
            SLACK_APP_TOKEN="xapp-1-test",
            DATABASE_URL=f"sqlite:///{tmp_path}/a.db",
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        [call] = fake.wait_for("apps.connections.open", timeout=30, ok=None)[:1]
    finally:
        process.kill()
        process.wait()
        fake.stop()
    assert call.method == "apps.connections.open"
