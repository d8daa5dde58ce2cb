"""Tables of the reverse mentoring (SPEC 4): cohorts, sign-up, pairing review, check-ins, report."""

from __future__ import annotations
