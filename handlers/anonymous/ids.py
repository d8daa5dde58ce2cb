"""The public callback_id, action_id and block_id strings of anonymous requests (SPEC 5)."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    """callback_id, action_id and block_id strings of this feature (SPEC 5 names some)."""

    PREVIEW = "anonymous_preview"
    EDIT = "edit_anonymous_request"
    TAKE = "take_case"
    MESSAGE = "message_requester"
    FIND_ALLY = "find_ally_for_case"
    REVEAL = "reveal_to_ally"
    CLOSE = "close_case"
    RELAY_VIEW = "relay_message"
    RELAY_INPUT = "message"
    CLOSE_VIEW = "case_close"
    SEND_AGAIN = "send_anonymous_request"
    OUTCOME = "outcome"
    PAUSE = "pause"
    CASE_ACTIONS = "case_actions"
    RELAY_ACTIONS = "relay_actions"
    REVEAL_ACTIONS = "reveal_actions"
    PREVIEW_ACTIONS = "preview_actions"
    DRAFT_ACTIONS = "draft_actions"
