"""Who is a volunteer: membership of ALLYBOT_VOLUNTEERS_CHANNEL, cached for at most 60 s.

The cache is short so that someone removed from the channel loses the role within a minute;
every permission check asks it on the server, whatever buttons an old message still shows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

MAX_AGE = 60.0
PAGE = 200


def monotonic() -> float:
    """The cache's clock (a module function, so tests can move time forward)."""
    return time.monotonic()


class VolunteerRoster:
    """The members of the volunteers channel, fetched with conversations.members (paginated)."""

    def __init__(
        self,
        channel: str,
        *,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.channel = channel
        self.max_age = min(max_age, MAX_AGE)
        self._clock = clock
        self._lock = threading.Lock()
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0

    def _now(self) -> float:
        return self._clock() if self._clock is not None else monotonic()

    def members(self, client: WebClient) -> frozenset[str]:
        """The channel's members, from the cache if it is younger than max_age."""
        with self._lock:
            now = self._now()
            if self._members is not None and now - self._fetched_at < self.max_age:
                return self._members
            members: set[str] = set()
            cursor: str | None = None
            while True:
                answer = client.conversations_members(
                    channel=self.channel, limit=PAGE, cursor=cursor
                )
                members.update(str(m) for m in answer.get("members") or [])
                cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
            self._members = frozenset(members)
            self._fetched_at = now
            return self._members

    def is_volunteer(self, client: WebClient, user_id: str) -> bool:
        """Whether the person is in the volunteers channel now (within max_age)."""
        return bool(user_id) and user_id in self.members(client)

    def forget(self) -> None:
        """Drop the cache (the next check asks Slack)."""
        with self._lock:
            self._members = None
