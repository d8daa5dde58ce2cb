"""Configuration is validated once; a bad value stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from bot.config import ConfigError, Settings, load_settings, parse_duration
from tests.helpers import base_env


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Tests see only the variables they set (no developer .env)."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "ALLYBOT_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        (" 1w ", timedelta(weeks=1)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    """Durations use a number and one unit."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["7", "d7", "7 days", "-1d", "0s", "1.5h", ""])
def test_bad_durations_are_refused(text: str) -> None:
    """Anything else is refused."""
    with pytest.raises(ValueError):
        parse_duration(text)


def test_complete_environment_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented variables load with their defaults filled in."""
    settings = _load(monkeypatch, **base_env(ALLYBOT_FEEDBACK_AFTER="3d"))
    assert settings.feedback_after == timedelta(days=3)
    assert settings.feedback_close_after == timedelta(days=14)
    assert settings.business_units == ("Engineering", "Sales", "People")
    assert settings.is_admin("U0ADMIN") and not settings.is_admin("U0OTHER")
    assert settings.interest_emoji == "raised_hand"
    assert settings.retention_days == 180
    assert "test-signing-secret" not in repr(settings)


def test_env_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A .env file in the working directory is read too."""
    (tmp_path / ".env").write_text("\n".join(f"{k}={v}" for k, v in base_env().items()))
    assert load_settings().allies_channel == "C0ALLIES"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SLACK_SIGNING_SECRET", None, "SLACK_SIGNING_SECRET: is not set"),
        ("ALLYBOT_FEEDBACK_AFTER", "soon", "ALLYBOT_FEEDBACK_AFTER: 'soon' is not a duration"),
        (
            "ALLYBOT_ALLIES_CHANNEL",
            "#allies",
            "ALLYBOT_ALLIES_CHANNEL: '#allies' is not a Slack channel ID",
        ),
        ("ALLYBOT_SECRET_KEY", "not-a-key", "ALLYBOT_SECRET_KEY: is not a Fernet key"),
        ("ALLYBOT_ADMINS", "alice", "ALLYBOT_ADMINS: 'alice' is not a Slack user ID"),
        ("ALLYBOT_TIMEZONE", "Mars/Base", "ALLYBOT_TIMEZONE: 'Mars/Base' is not an IANA time zone"),
        (
            "ALLYBOT_LEADERBOARD_CRON",
            "every day",
            "ALLYBOT_LEADERBOARD_CRON: 'every day' is not a crontab",
        ),
        ("SLACK_BOT_TOKEN", "xoxp-user", "SLACK_BOT_TOKEN: must be a bot token"),
        ("ALLYBOT_MIN_GROUP", "1", "ALLYBOT_MIN_GROUP: "),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str | None, message: str
) -> None:
    """Each bad or missing value is reported with its variable's name."""
    env = base_env()
    if value is None:
        env.pop(variable)
    else:
        env[variable] = value
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_cli_exits_2_with_one_line(tmp_path) -> None:
    """`allybot serve` with a bad duration exits 2 and prints one line naming it."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ALLYBOT_"))},
        **base_env(ALLYBOT_FEEDBACK_AFTER="tomorrow"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "ALLYBOT_FEEDBACK_AFTER" in lines[0] and "tomorrow" in lines[0]


def test_keygen_prints_a_usable_key() -> None:
    """`allybot keygen` prints a key the settings accept."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "keygen"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    key = result.stdout.strip()
    assert Settings(**{**base_env(), "ALLYBOT_SECRET_KEY": key}, _env_file=None).secret_key
