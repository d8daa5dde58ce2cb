"""The simulated workspace behind the fake Slack: people, conversations, messages, views."""

from __future__ import annotations

import copy
import hashlib
import mimetypes
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.devkit.fakeslack.validation import ApiError, fill_generated_ids

MAX_VIEW_STACK = 3
RESPONSE_URL_MAX_POSTS = 5
RESPONSE_URL_TTL = 30 * 60.0
_TS_BASE = 1_700_000_000


@dataclass
class User:
    """A workspace member as users.info describes them."""

    id: str
    name: str
    real_name: str
    display_name: str
    email: str | None
    is_bot: bool
    is_admin: bool
    tz: str
    team_id: str
    bot_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        """Return the Slack user object."""
        offset = _tz_offset(self.tz)
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": self.team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": offset,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation: public or private channel, IM or multi-person IM."""

    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    members: list[str] = field(default_factory=list)
    user: str | None = None
    created: int = _TS_BASE

    def to_api(self, bot_user_id: str) -> dict[str, Any]:
        """Return the Slack conversation object."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "created": self.created,
            "is_archived": False,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_org_shared": False,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
        }


@dataclass
class Trigger:
    """An issued trigger_id: who it belongs to, when it was issued, whether it was used."""

    user_id: str | None
    issued_at: float
    view_id: str | None = None
    used: bool = False


@dataclass
class ResponseUrl:
    """An issued response_url and the context a post to it applies to."""

    id: str
    issued_at: float
    user_id: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    posts: int = 0


