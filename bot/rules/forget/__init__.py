"""`/ally forget-me` (SPEC 6, privacy): delete what the programme holds about one person.

No Slack client and no templates here: `forget` changes the database in the caller's unit of
work and returns what Slack must be told (cards to redraw, people to notify), as opaque ids.

What goes: the person's ally profile and business unit; the text of their requests, their
name on them and every comment on their matches (open requests are withdrawn); their
feedback comments; every anonymous case they asked (text, sealed link and marker deleted
at once; one still open that volunteers can see closes as withdrawn only in the later
case-side step, `close_cases_later`); their unsent anonymous drafts; the channel ids of their DMs
and conversations; their ID in scheduled work; their reverse-mentoring sign-ups and the notes
on their pairs' check-ins. Unmatched offers they made are deleted.
Where a row must stay for the counts (a matched offer, matches, feedback answers, cases they
handled as a volunteer), their Slack ID is replaced by FORGOTTEN.
What stays: the points ledger (business units' totals; rows lose their actor), counts and
outcomes, and a misuse pause (a keyed marker only), which lapses when its case's retention
purge runs, as it would have.

This is the package's public face, what the handlers use. Inside: `deletion` (forget: the
person's rows, their requests and offers), `case_side` (the anonymous cases they asked or
held, and the later step that closes them) and `followups` (what Slack must be told, as
two due items).
"""

from bot.rules.forget.case_side import close_cases_later
from bot.rules.forget.deletion import forget
from bot.rules.forget.followups import (
    CASE_DELAY_MIN,
    CASE_DELAY_SPREAD,
    CASE_FOLLOWUPS,
    FOLLOWUPS,
    CaseFollowups,
    Followups,
    Forgotten,
    case_followups_key,
    followups_key,
    forget_conversation,
    handles,
    schedule_followups,
)

__all__ = [
    "CASE_DELAY_MIN",
    "CASE_DELAY_SPREAD",
    "CASE_FOLLOWUPS",
    "FOLLOWUPS",
    "CaseFollowups",
    "Followups",
    "Forgotten",
    "case_followups_key",
    "close_cases_later",
    "followups_key",
    "forget",
    "forget_conversation",
    "handles",
    "schedule_followups",
]
