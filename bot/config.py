"""Settings: every variable of SPEC section 5, validated once at start-up."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "messages" / "content"

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


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


def _names(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ChannelId = Annotated[str, BeforeValidator(_channel_id)]
UserIds = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_user_ids)]
Names = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_names)]


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
    database_url: str = Field(
        default="sqlite:///allybot.db", validation_alias=AliasChoices("DATABASE_URL")
    )
    allies_channel: ChannelId = _env("ALLYBOT_ALLIES_CHANNEL")
    volunteers_channel: ChannelId = _env("ALLYBOT_VOLUNTEERS_CHANNEL")
    announcements_channel: ChannelId = _env("ALLYBOT_ANNOUNCEMENTS_CHANNEL")
    admins: UserIds = Field(default=(), validation_alias=AliasChoices("ALLYBOT_ADMINS"))
    secret_key: SecretStr = _env("ALLYBOT_SECRET_KEY")
    interest_emoji: str = Field(
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
    min_group: int = Field(default=5, ge=2, validation_alias=AliasChoices("ALLYBOT_MIN_GROUP"))
    business_units: Names = Field(
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

    @field_validator("leaderboard_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a crontab expression ({exc})") from None
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
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The programme's time zone."""
        return ZoneInfo(self.timezone)

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
