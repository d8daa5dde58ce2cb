"""Shared fixtures: databases (SQLite and PostgreSQL), the fake Slack, the running app."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from bot.devkit.fakeslack import FakeSlack
from bot.devkit.sandbox import Sandbox
from handlers import use_template_ids
from storage.db import Database
from storage.migrate import upgrade

pytest_plugins = ["pytester"]

PG_ADMIN_DSN = os.environ.get("ALLYBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    """Register the opt-out marker for tests that send payloads Slack refuses on purpose."""
    config.addinivalue_line(
        "markers",
        "rejects_payloads: the test sends payloads Slack refuses on purpose; the fake's "
        "record of refused payloads is not checked at teardown",
    )


@pytest.fixture(autouse=True)
def _no_rejected_payloads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test after which a fake Slack (its own or a sandbox's) refused a payload."""
    with FakeSlack.track() as fakes:
        yield
    if request.node.get_closest_marker("rejects_payloads"):
        return
    for fake in fakes:
        fake.assert_no_rejected_payloads()


@pytest.fixture(scope="session")
def template_ids() -> None:
    """Templates rendered without an app get their ids as the app hands them over."""
    use_template_ids()


def _configures_the_app(name: str) -> bool:
    return name == "DATABASE_URL" or (
        name.startswith(("ALLYBOT_", "SLACK_")) and not name.startswith("ALLYBOT_TEST_")
    )


@pytest.fixture(autouse=True)
def _no_app_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from each test alone: an ALLYBOT_* or SLACK_* variable in the shell
    (or in CI) must not change a sandbox's time zone, delays or cron."""
    for name in [n for n in os.environ if _configures_the_app(n)]:
        monkeypatch.delenv(name)


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"allybot_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database; every test that takes it runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "allybot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("pg_url"))
        _truncate(database)
    yield database
    database.dispose()


def _truncate(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sandbox(db: Database) -> Iterator[Sandbox]:
    """The real app served over HTTP against the fake Slack, on each database."""
    with Sandbox(db.url, db=db) as box:
        yield box


@pytest.fixture
def sqlite_sandbox(tmp_path: Path, sqlite_template: Path) -> Iterator[Sandbox]:
    """The sandbox on SQLite only, for tests about Slack's wire rather than storage."""
    path = tmp_path / "allybot.db"
    shutil.copy(sqlite_template, path)
    with Sandbox(f"sqlite:///{path}") as box:
        yield box
        box.db.dispose()
