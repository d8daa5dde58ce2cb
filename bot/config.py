"""Settings: every variable of SPEC section 5, validated once at start-up."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from cryptography.fernet import Fernet
from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from messages.content import load_content

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "messages" / "content"

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
# The length of business_unit.name (storage.models.programme).
BU_NAME_MAX = 75
# Slack's emoji names, as reaction events carry them: letters, digits, _ - + and '.
_EMOJI_NAME = re.compile(r"^[\w+'-]+$")
# The databases allybot runs on, and the driver it ships for PostgreSQL.
_POSTGRES_DRIVER = "postgresql+psycopg"
_DATABASES = ("sqlite", "postgresql")
# crontab numbers the days of the week from Sunday (0, and 7 again); APScheduler from Monday.
_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the variable."""


def parse_duration(value: object) -> timedelta:
    """Parse `30s`, `10m`, `2h`, `7d` or `1w` (or a timedelta) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value))
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"{value!r} is not a duration; use a number and a unit, e.g. 30s, 10m, 2h, 7d"
        )
    amount, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(amount)})


def crontab_trigger(expression: str, zone: tzinfo) -> BaseTrigger:
    """The trigger for a standard 5-field crontab line, in `zone`; ValueError if malformed.

    APScheduler's own `CronTrigger.from_crontab` counts day 0 of the week as Monday and
    ANDs the two day fields; crontab counts 0 (and 7) as Sunday and, when both day fields
    are restricted, fires on either. This follows crontab.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"has {len(fields)} fields, not 5 (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    weekdays = _cron_weekdays(weekday)

    def cron(days_of_month: str, days_of_week: str) -> CronTrigger:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=days_of_month,
            month=month,
            day_of_week=days_of_week,
            timezone=zone,
        )

    if day.startswith("*") or weekday.startswith("*"):
        return cron(day, weekdays)
    return OrTrigger([cron(day, "*"), cron("*", weekdays)])


def _cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (0-7, sun-sat, ranges, lists, steps) as APScheduler names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        part, slash, step_text = item.partition("/")
        step = _cron_number(step_text, field) if slash else 1
        if step < 1:
            raise ValueError(f"the weekday step in {field!r} must be at least 1")
        if part == "*":
            first, last = 0, 6
        elif "-" in part:
            start, _, end = part.partition("-")
            first, last = _cron_weekday(start, field), _cron_weekday(end, field, end=True)
        else:
            first = _cron_weekday(part, field)
            last = 6 if slash else first  # `5/2` is `5-6/2` (cronie)
        if first > last:
            raise ValueError(f"the weekday range in {field!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_CRON_WEEKDAYS[day] for day in sorted(days))


def _cron_weekday(text: str, field: str, *, end: bool = False) -> int:
    """One crontab weekday: 0-7 or sun-sat (`sun` ending a range is 7, as in `fri-sun`)."""
    if text in _CRON_WEEKDAYS:
        index = _CRON_WEEKDAYS.index(text)
        return 7 if end and index == 0 else index
    day = _cron_number(text, field)
    if day > 7:
        raise ValueError(f"weekdays in {field!r} run from 0 to 7 (0 and 7 are Sunday)")
    return day


def _cron_number(text: str, field: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{text!r} in {field!r} is not a weekday (0-7 or sun-sat)")
    return int(text)


def _database_url(value: object) -> str:
    """DATABASE_URL for the installed drivers: `postgres://` and `postgresql://` use psycopg."""
    text = str(value).strip()
    for scheme in ("postgres://", "postgresql://"):
        if text.startswith(scheme):
            text = f"{_POSTGRES_DRIVER}://" + text.removeprefix(scheme)
    usage = "use sqlite:///allybot.db or postgresql://user:password@host/database"
    try:
        url = make_url(text)
    except ArgumentError:
        # The value may hold a password: it is not repeated.
        raise ValueError(f"is not a database URL; {usage}") from None
    if url.get_backend_name() not in _DATABASES:
        raise ValueError(f"{url.get_backend_name()!r} is not supported; {usage}")
    try:
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise ValueError(f"the driver {url.drivername!r} is not installed; {usage}") from None
    _check_sqlite_directory(url)
    return text


def _check_sqlite_directory(url: URL) -> None:
    """A SQLite file can be created only in a directory that exists."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return
    if database.startswith("file:"):
        return  # a URI filename: SQLite reads its options itself
    folder = Path(database).expanduser().parent
    if not folder.is_dir():
        raise ValueError(f"the SQLite file's directory {str(folder)!r} does not exist")


def _business_units(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    names = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    for name in names:
        if len(name) > BU_NAME_MAX:
            raise ValueError(
                f"{name[:30]!r}… has {len(name)} characters; "
                f"business unit names are at most {BU_NAME_MAX}"
            )
    return names


def _emoji_name(value: object) -> str:
    """An emoji's name as reaction events carry it: `:raised_hand:` is `raised_hand`."""
    text = str(value).strip()
    name = text.removeprefix(":").removesuffix(":")
    if not _EMOJI_NAME.match(name) or name != name.lower():
        raise ValueError(f"{text!r} is not an emoji name such as raised_hand (or :raised_hand:)")
    return name


def _channel_id(value: object) -> str:
    text = str(value).strip()
    if not _CHANNEL_ID.match(text):
        raise ValueError(
            f"{text!r} is not a Slack channel ID (it looks like C0123ABCD or G0123ABCD)"
        )
    return text


def _user_ids(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    ids = tuple(str(item).strip() for item in items if str(item).strip())
    for user_id in ids:
        if not _USER_ID.match(user_id):
            raise ValueError(f"{user_id!r} is not a Slack user ID (it looks like U0123ABCD)")
    return ids


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ChannelId = Annotated[str, BeforeValidator(_channel_id)]
UserIds = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_user_ids)]
BusinessUnits = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_business_units)]
DatabaseUrl = Annotated[str, BeforeValidator(_database_url)]
EmojiName = Annotated[str, BeforeValidator(_emoji_name)]


