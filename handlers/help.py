"""`/ally help`, `/ally lexicon [term]`, `/ally handbook` and `/ally-admin help`."""

from __future__ import annotations

from slack_bolt import App

from handlers.common.commands import Invocation, Routes, help_for
from messages.render import render_blocks


def register(app: App, commands: Routes) -> None:
    """Add the help and content subcommands."""
    commands.ally.add("help", help_for(commands.ally), "`/ally help`: this message")
    commands.ally.add(
        "lexicon",
        on_lexicon_command,
        "`/ally lexicon [term]`: what words mean here, and what you can ask an ally for",
    )
    commands.ally.add("handbook", on_handbook_command, "`/ally handbook`: the ally handbook")
    commands.admin.add("help", help_for(commands.admin), "`/ally-admin help`: this message")


def on_lexicon_command(call: Invocation) -> None:
    """Show the lexicon, or the terms matching the text typed."""
    call.ack()
    content = call.deps.content
    terms = content.find_terms(call.args) if call.args else list(content.terms)
    blocks = render_blocks(
        "help/lexicon.json.j2",
        query=call.args,
        terms=terms,
        categories=content.categories if not call.args else [],
        not_for=content.not_for if not call.args else [],
    )
    call.reply("The programme's lexicon", blocks)


def on_handbook_command(call: Invocation) -> None:
    """Show the ally handbook."""
    call.ack()
    blocks = render_blocks("help/handbook.json.j2", handbook=call.deps.content.handbook)
    call.reply("The ally handbook", blocks)
