"""Who the requester is, in words, and the short-lived cache of it kept for the preview.

- `Identity`: names, e-mail addresses and Slack IDs that redaction removes (never logged).
- `IdentityCache`: the requester's names fetched when the request modal opens, kept briefly in
  memory so the preview's ack needs no users.info call.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, repr=False)
class Identity:
    """What identifies the requester in words: names, e-mail addresses, Slack user IDs.

    `initials` are the letters of their initials ("kj", "mjwk"), matched standing alone;
    `surname_initials` the first letters of their surnames, so that a sign-off with one ("Hope
    O.") goes with the name. Its repr counts entries and names nobody, so a log line or a
    failed assertion cannot show it. The patterns made from it are kept on it (not in a
    module-wide cache), so they are forgotten with it.
    """

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    initials: tuple[str, ...] = ()
    surname_initials: str = ""
    _compiled: list[Any] = field(default_factory=list, compare=False, hash=False)

    def __repr__(self) -> str:
        return (
            f"<Identity: {len(self.names)} names, {len(self.emails)} e-mails, "
            f"{len(self.user_ids)} IDs>"
        )


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
