"""The real app, served over HTTP, talking to the fake Slack: for the demo and the tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from cryptography.fernet import Fernet

from bot.app.factory import LISTENER_THREADS, create_app
from bot.app.scheduler import Sweeper
from bot.app.server import BackgroundServer
from bot.app.startup import prepare_database
from bot.config import Settings
from bot.devkit.fakeslack import FakeSlack, SignedClient
from handlers.common.client import make_client
from handlers.common.deps import Deps, build_deps
from storage.db import Database

SIGNING_SECRET = "sandbox-signing-secret"  # noqa: S105 (a fake workspace's secret)
BOT_TOKEN = "xoxb-sandbox"  # noqa: S105


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener pool, which can tell when every listener it was given has finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=LISTENER_THREADS, thread_name_prefix="allybot-listener")
        self._lock = threading.Lock()
        self._running: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            self._running.discard(future)

    def wait_idle(self, timeout: float = 60.0, *, leaving: int = 0) -> None:
        """Return once no listener runs or waits, including any a finishing one started
        (with `leaving`, once at most that many do: those a test holds at a gate)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                running = set(self._running)
            remaining = deadline - time.monotonic()
            if len(running) <= leaving:
                return
            if remaining <= 0:
                raise TimeoutError(f"{len(running)} listeners still running after {timeout}s")
            wait_futures(running, timeout=remaining, return_when=FIRST_COMPLETED)


@dataclass(frozen=True)
class Person:
    """Someone in the simulated workspace."""

    id: str
    name: str
    real_name: str
    email: str


@dataclass(frozen=True)
class Workspace:
    """The simulated workspace's people and channels."""

    admin: Person
    requester: Person
    colleague: Person
    allies: tuple[Person, ...]
    volunteers: tuple[Person, ...]
    allies_channel: str = "C0ALLIES"
    volunteers_channel: str = "G0VOLUNTEERS"
    announcements_channel: str = "C0ANNOUNCE"
    general_channel: str = "C0GENERAL"

    @property
    def everyone(self) -> tuple[Person, ...]:
        """Every person, once."""
        return (self.admin, self.requester, self.colleague, *self.allies, *self.volunteers)


def _person(user_id: str, name: str, real_name: str) -> Person:
    return Person(user_id, name, real_name, f"{name}@example.com")


DEFAULT_WORKSPACE = Workspace(
    admin=_person("U0ADMIN", "olivia", "Olivia Organiser"),
    requester=_person("U0ASKER", "priya", "Priya Raman"),
    colleague=_person("U0COLLEAGUE", "tom", "Tom Baker"),
    allies=(
        _person("U0ALLY1", "amara", "Amara Okafor"),
        _person("U0ALLY2", "ben", "Ben Carter"),
        _person("U0ALLY3", "chen", "Chen Wei"),
    ),
    volunteers=(
        _person("U0VOL1", "vera", "Vera Lindqvist"),
        _person("U0VOL2", "wale", "Wale Adeyemi"),
    ),
)


def seed(fake: FakeSlack, workspace: Workspace) -> None:
    """Create the workspace's users and channels in the fake Slack."""
    for person in workspace.everyone:
        fake.add_user(
            person.id,
            person.name,
            real_name=person.real_name,
            display_name=person.name,
            email=person.email,
            is_admin=person is workspace.admin,
        )
    everyone = [p.id for p in workspace.everyone]
    bot = fake.bot_user_id
    fake.add_channel(workspace.general_channel, "general", members=everyone)
    fake.add_channel(workspace.allies_channel, "allies", members=[p.id for p in workspace.allies])
    fake.add_channel(
        workspace.volunteers_channel,
        "ally-volunteers",
        is_private=True,
        members=[p.id for p in workspace.volunteers],
    )
    fake.add_channel(workspace.announcements_channel, "announcements", members=[*everyone, bot])


def sandbox_settings(database_url: str, workspace: Workspace, **overrides: Any) -> Settings:
    """Settings for the sandbox, as SPEC section 5 names them."""
    env: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": "http://127.0.0.1:1/api/",  # replaced by the fake's own URL
        "DATABASE_URL": database_url,
        "ALLYBOT_ALLIES_CHANNEL": workspace.allies_channel,
        "ALLYBOT_VOLUNTEERS_CHANNEL": workspace.volunteers_channel,
        "ALLYBOT_ANNOUNCEMENTS_CHANNEL": workspace.announcements_channel,
        "ALLYBOT_ADMINS": workspace.admin.id,
        "ALLYBOT_SECRET_KEY": Fernet.generate_key().decode(),
        "ALLYBOT_BUSINESS_UNITS": "Engineering,Sales,People,Finance",
    }
    env.update(overrides)
    return Settings(**env, _env_file=None)  # type: ignore[call-arg]


class Sandbox:
    """Fake Slack + the real app on a local port + a client that signs like Slack."""

    def __init__(
        self,
        database_url: str,
        *,
        workspace: Workspace = DEFAULT_WORKSPACE,
        db: Database | None = None,
        **settings: Any,
    ) -> None:
        self.workspace = workspace
        self.fake = FakeSlack(bot_token=BOT_TOKEN).start()
        seed(self.fake, workspace)
        settings.setdefault("SLACK_API_URL", self.fake.api_url)
        self.settings = sandbox_settings(database_url, workspace, **settings)
        self.deps: Deps = build_deps(self.settings, db)
        prepare_database(self.deps.db, self.settings)
        self.client = make_client(self.settings)
        self.listeners = ListenerPool()
        self.app = create_app(self.deps, client=self.client, listener_executor=self.listeners)
        self.server = BackgroundServer(self.app, self.deps.db).start()
        self.slack = SignedClient(self.server.url, SIGNING_SECRET, self.fake)

    @property
    def db(self) -> Database:
        """The app's database."""
        return self.deps.db

    def run_due(self, now: datetime | None = None) -> int:
        """Run one sweep of due work synchronously, as the scheduler would, at `now`."""
        return Sweeper(self.deps, self.client).run_due(now)

    def idle(self, *, leaving: int = 0) -> None:
        """Wait until the work the app started after each ack so far has finished (but for
        `leaving` listeners, held at a gate by the test)."""
        self.listeners.wait_idle(leaving=leaving)

    def close(self) -> None:
        """Stop the server, let listeners finish, stop the fake (the database is the caller's)."""
        self.server.stop()
        # Work after the ack must not spill into the next test's database.
        self.listeners.shutdown(wait=True)
        self.fake.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
