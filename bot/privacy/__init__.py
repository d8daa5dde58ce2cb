"""Keeping anonymous requesters anonymous: sealing (`seal`), who they are in words
(`identity`), redaction (`redact`) and quiet logs (`logs`). Import from here."""

from bot.privacy.identity import IDENTITY_SLOTS, IDENTITY_TTL, Identity, IdentityCache
from bot.privacy.logs import PayloadLogFilter, install_log_filter
from bot.privacy.redact import EMAIL, LINK, MENTION, NAME, PHONE, identity_from_user, redact
from bot.privacy.seal import MARKER_INFO, Privacy, privacy

__all__ = [
    "EMAIL",
    "IDENTITY_SLOTS",
    "IDENTITY_TTL",
    "LINK",
    "MARKER_INFO",
    "MENTION",
    "NAME",
    "PHONE",
    "Identity",
    "IdentityCache",
    "PayloadLogFilter",
    "Privacy",
    "identity_from_user",
    "install_log_filter",
    "privacy",
    "redact",
]
