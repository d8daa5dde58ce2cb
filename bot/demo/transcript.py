"""A readable account of what each person saw, built from the fake Slack's recorded calls."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from bot.fakeslack import Call, FakeSlack

Write = Callable[[str], None]


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
    text = "\n".join(line for line in lines if line) or fallback
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class Transcript:
    """Prints, after each step, the Web API calls the app made since the previous step."""

    def __init__(self, fake: FakeSlack, names: dict[str, str], write: Write = print) -> None:
        self.fake = fake
        self.names = names
        self.write = write
        self._seen = 0

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
            body = blocks_text(args.get("blocks"), args.get("text", ""))
            where = self._who(str(args.get("channel")))
            thread = " (in thread)" if args.get("thread_ts") else ""
            return self._block(f"{where}{thread} {verb}:", body)
        if call.method == "chat.postEphemeral":
            body = blocks_text(args.get("blocks"), args.get("text", ""))
            return self._block(f"{self._who(str(args.get('user')))} privately sees:", body)
        if call.method == "response_url":
            body = blocks_text(args.get("blocks"), args.get("text", ""))
            return self._block("the person privately sees:", body)
        if call.method in ("views.open", "views.push", "views.update", "views.publish"):
            view = args.get("view") or {}
            if isinstance(view, str):
                import json

                view = json.loads(view)
            title = (view.get("title") or {}).get("text", view.get("type", "view"))
            who = self._who(str(args.get("user_id", ""))) if args.get("user_id") else "the person"
            return self._block(
                f"{who} sees the '{title}' {view.get('type', 'view')}:",
                blocks_text(view.get("blocks")),
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