@dataclass
class UploadedFile:
    """A file announced by files.getUploadURLExternal and possibly uploaded."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channels: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        """Return the Slack file object."""
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": len(self.content or b""),
            "mimetype": _mimetype(self.filename),
            "url_private": f"https://files.example.invalid/{self.id}/{self.filename}",
            "channels": list(self.channels),
        }


@dataclass(frozen=True)
class RejectedPayload:
    """A payload the fake refused as Slack would: the method, where, and the limit broken."""

    method: str
    path: str
    limit: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.method}: {where}{self.limit}"


# Slack's answers that refuse the payload itself (its shape, size or arguments).
PAYLOAD_ERRORS = frozenset(
    {
        "invalid_arguments",
        "invalid_attachments",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_payload",
        "msg_too_long",
        "no_text",
    }
)


class Workspace:
    """All mutable state of the fake; callers hold the FakeSlack lock around every use."""

    def __init__(
        self,
        *,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        clock: Callable[[], float],
        trigger_ttl: float,
    ) -> None:
        self.team_id = team_id
        self.team_domain = "allybot-demo"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.public_url = ""
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.view_owner: dict[str, str | None] = {}
        self.view_stacks: dict[str | None, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files: dict[str, UploadedFile] = {}
        # Every Block Kit refusal, kept so a test (or the demo) that swallowed it still fails.
        self.rejected: list[RejectedPayload] = []
        self._counter = 0
        self._ts_counter = 0

    def reject(self, method: str, error: ApiError) -> None:
        """Record a refused payload: each Block Kit violation, or Slack's error and messages.

        Errors about the workspace (a channel the bot cannot see, an expired trigger, a
        rate limit) are answers the app must handle, not payloads Slack refused.
        """
        if error.violations:
            self.rejected.extend(RejectedPayload(method, v.path, v.limit) for v in error.violations)
        elif error.error in PAYLOAD_ERRORS:
            detail = "; ".join(error.messages)
            limit = f"{error.error}: {detail}" if detail else error.error
            self.rejected.append(RejectedPayload(method, "", limit))

    # ids

    def next_id(self, prefix: str) -> str:
        """Return a new unique Slack-style id with the given prefix."""
        self._counter += 1
        return f"{prefix}{self._counter:08d}"

    def next_ts(self) -> str:
        """Return a message ts strictly greater than every earlier one."""
        self._ts_counter += 100
        seconds, micros = divmod(self._ts_counter, 1_000_000)
        return f"{_TS_BASE + seconds}.{micros:06d}"

    # people and conversations

    def user(self, user_id: Any) -> User:
        """Return a user or fail with user_not_found."""
        if not isinstance(user_id, str) or user_id not in self.users:
            raise ApiError("user_not_found")
        return self.users[user_id]

    def channel(self, channel_id: Any) -> Channel:
        """Return a conversation the bot can see, by id or name, or fail with channel_not_found."""
        if not isinstance(channel_id, str) or not channel_id:
            raise ApiError("channel_not_found")
        found = self.channels.get(channel_id)
        if found is None:
            name = channel_id.removeprefix("#")
            found = next(
                (c for c in self.channels.values() if c.name == name and not c.is_im), None
            )
        if found is None or (
            (found.is_private or found.is_mpim) and self.bot_user_id not in found.members
        ):
            # Slack hides private conversations the bot is not in.
            raise ApiError("channel_not_found")
        return found

    def open_im(self, user_id: str) -> Channel:
        """Return the bot's IM with a user, creating it with a stable id."""
        self.user(user_id)
        for existing in self.channels.values():
            if existing.is_im and existing.user == user_id:
                return existing
        channel_id = "D" + user_id[1:] if user_id[:1] in ("U", "W") else "D" + user_id
        if channel_id in self.channels:
            channel_id = self.next_id("D")
        im = Channel(
            id=channel_id,
            name=user_id,
            is_im=True,
            members=[user_id, self.bot_user_id],
            user=user_id,
        )
        self.channels[im.id] = im
        return im

    def open_mpim(self, user_ids: list[str]) -> Channel:
        """Return the multi-person IM of the bot and these users, stable per member set."""
        for user_id in user_ids:
            self.user(user_id)
        members = sorted({*user_ids, self.bot_user_id})
        digest = hashlib.sha1("|".join(members).encode(), usedforsecurity=False).hexdigest()
        channel_id = "G" + digest[:10].upper()
        if channel_id not in self.channels:
            names = "--".join(self.users[m].name for m in members if m in self.users)
            self.channels[channel_id] = Channel(
                id=channel_id, name=f"mpdm-{names}-1", is_mpim=True, members=members
            )
        return self.channels[channel_id]

    def post_target(self, channel_id: Any) -> Channel:
        """Resolve chat.postMessage's channel: a conversation, or a user id meaning their DM."""
        if (
            isinstance(channel_id, str)
            and channel_id[:1] in ("U", "W")
            and channel_id in self.users
        ):
            return self.open_im(channel_id)
        return self.channel(channel_id)

    # messages

    def store_message(self, channel: Channel, message: dict[str, Any]) -> dict[str, Any]:
        """Append a message to a conversation, giving it the next ts."""
        message = {"type": "message", **message, "ts": self.next_ts(), "channel": channel.id}
        self.messages.setdefault(channel.id, []).append(message)
        return message

    def bot_message(self, channel: Channel, content: dict[str, Any]) -> dict[str, Any]:
        """Store a message written by the bot and return it."""
        return self.store_message(
            channel,
            {"user": self.bot_user_id, "bot_id": self.bot_id, "team": self.team_id, **content},
        )

    def find_message(self, channel_id: str, ts: Any) -> dict[str, Any]:
        """Return a stored message or fail with message_not_found."""
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise ApiError("message_not_found")

    def find_original(
        self, channel_id: str, ts: Any
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The message a response_url answers, in the list holding it: the channel's history
        or, for an ephemeral message, the ephemerals (Slack replaces and deletes both)."""
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return self.messages[channel_id], message
        for ephemeral in self.ephemerals:
            if ephemeral["channel"] == channel_id and ephemeral["message_ts"] == ts:
                return self.ephemerals, ephemeral
        raise ApiError("message_not_found", status=404)

    def delete_message(self, channel_id: str, ts: str) -> None:
        """Remove a stored message."""
        message = self.find_message(channel_id, ts)
        self.messages[channel_id].remove(message)

    # triggers and views

    def issue_trigger(self, user_id: str | None, view_id: str | None = None) -> str:
        """Issue a fresh trigger_id."""
        trigger_id = f"{_TS_BASE}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(
            user_id=user_id, issued_at=self.clock(), view_id=view_id
        )
        return trigger_id

    def use_trigger(self, trigger_id: Any) -> Trigger:
        """Consume a trigger_id, failing as Slack does when unknown, used or expired."""
        trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used or self.clock() - trigger.issued_at > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    def store_view(
        self, view: dict[str, Any], owner: str | None, *, view_id: str | None = None
    ) -> dict[str, Any]:
        """Store a (new or replacing) view and return Slack's view object."""
        view_id = view_id or self.next_id("V")
        previous = self.views.get(view_id, {})
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": fill_generated_ids(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", previous.get("external_id", "")),
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": previous.get("previous_view_id"),
            "app_id": "AFAKEAPP",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self.views[view_id] = stored
        self.view_owner[view_id] = owner
        return stored

    def find_view(self, view_id: Any, external_id: Any) -> dict[str, Any]:
        """Return a stored view by id or external_id, or fail with not_found."""
        if isinstance(view_id, str) and view_id in self.views:
            return self.views[view_id]
        if isinstance(external_id, str) and external_id:
            for view in self.views.values():
                if view.get("external_id") == external_id:
                    return view
        raise ApiError("not_found")

    def open_stack(self, owner: str | None, view: dict[str, Any]) -> dict[str, Any]:
        """Open a modal as a new stack for its owner."""
        stored = self.store_view(view, owner)
        self.view_stacks[owner] = [stored["id"]]
        return stored

    def push_stack(self, owner: str | None, view: dict[str, Any]) -> dict[str, Any]:
        """Push a modal onto its owner's open stack."""
        stack = self.view_stacks.get(owner) or []
        if not stack:
            raise ApiError("invalid_trigger_id", ["[ERROR] no modal is open to push onto"])
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        stored = self.store_view(view, owner)
        stored["root_view_id"] = stack[0]
        stored["previous_view_id"] = stack[-1]
        stack.append(stored["id"])
        return stored

    def pop_view(self, owner: str | None, view_id: str, *, clear: bool = False) -> None:
        """Close a view (or the whole stack) as Slack does after a submission."""
        stack = self.view_stacks.get(owner) or []
        if clear:
            stack.clear()
        elif view_id in stack:
            del stack[stack.index(view_id) :]

    def open_views(self, owner: str | None) -> list[dict[str, Any]]:
        """Return copies of a user's open modal stack, bottom first."""
        return [copy.deepcopy(self.views[v]) for v in self.view_stacks.get(owner, [])]

    # response_url

    def issue_response_url(
        self, *, user_id: str | None, channel_id: str | None, message_ts: str | None
    ) -> str:
        """Issue a response_url id remembering what it responds to."""
        url_id = secrets.token_hex(12)
        self.response_urls[url_id] = ResponseUrl(
            id=url_id,
            issued_at=self.clock(),
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
        )
        return url_id


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except ZoneInfoNotFoundError:
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


def _mimetype(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
