"""Configuration is validated once; a bad value stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, Settings, crontab_trigger, load_settings, parse_duration
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
        ("ALLYBOT_MIN_GROUP", "2", "ALLYBOT_MIN_GROUP: "),
        ("ALLYBOT_STORIES_CALL_CRON", "61 * * * *", "ALLYBOT_STORIES_CALL_CRON: "),
        ("ALLYBOT_SURVEY_REMINDER_AFTER", "soon", "ALLYBOT_SURVEY_REMINDER_AFTER: "),
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


def _serve(tmp_path, **overrides: str) -> subprocess.CompletedProcess[str]:
    """Run `allybot serve` with a complete environment changed by `overrides`."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "ALLYBOT_", "DATABASE_URL"))
        },
        **base_env(**overrides),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_exits_2_with_one_line(tmp_path) -> None:
    """`allybot serve` with a bad duration exits 2 and prints one line naming it."""
    result = _serve(tmp_path, ALLYBOT_FEEDBACK_AFTER="tomorrow")
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


# ALLYBOT_LEADERBOARD_CRON: a standard crontab, weekdays as crontab counts them

SUNDAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday, after 09:00


@pytest.mark.parametrize(
    ("expression", "fires"),
    [
        ("0 9 * * 1", ["Mon 23", "Mon 30", "Mon 07"]),
        ("0 9 * * 0", ["Sun 29", "Sun 06", "Sun 13"]),
        ("0 9 * * 7", ["Sun 29", "Sun 06", "Sun 13"]),
        ("0 9 * * 1-5", ["Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Mon 30"]),
        ("0 9 * * 5-7", ["Fri 27", "Sat 28", "Sun 29", "Fri 04"]),
        ("0 9 * * 1,3", ["Mon 23", "Wed 25", "Mon 30"]),
        ("0 9 * * */2", ["Tue 24", "Thu 26", "Sat 28", "Sun 29"]),
        ("0 9 * * 1-5/2", ["Mon 23", "Wed 25", "Fri 27", "Mon 30"]),
        ("0 9 * * mon", ["Mon 23", "Mon 30"]),
        ("0 9 * * MON-FRI", ["Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Mon 30"]),
        ("0 9 * * fri-sun", ["Fri 27", "Sat 28", "Sun 29", "Fri 04"]),
        ("0 9 * * sun,sat", ["Sat 28", "Sun 29", "Sat 05"]),
        # Both day fields restricted: crontab fires when either matches.
        ("0 9 1 * 1", ["Mon 23", "Mon 30", "Tue 01", "Mon 07"]),
        # A stepped day of the month counts as unrestricted (as in cron): both must match.
        ("0 9 */2 * 1", ["Mon 23", "Mon 07", "Mon 21"]),
    ],
)
def test_cron_weekdays_count_as_crontab_does(expression: str, fires: list[str]) -> None:
    """0 and 7 are Sunday, 1 is Monday, names and ranges as in crontab (not APScheduler)."""
    trigger = crontab_trigger(expression, ZoneInfo("UTC"))
    seen: list[str] = []
    fire = trigger.get_next_fire_time(None, SUNDAY)
    while fire is not None and len(seen) < len(fires):
        assert (fire.hour, fire.minute) == (9, 0)
        seen.append(fire.strftime("%a %d"))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert seen == fires


def test_a_weekday_cron_fires_in_the_programmes_time_zone() -> None:
    """`0 9 * * 1` in Paris is Monday 08:00 UTC in winter."""
    fire = crontab_trigger("0 9 * * 1", ZoneInfo("Europe/Paris")).get_next_fire_time(None, SUNDAY)
    assert fire is not None
    assert fire.astimezone(UTC) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["0 9 * * 7", "30 8 * * 1-5", "0 9 1 1 *", "0 9 * * sun"])
def test_standard_crontabs_are_accepted(monkeypatch: pytest.MonkeyPatch, expression: str) -> None:
    """Sunday as 7, weekday ranges and names load as they are."""
    settings = _load(monkeypatch, **base_env(ALLYBOT_LEADERBOARD_CRON=expression))
    assert settings.leaderboard_cron == expression


