"""The mentoring feature's action, block and callback ids (SPEC 5.2 fixes the public ones)."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    """Action ids and view callback ids of reverse mentoring."""

    # The call's button and the sign-up view share the public name.
    SIGNUP = "mentoring_signup"
    CONFIRM = "confirm_pairs"
    MET = "checkin_met"
    NOT_MET = "checkin_not_met"
    ASSESS = "open_maturity_assessment"
    ASSESS_VIEW = "maturity_assessment"
    NOTE = "mentoring_checkin_note"
    NOTE_VIEW = "mentoring_checkin_note_view"
    NEW_PARTNER = "mentoring_new_partner"


MATURITY_PREFIX = "maturity"
