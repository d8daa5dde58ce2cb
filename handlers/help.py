"""`/ally help`, `/ally lexicon [term]`, `/ally handbook` and `/ally-admin help`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from handlers.common.commands import Invocation, Routes, help_for
from handlers.common.listeners import Listeners
from messages.content import Category, Term
from messages.render import render_blocks


class Ids(StrEnum):
    """The help message's own block id (its buttons are other features')."""

    ACTIONS = "help_actions"


# Slack refuses whole messages over about 12,000 characters (SLACK_FACTS): a long lexicon is
# sent as several messages of at most PAGE_CHARS characters of entries each (the header,
# headings, fallback and closing counts take well under the remaining 1,000), and at most
# MAX_PAGES of them; what does not fit is counted in the last one.
PAGE_CHARS = 11_000
MAX_PAGES = 5
SECTION_CHARS = 3000


def register(on: Listeners, commands: Routes) -> None:
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
    """Show the lexicon, or the terms matching the text typed, in messages Slack accepts."""
    call.ack()
    content = call.deps.content
    terms = content.find_terms(call.args) if call.args else list(content.terms)
    pages = lexicon_pages(
        query=call.args,
        terms=terms,
        categories=list(content.categories) if not call.args else [],
        not_for=list(content.not_for) if not call.args else [],
    )
    for page in pages:
        call.reply(page["fallback"], render_blocks("help/lexicon.json.j2", **page))


def _term_cost(term: Term) -> int:
    return min(len(term.term) + len(term.definition) + 4, SECTION_CHARS)


def _pack(costs: list[int]) -> list[int]:
    """How many pieces each message takes, the pieces' costs given in order."""
    counts: list[int] = []
    size = PAGE_CHARS
    for cost in costs:
        if counts and counts[-1] and size + cost <= PAGE_CHARS:
            counts[-1] += 1
            size += cost
        else:
            counts.append(1)
            size = cost
    return counts or [0]


def lexicon_pages(
    *, query: str, terms: list[Term], categories: list[Category], not_for: list[str]
) -> list[dict[str, Any]]:
    """The lexicon as the data of at most MAX_PAGES messages, each within Slack's size.

    Terms come first, then what one can ask an ally for, then what allies are not for.
    When everything does not fit, terms are left out first (anyone can ask for one by
    name), then the last lines of the two lists; the last message says how many of each
    were left out, so nothing is dropped silently.
    """
    shown_terms, shown_cats, shown_not = len(terms), len(categories), len(not_for)

    def costs() -> list[int]:
        return (
            [_term_cost(t) for t in terms[:shown_terms]]
            + [len(c.label) + 3 for c in categories[:shown_cats]]
            + [len(line) + 3 for line in not_for[:shown_not]]
        )

    while len(_pack(costs())) > MAX_PAGES:
        if shown_terms:
            shown_terms -= 1
        elif shown_not:
            shown_not -= 1
        else:
            shown_cats -= 1
    counts = _pack(costs())
    kinds = ["term"] * shown_terms + ["category"] * shown_cats + ["not_for"] * shown_not
    pages: list[dict[str, Any]] = []
    start = 0
    for number, count in enumerate(counts, 1):
        part = kinds[start : start + count]
        t0 = kinds[:start].count("term")
        c0 = kinds[:start].count("category")
        n0 = kinds[:start].count("not_for")
        title = f"Lexicon ({number}/{len(counts)})" if len(counts) > 1 else "Lexicon"
        last = number == len(counts)
        pages.append(
            {
                "title": title,
                "fallback": f"The programme's lexicon ({number}/{len(counts)})"
                if len(counts) > 1
                else "The programme's lexicon",
                "query": query,
                "no_match": number == 1 and bool(query) and not terms,
                "terms": terms[t0 : t0 + part.count("term")],
                "categories": categories[c0 : c0 + part.count("category")],
                "categories_first": c0 == 0,
                "not_for": not_for[n0 : n0 + part.count("not_for")],
                "not_for_first": n0 == 0,
                "more_terms": len(terms) - shown_terms if last else 0,
                "more_categories": len(categories) - shown_cats if last else 0,
                "more_not_for": len(not_for) - shown_not if last else 0,
            }
        )
        start += count
    return pages


def on_handbook_command(call: Invocation) -> None:
    """Show the ally handbook."""
    call.ack()
    blocks = render_blocks("help/handbook.json.j2", handbook=call.deps.content.handbook)
    call.reply("The ally handbook", blocks)