@pytest.mark.parametrize(
    "expression",
    ["0 9 * * 8", "0 9 * * 5-1", "0 9 * * funday", "0 9 * * 1/0", "0 9 * *", "0 0 30 2 *"],
)
def test_bad_crontabs_are_refused(monkeypatch: pytest.MonkeyPatch, expression: str) -> None:
    """Weekdays beyond 7, backwards ranges, unknown names, 4 fields, a date that never comes."""
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **base_env(ALLYBOT_LEADERBOARD_CRON=expression))
    assert str(caught.value).startswith(f"ALLYBOT_LEADERBOARD_CRON: {expression!r} is not")
    assert "\n" not in str(caught.value)


# DATABASE_URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://ally:pw@db.internal/allybot",
            "postgresql+psycopg://ally:pw@db.internal/allybot",
        ),
        ("postgresql://ally:pw@db:5432/allybot", "postgresql+psycopg://ally:pw@db:5432/allybot"),
        ("postgresql+psycopg://ally@db/allybot", "postgresql+psycopg://ally@db/allybot"),
        ("sqlite:///allybot.db", "sqlite:///allybot.db"),
    ],
)
def test_postgres_urls_get_the_installed_driver(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    """The `postgres://` and `postgresql://` forms hosting providers hand out work as given."""
    assert _load(monkeypatch, **base_env(DATABASE_URL=url)).database_url == expected


@pytest.mark.parametrize(
    "url",
    [
        "mysql://ally:s3cret@db/allybot",
        "postgresql+psycopg2://ally:s3cret@db/allybot",
        "oracle://ally:s3cret@db/allybot",
        "ally:s3cret@db/allybot",
        "sqlite:////no/such/directory/allybot.db",
    ],
)
def test_unusable_database_urls_are_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Another database, a missing driver or a bad form stops start-up; no password shown."""
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **base_env(DATABASE_URL=url))
    message = str(caught.value)
    assert message.startswith("DATABASE_URL: ") and "\n" not in message
    assert "s3cret" not in message


def test_cli_refuses_an_unusable_database_url_with_one_line(tmp_path) -> None:
    """`allybot serve` with a MySQL URL exits 2 naming DATABASE_URL, not with a traceback."""
    result = _serve(tmp_path, DATABASE_URL="mysql://ally:s3cret@db/allybot")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DATABASE_URL" in lines[0] and "s3cret" not in lines[0]


# ALLYBOT_BUSINESS_UNITS and ALLYBOT_INTEREST_EMOJI


def test_business_unit_names_up_to_75_characters_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name of exactly 75 characters is kept whole."""
    name = "R&D " + "x" * 71
    settings = _load(monkeypatch, **base_env(ALLYBOT_BUSINESS_UNITS=f"Sales,{name}"))
    assert settings.business_units == ("Sales", name)


def test_a_business_unit_name_over_75_characters_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A longer name is refused (it would be cut silently), naming the variable and the limit."""
    name = "Global Research and Development " + "x" * 44
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **base_env(ALLYBOT_BUSINESS_UNITS=f"Sales,{name}"))
    message = str(caught.value)
    assert message.startswith("ALLYBOT_BUSINESS_UNITS: ") and "75" in message
    assert "Global Research" in message and "\n" not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(":raised_hand:", "raised_hand"), (" :+1: ", "+1"), ("hand", "hand"), ("t-rex", "t-rex")],
)
def test_interest_emoji_loses_its_colons(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    """`:raised_hand:` is the name Slack sends in reaction events: `raised_hand`."""
    settings = _load(monkeypatch, **base_env(ALLYBOT_INTEREST_EMOJI=value))
    assert settings.interest_emoji == expected


@pytest.mark.parametrize("value", ["raised hand", "::", ":a:b:", "<!channel>", "Raised_Hand"])
def test_bad_interest_emoji_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Spaces, inner colons, markup and capitals never match a reaction: refused."""
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **base_env(ALLYBOT_INTEREST_EMOJI=value))
    assert str(caught.value).startswith("ALLYBOT_INTEREST_EMOJI: ")