def _env(name: str) -> Any:
    return Field(validation_alias=AliasChoices(name))


class Settings(BaseSettings):
    """allybot's configuration, read from the environment or a `.env` file."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    slack_bot_token: SecretStr = _env("SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = _env("SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN")
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL")
    )
    database_url: DatabaseUrl = Field(
        default="sqlite:///allybot.db", validation_alias=AliasChoices("DATABASE_URL")
    )
    allies_channel: ChannelId = _env("ALLYBOT_ALLIES_CHANNEL")
    volunteers_channel: ChannelId = _env("ALLYBOT_VOLUNTEERS_CHANNEL")
    announcements_channel: ChannelId = _env("ALLYBOT_ANNOUNCEMENTS_CHANNEL")
    admins: UserIds = Field(default=(), validation_alias=AliasChoices("ALLYBOT_ADMINS"))
    secret_key: SecretStr = _env("ALLYBOT_SECRET_KEY")
    interest_emoji: EmojiName = Field(
        default="raised_hand", validation_alias=AliasChoices("ALLYBOT_INTEREST_EMOJI")
    )
    feedback_after: Duration = Field(
        default=timedelta(days=7), validation_alias=AliasChoices("ALLYBOT_FEEDBACK_AFTER")
    )
    feedback_close_after: Duration = Field(
        default=timedelta(days=14), validation_alias=AliasChoices("ALLYBOT_FEEDBACK_CLOSE_AFTER")
    )
    escalate_after: Duration = Field(
        default=timedelta(days=2), validation_alias=AliasChoices("ALLYBOT_ESCALATE_AFTER")
    )
    pair_cooldown: Duration = Field(
        default=timedelta(days=90), validation_alias=AliasChoices("ALLYBOT_PAIR_COOLDOWN")
    )
    leaderboard_cron: str = Field(
        default="0 9 1 * *", validation_alias=AliasChoices("ALLYBOT_LEADERBOARD_CRON")
    )
    timezone: str = Field(default="UTC", validation_alias=AliasChoices("ALLYBOT_TIMEZONE"))
    content_dir: Path = Field(
        default=DEFAULT_CONTENT_DIR, validation_alias=AliasChoices("ALLYBOT_CONTENT_DIR")
    )
    stories_call_cron: str = Field(
        default="0 10 1 12 *", validation_alias=AliasChoices("ALLYBOT_STORIES_CALL_CRON")
    )
    survey_reminder_after: Duration = Field(
        default=timedelta(days=3), validation_alias=AliasChoices("ALLYBOT_SURVEY_REMINDER_AFTER")
    )
    # Under 3, a published figure could single out one or two people.
    min_group: int = Field(default=5, ge=3, validation_alias=AliasChoices("ALLYBOT_MIN_GROUP"))
    business_units: BusinessUnits = Field(
        default=(), validation_alias=AliasChoices("ALLYBOT_BUSINESS_UNITS")
    )
    retention_days: int = Field(
        default=180, ge=1, validation_alias=AliasChoices("ALLYBOT_RETENTION_DAYS")
    )

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr) -> SecretStr:
        try:
            Fernet(value.get_secret_value().encode())
        except (ValueError, TypeError):
            raise ValueError("is not a Fernet key; run `allybot keygen` to make one") from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("leaderboard_cron", "stories_call_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            trigger = crontab_trigger(value, UTC)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a crontab expression ({exc})") from None
        if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
            raise ValueError(f"{value!r} is not a date that ever comes")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Paris") from None
        return value

    @field_validator("content_dir")
    @classmethod
    def _content_dir(cls, value: Path) -> Path:
        if not (value / "lexicon.yml").is_file():
            raise ValueError(f"{value} has no lexicon.yml")
        # Content Slack could not take stops start-up here, naming the file and the problem.
        load_content(value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The programme's time zone."""
        return ZoneInfo(self.timezone)

    def leaderboard_trigger(self) -> BaseTrigger:
        """When the leaderboard is posted: ALLYBOT_LEADERBOARD_CRON in the programme's zone."""
        return crontab_trigger(self.leaderboard_cron, self.zone)

    def stories_call_trigger(self) -> BaseTrigger:
        """When the call for stories is posted (ALLYBOT_STORIES_CALL_CRON, programme zone)."""
        return crontab_trigger(self.stories_call_cron, self.zone)

    def is_admin(self, user_id: str) -> bool:
        """Whether the Slack user is a programme admin."""
        return user_id in self.admins


_ALIASES = {
    name: str(field.validation_alias.choices[0])  # type: ignore[union-attr]
    for name, field in Settings.model_fields.items()
}


def load_settings(**overrides: Any) -> Settings:
    """Load and validate settings; raise ConfigError naming the first bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = _ALIASES.get(field, field)
        if error["type"] == "missing":
            raise ConfigError(
                f"{variable}: is not set (see the configuration table in README.md)"
            ) from None
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{variable}: {message}") from None
