"""Mentoring's admin messages fit in one Slack message whatever the cohort's size, and say
honestly how much they leave out (the template matrix checks Block Kit; this the length)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from bot.devkit.fakeslack.validation import MAX_MESSAGE_CHARS, message_chars, message_violations
from messages.content import load_content
from messages.render import render
from tests.messages.cases_mentoring import CASES, OVERALL, PEOPLE, movement_row, proposed_pairs

pytestmark = pytest.mark.usefixtures("template_ids")

CAPPED = sorted(t for t in CASES if not t.endswith("modal.json.j2"))
FALLBACK = "Proposed pairs for a cohort whose name is eighty characters long, at most: 1000"


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize("template", CAPPED)
def test_every_case_fits_one_message(template: str) -> None:
    """Every matrix case, 1,000 participants included, is within 12,000 characters and 50
    blocks, fallback included."""
    for data in CASES[template](load_content(DEFAULT_CONTENT_DIR)):
        blocks = render(template, **data)
        chars = message_chars(blocks, FALLBACK)
        assert chars <= MAX_MESSAGE_CHARS, (template, chars)
        assert message_violations(blocks, text=FALLBACK, needs_fallback=True) == []


def test_a_proposal_of_a_thousand_says_how_many_it_leaves_out() -> None:
    """The pairs and the unmatched that do not fit are counted in an "and N more" line; the
    summary counts all of them."""
    blocks = render(
        "mentoring/proposal.json.j2",
        cohort_id=1,
        cohort_name="Spring",
        version=1,
        pairs=proposed_pairs(PEOPLE),
        unmatched=[
            {"id": f"U{i:08d}", "role": "mentee", "reason": "no mentor left"} for i in range(PEOPLE)
        ],
        total=17 * PEOPLE,
        confirmed=False,
    )
    text = _text(blocks)
    shown = text.count("(mentor) + <@")
    shown_left = text.count("(mentee): no mentor left")
    assert 0 < shown < PEOPLE and 0 < shown_left < PEOPLE
    assert f"{PEOPLE} pairs, {PEOPLE} not paired, total score {17 * PEOPLE}" in text
    assert f"and {PEOPLE - shown} more pairs not listed here" in text
    assert f"Confirming confirms all {PEOPLE} pairs" in text
    assert f"and {PEOPLE - shown_left} more people not paired" in text


def test_a_report_of_a_thousand_keeps_its_figures() -> None:
    """The report lists who fits, says how many more, and its counts and overall figures
    cover everyone."""
    rows = tuple(movement_row(None if i % 3 else 3, i % 7) for i in range(PEOPLE))
    blocks = render(
        "mentoring/report.json.j2",
        cohort_name="Spring",
        rows=rows,
        overall=OVERALL,
        assessed=334,
        min_group=5,
    )
    text = _text(blocks)
    shown = len(re.findall(r"• <@U0ALLY1>", text))
    assert 0 < shown < PEOPLE
    assert f"{PEOPLE} participants, 334 with both self-assessments" in text
    assert f"and {PEOPLE - shown} more participants not listed here" in text
    assert (
        f"*Overall* ({OVERALL.people} people assessed twice): {OVERALL.behaviours_adopted}" in text
    )
