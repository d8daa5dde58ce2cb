"""Templates render valid Block Kit and keep user text literal."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import Block

from bot.config import DEFAULT_CONTENT_DIR
from messages.content import load_content
from messages.render import TEMPLATES, escape_mrkdwn, render, render_blocks

HOSTILE = (
    "Help <!channel> <!here> <@U0BOSS> <#C0SECRET> <!subteam^S1> <https://x.example|y> "
    '"quoted" {braces} {{ 7*7 }} {% raw %} & ampersand\nnew line :tada: 🎉'
)


def _validate(blocks: list[dict]) -> None:
    for block in blocks:
        Block.parse(block).validate_json()


def test_escape_replaces_only_what_slack_decodes() -> None:
    """&, < and > become entities; everything else is kept."""
    assert escape_mrkdwn("a & <b> 'c' \"d\"") == "a &amp; &lt;b&gt; 'c' \"d\""


def test_user_section_keeps_hostile_text_literal() -> None:
    """Mentions, links and template syntax in user text arrive as inert text."""
    blocks = render_blocks("help/refusal.json.j2", text="static")
    _validate(blocks)
    from jinja2 import Environment

    from messages.render import _ENV

    assert isinstance(_ENV, Environment)
    template = _ENV.from_string('{% import "common/macros.j2" as m %}[{{ m.user_section(t) }}]')
    block = json.loads(template.render(t=HOSTILE))[0]
    _validate([block])
    text = block["text"]["text"]
    assert block["text"]["verbatim"] is True
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U0BOSS&gt;" in text
    assert "{{ 7*7 }}" in text and "49" not in text
    assert "&amp; ampersand\nnew line :tada: 🎉" in text


def test_user_section_is_clipped_to_the_block_limit() -> None:
    """Very long text is cut to 3000 characters after escaping, never an invalid block."""
    from messages.render import _ENV

    template = _ENV.from_string('{% import "common/macros.j2" as m %}[{{ m.user_section(t) }}]')
    block = json.loads(template.render(t="<" * 3000))[0]
    _validate([block])
    assert len(block["text"]["text"]) == 3000


@pytest.mark.parametrize(
    "template",
    sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.glob("help/*.json.j2")),
)
def test_help_templates_render_valid_blocks(template: str) -> None:
    """Every help template renders valid blocks with the shipped content."""
    content = load_content(DEFAULT_CONTENT_DIR)
    data = {
        "purpose": content.purpose,
        "commands": ["`/ally help`: this message"],
        "text": "refused",
        "query": "",
        "terms": list(content.terms),
        "categories": list(content.categories),
        "not_for": list(content.not_for),
        "handbook": content.handbook,
    }
    blocks = render(template, **data)
    assert isinstance(blocks, list) and blocks
    _validate(blocks)
