"""Render Block Kit JSON from Jinja2 templates, escaping every value."""

from __future__ import annotations

import json
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


_ENV = _environment()


def render(template: str, **data: Any) -> Any:
    """Render a `.json.j2` template with data and parse the result as JSON."""
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
