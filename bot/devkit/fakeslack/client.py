"""Sends Slack-signed slash commands, interactions and events to the app over HTTP."""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.devkit.fakeslack.payloads import action_entry, find_element, view_state
from bot.devkit.fakeslack.server import FakeSlack
from bot.devkit.fakeslack.validation import iter_elements

API_APP_ID = "AFAKEAPP"
# Deprecated by Slack but still sent in payloads; a placeholder, not a secret.
VERIFICATION_TOKEN = "fake-verification-token"  # noqa: S105
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class Response:
    """What the app answered: status, body text and headers."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """Return the body decoded as JSON (None when the body is empty)."""
        return json.loads(self.body) if self.body.strip() else None


class SignedClient:
    """Plays Slack's part towards the app: signs and posts requests to POST /slack/events."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        fake: FakeSlack,
        team_id: str = "T0001",
        clock: Callable[[], float] = time.time,
        *,
        path: str = "/slack/events",
        timeout: float = 10.0,
    ) -> None:
        if not app_url.startswith(("http://", "https://")):
            raise ValueError(f"app_url must be an http(s) URL, got {app_url!r}")
        self.url = app_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.fake = fake
        self.team_id = team_id
        self.clock = clock
        self.timeout = timeout
        self._event_counter = itertools.count(1)

    # transport

    def post_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        sign: bool = True,
        signing_secret: str | None = None,
        timestamp: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Post a body as is, signed (optionally with another secret or timestamp) or not."""
        request_headers = {"Content-Type": content_type, **(headers or {})}
        if sign:
            ts = timestamp if timestamp is not None else str(int(self.clock()))
            verifier = SignatureVerifier(signing_secret or self.signing_secret)
            signature = verifier.generate_signature(timestamp=ts, body=body)
            request_headers["X-Slack-Request-Timestamp"] = ts
            request_headers["X-Slack-Signature"] = signature or ""
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.url, data=body, headers=request_headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310
                return Response(reply.status, reply.read().decode(), dict(reply.headers.items()))
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            return Response(error.code, text, dict(error.headers.items()))

    def post_form(self, fields: dict[str, str], **kwargs: Any) -> Response:
        """Post form fields, signed."""
        return self.post_raw(urlencode(fields).encode(), FORM, **kwargs)

    def post_payload(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        """Post an interactivity payload as Slack does: form field payload= JSON."""
        return self.post_form({"payload": json.dumps(payload)}, **kwargs)

    def post_json(self, body: dict[str, Any], **kwargs: Any) -> Response:
        """Post a JSON body (events), signed."""
        return self.post_raw(json.dumps(body).encode(), JSON, **kwargs)

    # pieces of payloads

    def _user(self, user_id: str) -> dict[str, Any]:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _user_name(self, user_id: str) -> str:
        return self.fake.user_name(user_id) or user_id.lower()

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.fake.team_domain}

    def _channel_name(self, channel_id: str) -> str:
        return self.fake.channel_name(channel_id) or channel_id.lower()

    def _base(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": VERIFICATION_TOKEN,
            "api_app_id": API_APP_ID,
            "team": self._team(),
            "user": self._user(user_id),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # slash commands and shortcuts

    def slash(
        self, command: str, text: str = "", user_id: str = "U0001", channel_id: str = "C_GENERAL"
    ) -> Response:
        """Run a slash command as a person in a channel."""
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.fake.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.new_response_url(user_id=user_id, channel_id=channel_id),
            "trigger_id": self.fake.new_trigger_id(user_id),
        }
        return self.post_form(fields)

    def shortcut(self, callback_id: str, user_id: str) -> Response:
        """Run a global shortcut."""
        payload = self._base("shortcut", user_id)
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.fake.new_trigger_id(user_id),
                "action_ts": f"{time.time():.6f}",
            }
        )
        return self.post_payload(payload)

    # block actions

    def click(
        self,
        user_id: str,
        action_id: str,
        *,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        value: Any = None,
        channel: str | None = None,
    ) -> Response:
        """Click (or choose in) the element with this action_id in a stored message or view."""
        blocks = _surface_blocks(message, view)
        found = find_element(blocks, action_id)
        if found is None:
            present = [
                e.get("action_id") for b in blocks for e in iter_elements(b) if e.get("action_id")
            ]
            raise AssertionError(f"no element with action_id {action_id!r}; present: {present}")
        block_id, element = found
        chosen = value if value is not None else element.get("value")
        action = action_entry(block_id, element, chosen)
        return self._send_actions(user_id, action, message=message, view=view, channel=channel)

    def click_raw(
        self,
        user_id: str,
        action_id: str,
        value: Any,
        block_id: str = "b",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        *,
        channel: str | None = None,
    ) -> Response:
        """Click a button by action_id and value alone (e.g. one on an old message)."""
        element = {"type": "button", "action_id": action_id, "value": value}
        element["text"] = {"type": "plain_text", "text": action_id}
        action = action_entry(block_id, element, value)
        return self._send_actions(user_id, action, message=message, view=view, channel=channel)

    def _send_actions(
        self,
        user_id: str,
        action: dict[str, Any],
        *,
        message: dict[str, Any] | None,
        view: dict[str, Any] | None,
        channel: str | None,
    ) -> Response:
        payload = self._base("block_actions", user_id)
        payload["actions"] = [action]
        payload["state"] = {"values": {}}
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = copy.deepcopy(view)
            payload["trigger_id"] = self.fake.new_trigger_id(user_id, view_id=view["id"])
        else:
            channel_id = channel or (message or {}).get("channel") or "C_GENERAL"
            # Ephemeral messages are stored with message_ts (as chat.postEphemeral answers).
            ephemeral = message is not None and "ts" not in message and "message_ts" in message
            ts = (message or {}).get("message_ts" if ephemeral else "ts")
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            if message is not None:
                shown = copy.deepcopy(message)
                shown.pop("channel", None)
                payload["message"] = shown
            payload["response_url"] = self.fake.new_response_url(
                user_id=user_id, channel_id=channel_id, message_ts=ts
            )
            payload["trigger_id"] = self.fake.new_trigger_id(user_id)
        return self.post_payload(payload)

    # views

    def submit_view(
        self, user_id: str, view: dict[str, Any], values: dict[str, Any] | None = None
    ) -> Response:
        """Submit a stored view with values by block_id; the fake applies the app's answer."""
        submitted = copy.deepcopy(view)
        submitted["state"] = {"values": view_state(view, values or {})}
        payload = self._base("view_submission", user_id)
        payload.update(
            {
                "view": submitted,
                "trigger_id": self.fake.new_trigger_id(user_id, view_id=view["id"]),
                "response_urls": [],
            }
        )
        response = self.post_payload(payload)
        if response.status == 200:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            self.fake.apply_view_response(
                user_id, view["id"], answer if isinstance(answer, dict) else None
            )
        return response

    def close_view(self, user_id: str, view: dict[str, Any]) -> Response:
        """Close a view with the X button, sending view_closed."""
        payload = self._base("view_closed", user_id)
        payload.update({"view": copy.deepcopy(view), "is_cleared": False})
        response = self.post_payload(payload)
        self.fake.apply_view_response(user_id, view["id"], None)
        return response

    # events

    def event(
        self,
        event: dict[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        event_id: str | None = None,
    ) -> Response:
        """Deliver an event in an event_callback envelope, optionally as a retry."""
        now = self.clock()
        body = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": API_APP_ID,
            "event": {"event_ts": f"{now:.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or self.new_event_id(),
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": secrets.token_hex(16),
        }
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post_json(body, headers=headers)

    def new_event_id(self) -> str:
        """Return a fresh unique event_id."""
        return f"Ev{next(self._event_counter):06d}{secrets.token_hex(4).upper()}"

    def url_verification(self, challenge: str = "challenge-token") -> Response:
        """Send the url_verification handshake."""
        return self.post_json(
            {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        )

    def reaction_added(self, user_id: str, reaction: str, channel: str, ts: str) -> Response:
        """React to a stored message and deliver reaction_added."""
        self.fake.add_reaction(channel, ts, reaction, user_id)
        return self.event(self._reaction_event("reaction_added", user_id, reaction, channel, ts))

    def reaction_removed(self, user_id: str, reaction: str, channel: str, ts: str) -> Response:
        """Remove a reaction from a stored message and deliver reaction_removed."""
        self.fake.remove_reaction(channel, ts, reaction, user_id)
        return self.event(self._reaction_event("reaction_removed", user_id, reaction, channel, ts))

    def _reaction_event(
        self, kind: str, user_id: str, reaction: str, channel: str, ts: str
    ) -> dict[str, Any]:
        item_user = self.fake.message(channel, ts).get("user")
        return {
            "type": kind,
            "user": user_id,
            "reaction": reaction,
            "item_user": item_user,
            "item": {"type": "message", "channel": channel, "ts": ts},
        }

    def app_home_opened(self, user_id: str) -> Response:
        """Deliver app_home_opened for a person's Home tab."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.fake.im_channel(user_id),
            "tab": "home",
        }
        home = self.fake.home_view(user_id)
        if home is not None:
            event["view"] = home
        return self.event(event)

    def dm_message(
        self,
        user_id: str,
        channel: str | None,
        text: str,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> Response:
        """Store a message a person writes in their DM with the bot and deliver message.im."""
        channel_id = channel or self.fake.im_channel(user_id)
        stored = self.fake.add_user_message(
            channel_id, user_id, text, thread_ts=thread_ts, files=files
        )
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel_id,
            "user": user_id,
            "text": text,
            "ts": stored["ts"],
            "team": self.team_id,
            "client_msg_id": secrets.token_hex(16),
            "channel_type": "im",
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        if files:
            event["files"] = files
            event["subtype"] = "file_share"
        return self.event(event)


def _surface_blocks(
    message: dict[str, Any] | None, view: dict[str, Any] | None
) -> list[dict[str, Any]]:
    if (message is None) == (view is None):
        raise AssertionError("click needs exactly one of message= or view=")
    surface = message if message is not None else view
    assert surface is not None
    return list(surface.get("blocks") or [])
