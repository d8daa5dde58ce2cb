"""manifest.yml is a valid Slack manifest and matches what the app listens to."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from handlers import register_all

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_NAME = "shared/slack/manifest.schema.1.0.0.json"
# CI keeps shared/ beside the checkout; a fresh clone elsewhere finds the workplace's copy.
SCHEMA_PLACES = [ROOT.parent / SCHEMA_NAME, Path("/work") / SCHEMA_NAME]


def _manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


class RecordingApp:
    """Stands in for Bolt's App during registration and notes every listener's trigger."""

    def __init__(self) -> None:
        self.registered: dict[str, set[str]] = {}

    def _note(self, kind: str, key: object) -> Callable[..., Any]:
        if isinstance(key, dict):
            key = key.get("type", "") + (
                "." + key["channel_type"] if key.get("type") == "message" else ""
            )
        self.registered.setdefault(kind, set()).add(str(key))
        return lambda *args, **kwargs: args[0] if args and callable(args[0]) else None

    def command(self, name: str, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._note("command", name)

    def shortcut(self, constraints: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        key = constraints.get("callback_id") if isinstance(constraints, dict) else constraints
        return self._note("shortcut", key)

    def event(self, event: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        # Bolt cannot filter message events by channel type; the app's only message
        # listener is for DMs (its matcher checks), so it needs the message.im subscription.
        return self._note("event", "message.im" if event == "message" else event)

    def message(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._note("event", "message.im")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # actions, views, options and the like are not declared in the manifest
        return lambda *args, **kwargs: self._note(name, args[0] if args else "")


@pytest.fixture(scope="module")
def registered() -> dict[str, set[str]]:
    """What the real registration code asks Bolt to listen to."""
    app = RecordingApp()
    register_all(app)  # type: ignore[arg-type]
    return app.registered


def test_manifest_is_valid_against_slacks_schema() -> None:
    """The manifest validates against Slack's own JSON Schema."""
    schema_path = next((p for p in SCHEMA_PLACES if p.is_file()), None)
    assert schema_path, f"Slack's manifest schema not found in {SCHEMA_PLACES}"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.validate(_manifest(), schema)


def test_slash_commands_match(registered: dict[str, set[str]]) -> None:
    """Every slash command the app handles is declared, and the other way round."""
    declared = {c["command"] for c in _manifest()["features"]["slash_commands"]}
    assert registered["command"] == declared


def test_shortcuts_match(registered: dict[str, set[str]]) -> None:
    """Every shortcut the app handles is declared, and the other way round."""
    declared = {s["callback_id"] for s in _manifest()["features"].get("shortcuts", [])}
    assert registered.get("shortcut", set()) == declared


def test_bot_events_match(registered: dict[str, set[str]]) -> None:
    """Every event the app handles is subscribed, and the other way round."""
    declared = set(_manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert registered.get("event", set()) == declared


def test_scopes_cover_what_the_app_does() -> None:
    """The scopes needed by the features SPEC section 5 names are requested."""
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    needed = {
        "commands",
        "chat:write",
        "im:write",
        "im:history",
        "mpim:write",
        "reactions:read",
        "users:read",
        "users:read.email",
        "files:write",
        "groups:read",
        "channels:read",
    }
    assert needed <= scopes
    assert _manifest()["settings"]["interactivity"]["is_enabled"] is True
    assert _manifest()["features"]["app_home"]["home_tab_enabled"] is True
