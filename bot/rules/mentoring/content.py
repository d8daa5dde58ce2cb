"""Mentoring content, re-exported for the rules (the loader lives in messages/, below config).

Start-up validates it from `messages.content.load_content`, which `bot.config` calls; the
layers let neither of them import `bot.rules`, so the pure loader moved down to `messages`.
"""

from __future__ import annotations

from messages.mentoring_content import (
    CHECKBOX_GROUPS_MAX,
    CHECKBOX_OPTIONS_MAX,
    ID_PATTERN,
    INTERESTS_FILE,
    LIBRARY_FILE,
    MATURITY_FILE,
    OPTION_TEXT_MAX,
    PROSE_MAX,
    SELECT_OPTIONS_MAX,
    SUBDIRECTORY,
    TITLE_MAX,
    Behaviour,
    CheckboxGroup,
    ContentError,
    Framework,
    Interest,
    Level,
    Library,
    LibraryItem,
    MentoringContent,
    load_mentoring_content,
)

__all__ = [
    "CHECKBOX_GROUPS_MAX",
    "CHECKBOX_OPTIONS_MAX",
    "ID_PATTERN",
    "INTERESTS_FILE",
    "LIBRARY_FILE",
    "MATURITY_FILE",
    "OPTION_TEXT_MAX",
    "PROSE_MAX",
    "SELECT_OPTIONS_MAX",
    "SUBDIRECTORY",
    "TITLE_MAX",
    "Behaviour",
    "CheckboxGroup",
    "ContentError",
    "Framework",
    "Interest",
    "Level",
    "Library",
    "LibraryItem",
    "MentoringContent",
    "load_mentoring_content",
]
