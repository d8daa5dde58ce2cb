"""Keeping anonymous requesters anonymous: sealing, keyed markers, redaction, quiet logs.

- `Privacy.seal/unseal`: Fernet (authenticated encryption) with ALLYBOT_SECRET_KEY, for the
  requester's Slack ID, their DM channel ID and drafts. The key is never stored.
- `Privacy.marker`: HMAC-SHA256 with a key derived from the secret key by HKDF, for equality
  checks (open-case limit, pauses, "my cases") without decrypting anything.
- `redact`: removes what may identify the requester before volunteers (or allies) see a text.
- `IdentityCache`: the requester's names fetched when the request modal opens, kept briefly in
  memory so the preview's ack needs no users.info call.
- `install_log_filter`: keeps Slack and SQL payloads (logged at DEBUG by slack_bolt, slack_sdk
  and SQLAlchemy) out of every log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Settings

MARKER_INFO = b"allybot/requester-marker/v1"

MENTION = "[mention removed]"
NAME = "[name removed]"
EMAIL = "[e-mail removed]"
PHONE = "[phone number removed]"
LINK = "[link removed]"


class Privacy:
    """Encryption and keyed markers derived from one secret key (never stored)."""

    def __init__(self, secret_key: str) -> None:
        raw = secret_key.encode()
        self._fernet = Fernet(raw)
        self._marker_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=MARKER_INFO
        ).derive(raw)

    def seal(self, value: str) -> str:
        """Encrypt and authenticate a value; a fresh token every time."""
        return self._fernet.encrypt(value.encode()).decode()

    def unseal(self, token: str) -> str:
        """Decrypt a sealed value; raises ValueError if it was not sealed with this key."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("not a token sealed with this key") from None

    def marker(self, user_id: str) -> str:
        """A keyed hash of a Slack ID: equal IDs give equal markers, nothing gives the ID back."""
        return hmac.new(self._marker_key, user_id.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _privacy_for(secret_key: str) -> Privacy:
    return Privacy(secret_key)


def privacy(settings: Settings) -> Privacy:
    """The Privacy helper for these settings' ALLYBOT_SECRET_KEY."""
    return _privacy_for(settings.secret_key.get_secret_value())


# Redaction


@dataclass(frozen=True)
class Identity:
    """What identifies the requester in words: names and e-mail addresses."""

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


def identity_from_user(user: dict[str, Any]) -> Identity:
    """The requester's names and e-mail from a users.info `user` object."""
    profile = user.get("profile") or {}
    candidates = [
        user.get("name"),
        user.get("real_name"),
        profile.get("real_name"),
        profile.get("real_name_normalized"),
        profile.get("display_name"),
        profile.get("display_name_normalized"),
        profile.get("first_name"),
        profile.get("last_name"),
    ]
    names: list[str] = []
    for value in candidates:
        if not value:
            continue
        full = _normalise(str(value)).strip()
        names.append(full)
        # "Priya Raman" also appears as "Priya" or "Raman"; "priya.raman" as its parts.
        names.extend(part for part in re.split(r"[\s._\-]+", full) if part)
    emails = [_normalise(str(profile["email"]))] if profile.get("email") else []
    words = {n for n in names if len(n) >= 2}
    return Identity(names=tuple(sorted(words, key=len, reverse=True)), emails=tuple(emails))


# How long a fetched identity is used, and for how many people at most (per process).
IDENTITY_TTL = 15 * 60.0
IDENTITY_SLOTS = 1000


class IdentityCache:
    """Identities fetched when someone opens the request modal, for their preview's redaction.

    In memory only (never stored, never logged: its repr counts entries), thread-safe, at most
    `size` people (the least recently stored go first), each for `ttl` seconds. A miss is
    normal (another replica opened the modal, the fetch failed): the caller looks it up then.
    """

    def __init__(
        self,
        *,
        ttl: float = IDENTITY_TTL,
        size: int = IDENTITY_SLOTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Identity]] = OrderedDict()

    def put(self, user_id: str, identity: Identity) -> None:
        """Keep this person's identity for ttl seconds from now."""
        with self._lock:
            self._entries[user_id] = (self._clock(), identity)
            self._entries.move_to_end(user_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get(self, user_id: str) -> Identity | None:
        """The person's identity if it was stored less than ttl seconds ago, else None."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None:
                return None
            stored_at, identity = entry
            if self._clock() - stored_at >= self.ttl:
                del self._entries[user_id]
                return None
            return identity

    def discard(self, user_id: str) -> None:
        """Forget one person's identity (they asked to be forgotten)."""
        with self._lock:
            self._entries.pop(user_id, None)

    def clear(self) -> None:
        """Forget every identity."""
        with self._lock:
            self._entries.clear()

    def __repr__(self) -> str:
        with self._lock:
            return f"<IdentityCache: {len(self._entries)} of {self.size}>"


_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Anything in angle brackets is Slack markup: <@U…>, <#C…|x>, <!here>, <!subteam^…>, <url|label>.
_MARKUP = re.compile(r"<[^<>\n]*>")
_BROADCAST = re.compile(r"(?<!\w)@(?:here|channel|everyone)\b", re.IGNORECASE)
_EMAIL = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|\s*(?:\(at\)|\[at\])\s*)[\w-]+(?:(?:\.|\s*(?:\(dot\)|\[dot\])\s*)[\w-]+)+",
    re.IGNORECASE,
)
_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.\-]*://\S+)"  # scheme://...
    r"|(?:\bwww\.\S+)"
    r"|(?:\b(?:mailto|tel|slack):\S+)"
    r"|(?:\b(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?/\S*)",  # host/path
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@])@[\w.\-]{2,}")
# PhoneNumberMatcher misses numbers without a country code outside its region, numbers split
# by unusual separators and long digit runs; any run of 7+ digits is treated as a number.
_DIGIT_RUN = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().\-/\\]{0,3}\d){6,}(?![\w])")
_PHONE_REGIONS = ("GB", "US", "FR", "DE", "IN", "NL", "ES", "IT", "AU", "CA")
_LENIENCY = phonenumbers.Leniency.VALID
# A date is not a phone number (2024-05-01, 01/05/2024, 1.5.2024).
_DATE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_TRAILING = ".,;:!?)]}'\""


