"""Sealing and keyed markers: what lets allybot keep a requester's link without holding it.

- `Privacy.seal/unseal`: Fernet (authenticated encryption) with ALLYBOT_SECRET_KEY, for the
  requester's Slack ID, their DM channel ID and drafts. The key is never stored.
- `Privacy.marker`: HMAC-SHA256 with a key derived from the secret key by HKDF, for equality
  checks (open-case limit, pauses, "my cases") without decrypting anything.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Settings

MARKER_INFO = b"allybot/requester-marker/v1"


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
