"""Template-matrix cases for messages/surveys/ (merged into test_template_matrix.CASES)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.rules.surveys.runs import questions_of
from handlers.surveys.listeners import form_data
from handlers.surveys.surface import page_data
from messages.content import Content
from messages.survey_content import OPTION_TEXT_MAX, QUESTIONS_MAX, QuestionDef, SurveyDef

HOSTILE = "<!channel> <@U0BOSS> & <https://x.example|y> {{ 7*7 }} :tada: 🎉 "
LONG = (HOSTILE * 80)[:3000]
BU75 = ("R&D <Platform> & Ops 🎉 " * 4)[:75]
MANY_UNITS = [f"{BU75[:70]} {i:05d}" for i in range(12_000)]
SPREAD_UNITS = [f"{chr(65 + i % 26)}{BU75[:70]} {i}" for i in range(2600)]
META = json.dumps({"r": 10**9, "c": "D0123456789", "t": "1700000000.000100"})


def _largest_survey() -> SurveyDef:
    option = ("Agree <strongly> & " * 10)[:OPTION_TEXT_MAX]
    questions = []
    for i in range(QUESTIONS_MAX):
        kind = ("likert", "choice", "text")[i % 3]
        options: tuple[tuple[str, str], ...] = ()
        if kind == "likert":
            options = tuple((str(p), option) for p in range(1, 6))
        elif kind == "choice":
            options = tuple((f"o{n}", option) for n in range(10))
        questions.append(QuestionDef(f"q{i:02d}" + "x" * 40, kind, LONG[:2000], options))
    return SurveyDef("largest", LONG[:200], LONG, tuple(questions))


def _surveys(content: Content) -> list[SurveyDef]:
    return [*content.surveys, _largest_survey()]


def _invite(content: Content) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "title": survey.title,
            "intro": intro,
            "reminder": reminder,
            "answered": answered,
        }
        for survey in _surveys(content)
        for run_id, intro in ((1, survey.intro), (10**9, LONG * 3), (2, ""))
        for reminder in (False, True)
        for answered in (False, True)
    ]


def _form(content: Content) -> list[dict[str, Any]]:
    out = []
    for survey in _surveys(content):
        for units in (
            [],
            ["Sales"],
            [BU75] * 100,
            MANY_UNITS[:300],
            SPREAD_UNITS,
            MANY_UNITS,
        ):
            out.append(
                form_data(
                    metadata=META,
                    title=survey.title,
                    questions=questions_of(survey),
                    units=units,
                )
            )
    return out


def _report(content: Content) -> list[dict[str, Any]]:
    """Each message of an answer as handlers.surveys.surface.page_data splits it: a long
    answer (~48k characters, sections over 3000) becomes several messages within the limit."""
    return [
        *page_data("Results of awareness-1", ["*Answers*: 9"]),
        *page_data(LONG, [LONG] * 15, LONG),
        *page_data(LONG, [LONG * 3] * 5 + ["x" * 10] * 200, ""),
        {"title": "Empty", "sections": [], "note": "note"},
    ]


def _misuse_card(content: Content) -> list[dict[str, Any]]:
    return [
        {
            "report_id": report_id,
            "request_id": 10**9,
            "category_label": label,
            "reports": reports,
            "status": status,
            "decided_by": "U0VOL1",
        }
        for report_id, label, reports in ((1, "Career advice", 1), (10**9, BU75, 10**6))
        for status in ("open", "dismissed", "paused")
    ]


CASES: dict[str, Callable[[Content], list[dict[str, Any]]]] = {
    "surveys/misuse_card.json.j2": _misuse_card,
    "surveys/paused.json.j2": lambda c: [{"text": "Your requests are paused."}, {"text": LONG}],
    "surveys/invite.json.j2": _invite,
    "surveys/form.json.j2": _form,
    "surveys/report.json.j2": _report,
}
