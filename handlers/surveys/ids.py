"""The surveys, figures and misuse review's public ids (SPEC 5.2)."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    """Action, view and block ids of this feature."""

    ANSWER = "answer_survey"
    VIEW = "awareness_survey"
    UNIT = "business_unit"
    DISMISS = "dismiss_report"
    PAUSE = "pause_requester"