def _normalise(text: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def _spans(pattern: re.Pattern[str], text: str, label: str) -> Iterable[tuple[int, int, str]]:
    for match in pattern.finditer(text):
        yield match.start(), match.end(), label


def _url_spans(text: str) -> Iterable[tuple[int, int, str]]:
    for match in _URL.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in _TRAILING:
            end -= 1
        yield match.start(), end, LINK


def _phone_spans(text: str) -> Iterable[tuple[int, int, str]]:
    for region in _PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=_LENIENCY):
            yield match.start, match.end, PHONE
    for run in _DIGIT_RUN.finditer(text):
        if not _DATE.match(run.group()):
            yield run.start(), run.end(), PHONE


def _name_spans(text: str, identity: Identity) -> Iterable[tuple[int, int, str]]:
    for name in identity.names:
        pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)
        yield from _spans(pattern, text, NAME)
    for email in identity.emails:
        yield from _spans(re.compile(re.escape(email), re.IGNORECASE), text, EMAIL)


def redact(text: str, identity: Identity = Identity()) -> str:
    """The text with mentions, links, e-mails, phone numbers and the requester's names removed."""
    text = _normalise(text)
    spans = [
        *_spans(_MARKUP, text, MENTION),
        *_spans(_BROADCAST, text, MENTION),
        *_spans(_EMAIL, text, EMAIL),
        *_url_spans(text),
        *_phone_spans(text),
        *_name_spans(text, identity),
        *_spans(_HANDLE, text, MENTION),
    ]
    if not spans:
        return text
    # Merge overlapping spans (the earliest, longest wins the label) and rebuild the text once.
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: list[list[Any]] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, label])
    out: list[str] = []
    cursor = 0
    for start, end, label in merged:
        out.append(text[cursor:start])
        out.append(label)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


# Logs

_PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk", "allybot.bolt", "sqlalchemy", "urllib3")


class PayloadLogFilter(logging.Filter):
    """Drops DEBUG records of libraries that log Slack payloads and SQL rows verbatim."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it is a library's DEBUG line (which may carry a payload)."""
        if record.levelno >= logging.INFO:
            return True
        name = record.name
        return not any(
            name == p or name.startswith(p + ".") or name.startswith(p + ":")
            for p in _PAYLOAD_LOGGERS
        )


_FILTER = PayloadLogFilter()


def install_log_filter() -> None:
    """Keep request/response bodies out of the logs, whatever level a handler or test sets.

    The libraries' loggers are raised to INFO (so the records are not even made) and every one
    of them that exists gets the filter (so a level lowered later still logs no payload). Bolt
    copies the filters and level of the logger given to App() onto the loggers it creates.
    """
    manager = logging.Logger.manager
    for prefix in _PAYLOAD_LOGGERS:
        root = logging.getLogger(prefix)
        if root.level == logging.NOTSET or root.level < logging.INFO:
            root.setLevel(logging.INFO)
    for name in list(manager.loggerDict):
        if any(name == p or name.startswith((p + ".", p + ":")) for p in _PAYLOAD_LOGGERS):
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
