"""The public callback_id, action_id and block_id strings of requests (SPEC 5)."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    """The public callback_id, action_id and block_id strings of this feature (SPEC 5)."""

    REQUEST_VIEW = "allyship_request"
    SHORTCUT = "ask_for_an_ally"
    OPEN_MODAL = "open_request_modal"
    OFFER = "offer_help"
    CHOOSE = "choose_ally"
    WITHDRAW = "withdraw_request"
    REPORT = "report_misuse"
    KIND = "kind"
    CATEGORY = "category"
    DETAILS = "details"
    TIMING = "timing"
    CONSENT = "consent"
    REQUEST_ACTIONS = "request_actions"
    ASK_ACTIONS = "ask_actions"
    JOIN_BLOCK = "join"
