"""The programme's editable content: lexicon and handbook (ALLYBOT_CONTENT_DIR)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Category:
    """Something one can ask an ally for."""

    id: str
    label: str
    description: str


@dataclass(frozen=True)
class Term:
    """A lexicon entry."""

    term: str
    definition: str


@dataclass(frozen=True)
class Content:
    """Everything the programme says that organisations may rewrite."""

    purpose: str
    categories: tuple[Category, ...]
    not_for: tuple[str, ...]
    terms: tuple[Term, ...]
    handbook: str
    tips: tuple[str, ...]

    def category(self, category_id: str) -> Category | None:
        """The category with this id, if any."""
        return next((c for c in self.categories if c.id == category_id), None)

    def find_terms(self, query: str) -> list[Term]:
        """Terms whose name contains the query (case-insensitive)."""
        needle = query.strip().casefold()
        return [t for t in self.terms if needle in t.term.casefold()]


def load_content(directory: Path) -> Content:
    """Read lexicon.yml and handbook.md from the content directory."""
    lexicon = yaml.safe_load((directory / "lexicon.yml").read_text(encoding="utf-8"))
    handbook = (directory / "handbook.md").read_text(encoding="utf-8")
    return Content(
        purpose=str(lexicon["purpose"]).strip(),
        categories=tuple(
            Category(id=str(c["id"]), label=str(c["label"]), description=str(c["description"]))
            for c in lexicon["can_ask_for"]
        ),
        not_for=tuple(str(item) for item in lexicon["not_for"]),
        terms=tuple(
            Term(term=str(t["term"]), definition=str(t["definition"]).strip())
            for t in lexicon["terms"]
        ),
        handbook=handbook.strip(),
        tips=tuple(str(tip) for tip in lexicon.get("handbook_tips", [])),
    )
