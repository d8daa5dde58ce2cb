"""The year-end programme's public callback_id, action_id and block_id strings (SPEC 5.2)."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    """Every id the year-end templates and listeners share; templates get them as data."""

    STORY_VIEW = "allyship_story"
    EVENT_VIEW = "allyship_event"
    DECLINE_VIEW = "assessment_decline"
    OPEN_STORY = "open_story_modal"
    ACCEPT_STORY = "accept_story"
    DECLINE_STORY = "decline_story"
    ACCEPT_EVENT = "accept_event"
    DECLINE_EVENT = "decline_event"
    MARK_CREATIVE = "mark_creative"
    CONFIRM_AWARDS = "confirm_awards"
    SEND_NUDGES = "send_nudges"
    ALLY = "ally"
    WHAT = "what"
    WHEN = "when"
    TITLE = "title"
    DATE = "date"
    BUSINESS_UNIT = "business_unit"
    REASON = "reason"
    CALL_BLOCK = "stories_call"
    ASSESS_BLOCK = "assess"
    AWARDS_BLOCK = "awards"
    NUDGES_BLOCK = "nudges"


ACCEPT = {"story": Ids.ACCEPT_STORY, "event": Ids.ACCEPT_EVENT}
DECLINE = {"story": Ids.DECLINE_STORY, "event": Ids.DECLINE_EVENT}


def item_value(kind: str, item_id: int) -> str:
    """A card button's opaque value: the item's kind and id."""
    return f"{kind}:{item_id}"


def parse_item_value(value: object) -> tuple[str, int] | None:
    """(kind, id) from a card button's value, or None for anything else."""
    kind, _, number = str(value or "").partition(":")
    if kind in ("story", "event") and number.isdigit() and len(number) < 12:
        return kind, int(number)
    return None
