"""The mentoring feature's action, block and callback ids (SPEC 5.2 fixes the public ones)."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    """Action, block and view callback ids of reverse mentoring."""

    # The call's button and the sign-up view share the public name.
    SIGNUP = "mentoring_signup"
    CONFIRM = "confirm_pairs"
    MET = "checkin_met"
    NOT_MET = "checkin_not_met"
    ASSESS = "open_maturity_assessment"
    ASSESS_VIEW = "maturity_assessment"
    NOTE = "mentoring_checkin_note"
    NOTE_VIEW = "mentoring_checkin_note_view"
    # The button and its actions block share the value.
    NEW_PARTNER = "mentoring_new_partner"
    CALL_BLOCK = "mentoring_call"
    PROPOSAL_BLOCK = "mentoring_proposal"
    CHECKIN_BLOCK = "mentoring_checkin"
    NOTE_BLOCK = "mentoring_note"
    CLOSING_BLOCK = "mentoring_closing"
    NOTE_INPUT = "note"
    # The sign-up view's block_id/action_id pairs (SPEC 5.2).
    ROLE = "role"
    BUSINESS_UNIT = "business_unit"
    COUNTRY = "country"
    SENIORITY = "seniority"
    INTERESTS = "interests"
    REPORTS_TO = "reports_to"
    EXCLUDE = "exclude"
    # Every self-assessment input's block_id starts with it (SPEC 5.2).
    MATURITY = "maturity"


MATURITY_PREFIX = Ids.MATURITY.value
