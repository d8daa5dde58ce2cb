"""A readable account of what each person saw, built from the fake Slack's recorded calls."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from bot.devkit.fakeslack import Call, FakeSlack

Write = Callable[[str], None]
Lookup = Callable[[str], str | None]


# Slack's markup in message text: <@U…|label>, <#C…|label>, <!here>, <url|label>.
_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def _decode(text: str) -> str:
    # One pass: "&amp;lt;" is the text "&lt;", not "<".
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def slack_text(text: str, person: Lookup, channel: Lookup) -> str:
    """Message text as Slack shows it: @Real Name, #channel, @here, a link's label (url).

    `person` and `channel` give the name Slack shows for an id, or None when unknown.
    """

    def show(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        label = _decode(label) if label else None
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (person(user_id) or (label or user_id).lstrip("@"))
        if target.startswith("#"):
            channel_id = target[1:]
            return "#" + (channel(channel_id) or label or channel_id)
        if target.startswith("!"):
            command = target[1:].split("^")[0]
            if command in ("here", "channel", "everyone"):
                return "@" + command
            return label or "@" + command
        url = _decode(target)
        if not label or label == url or url == "mailto:" + label:
            return label or url
        return f"{label} ({url})"

    parts: list[str] = []
    cursor = 0
    for match in _TOKEN.finditer(text):
        parts.append(_decode(text[cursor : match.start()]))
        parts.append(show(match))
        cursor = match.end()
    parts.append(_decode(text[cursor:]))
    return "".join(parts)


def blocks_text(blocks: list[dict[str, Any]] | None, fallback: str = "") -> str:
    """The visible text of Block Kit blocks, roughly as Slack shows it."""
    lines: list[str] = []
    for block in blocks or []:
        kind = block.get("type")
        if kind in ("section", "header") and block.get("text"):
            lines.append(block["text"]["text"])
        if kind == "section":
            lines.extend(f["text"] for f in block.get("fields", []))
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines.append(f"[{accessory['text']['text']}]")
        elif kind == "context":
            lines.append(" ".join(e.get("text", "") for e in block.get("elements", [])))
        elif kind == "actions":
            buttons = [e["text"]["text"] for e in block.get("elements", []) if "text" in e]
            lines.append("  ".join(f"[{b}]" for b in buttons))
        elif kind == "input":
            lines.append(f"<{block['label']['text']}>")
        elif kind == "image":
            lines.append(f"(image: {block.get('alt_text', '')})")
        elif kind == "divider":
            lines.append("---")
    return "\n".join(line for line in lines if line) or fallback


class Transcript:
    """Prints, after each step, the Web API calls the app made since the previous step."""

    def __init__(
        self,
        fake: FakeSlack,
        names: dict[str, str],
        write: Write = print,
        people: Mapping[str, str] | None = None,
    ) -> None:
        """`names` says who sees a message; `people` are real names, for mentions in it."""
        self.fake = fake
        self.names = names
        self.write = write
        self.people = dict(people or {})
        self._seen = 0

    def shown(self, blocks: list[dict[str, Any]] | None, fallback: str = "") -> str:
        """Blocks (or the fallback text) as Slack shows them, people by their names."""
        return slack_text(blocks_text(blocks, fallback), self._person, self._channel)

    def _person(self, user_id: str) -> str | None:
        return self.people.get(user_id) or self.fake.user_name(user_id)

    def _channel(self, channel_id: str) -> str | None:
        name = self.fake.channel_name(channel_id)
        return None if name == "directmessage" else name

    def scene(self, title: str) -> None:
        """Start a new part of the story."""
        self.flush()
        self.write(f"\n=== {title} ===")

    def step(self, what: str) -> None:
        """Say what a person does next."""
        self.flush()
        self.write(f"\n> {what}")

    def note(self, what: str) -> None:
        """A remark for the reader."""
        self.write(f"  ({what})")

    def flush(self) -> None:
        """Print what people saw since the last step."""
        calls = self.fake.calls
        for call in calls[self._seen :]:
            line = self._describe(call)
            if line:
                self.write(line)
        self._seen = len(calls)

    def _who(self, channel_or_user: str) -> str:
        if channel_or_user in self.names:
            return self.names[channel_or_user]
        for user_id, name in self.names.items():
            if user_id.startswith("U") and self.fake.im_channel(user_id) == channel_or_user:
                return f"{name} (DM)"
        return channel_or_user

    def _describe(self, call: Call) -> str | None:
        args = call.args
        if not call.ok:
            return f"  ! {call.method} failed: {call.error}"
        if call.method in ("chat.postMessage", "chat.update"):
            verb = "sees" if call.method == "chat.postMessage" else "sees the message change to"
            body = self.shown(args.get("blocks"), args.get("text", ""))
            where = self._who(str(args.get("channel")))
            thread = " (in thread)" if args.get("thread_ts") else ""
            return self._block(f"{where}{thread} {verb}:", body)
        if call.method == "chat.postEphemeral":
            body = self.shown(args.get("blocks"), args.get("text", ""))
            return self._block(f"{self._who(str(args.get('user')))} privately sees:", body)
        if call.method == "response_url":
            body = self.shown(args.get("blocks"), args.get("text", ""))
            return self._block("the person privately sees:", body)
        if call.method in ("views.open", "views.push", "views.update", "views.publish"):
            view = args.get("view") or {}
            if isinstance(view, str):
                view = json.loads(view)
            title = slack_text(
                (view.get("title") or {}).get("text", view.get("type", "view")),
                self._person,
                self._channel,
            )
            who = self._who(str(args.get("user_id", ""))) if args.get("user_id") else "the person"
            return self._block(
                f"{who} sees the '{title}' {view.get('type', 'view')}:",
                self.shown(view.get("blocks")),
            )
        if call.method == "conversations.open" and "," in str(args.get("users", "")):
            people = ", ".join(self._who(u) for u in str(args["users"]).split(","))
            channel = (call.response.get("channel") or {}).get("id")
            if channel:
                self.names[channel] = f"the group DM of {people}"
            return f"  * a group conversation opens for {people}"
        if call.method == "files.completeUploadExternal":
            return "  * a chart image is uploaded"
        return None

    @staticmethod
    def _block(head: str, body: str) -> str:
        return f"  {head}\n" + textwrap.indent(body.strip() or "(empty)", "    | ")
