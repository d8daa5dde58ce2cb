"""Render Block Kit JSON from Jinja2 templates, escaping every value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent

_MRKDWN = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape_mrkdwn(text: object) -> str:
    """Make user text literal in mrkdwn: Slack decodes only &amp; &lt; &gt;."""
    return str(text).translate(_MRKDWN)


def _truncate(text: object, limit: int) -> str:
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def split_text(text: object, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at a line break or space if any.

    For organisation content longer than one Block Kit text (section text is 3000).
    """
    rest = str(text).strip()
    pieces: list[str] = []
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        # JSON, not HTML: every value goes through tojson (and user text through mrkdwn).
        autoescape=False,  # noqa: S701
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mrkdwn"] = escape_mrkdwn
    env.filters["clip"] = _truncate
    env.filters["chunks"] = split_text
    # Jinja's tojson escapes <, >, & as \u003c etc., which Slack decodes back: it is the
    # JSON encoder here, never the mrkdwn escaper (that is the `mrkdwn` filter's job).
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    return env


class MissingIdError(LookupError):
    """A template named an interaction id that no feature declares."""


class _FeatureIds:
    """One feature's ids for templates: `ids.<feature>.<NAME>` is the plain string value.

    An unknown name raises (Jinja would otherwise turn it into an undefined value).
    """

    def __init__(self, feature: str, ids: type[StrEnum]) -> None:
        self._feature = feature
        self._values = {name: str(member.value) for name, member in ids.__members__.items()}

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise MissingIdError(f"ids.{self._feature}.{name}: no such id") from None


class _Namespace:
    """`ids` in every template: one attribute per feature."""

    def __init__(self, features: Mapping[str, type[StrEnum]]) -> None:
        self._features = {name: _FeatureIds(name, ids) for name, ids in features.items()}

    def __getattr__(self, name: str) -> _FeatureIds:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._features[name]
        except KeyError:
            raise MissingIdError(f"ids.{name}: no feature of that name has ids") from None


class _NotHandedOver:
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise MissingIdError(
            f"ids.{name}: no ids were handed to the templates (handlers.use_template_ids)"
        )


_ENV = _environment()
_ENV.globals["ids"] = _NotHandedOver()


def use_ids(features: Mapping[str, type[StrEnum]]) -> None:
    """Give every template `ids.<feature>.<NAME>`, the interaction ids from the layer above.

    `messages` imports no handler, so the handlers layer hands its ids down once.
    """
    _ENV.globals["ids"] = _Namespace(features)


def render(template: str, **data: Any) -> Any:
    """Render a `.json.j2` template with data and parse the result as JSON."""
    if "ids" in data:
        # A per-call `ids` would hide the shared namespace that templates name.
        raise TypeError("ids are not template data: templates read them from use_ids")
    source = _ENV.get_template(template).render(**data)
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"template {template} produced invalid JSON: {exc}") from exc


def render_blocks(template: str, **data: Any) -> list[dict[str, Any]]:
    """Render a template that yields a list of blocks."""
    blocks = render(template, **data)
    if not isinstance(blocks, list):
        raise ValueError(f"template {template} must render a list of blocks")
    return blocks
