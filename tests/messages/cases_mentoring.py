"""Template-matrix cases for messages/mentoring/ (merged into test_template_matrix.CASES)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.rules.mentoring.report import Movement, Overall
from handlers.mentoring.ids import Ids
from messages.content import Content, mentoring_dir
from messages.mentoring_content import MentoringContent, load_mentoring_content

HOSTILE = "<!channel> <@U0BOSS> & <https://x.example|y> {{ 7*7 }} :tada: 🎉 "
NAME80 = (HOSTILE * 3)[:80]
LONG = (HOSTILE * 60)[:3000]
PEOPLE = 1000  # a large cohort (SPEC 6 pairs 1000 mentors with 1000 mentees)
UNITS = [f"R&D <Platform> {i:03d} " + "x" * 60 for i in range(100)]


def _mentoring(c: Content) -> MentoringContent:
    if c.mentoring is not None:
        return c.mentoring
    from bot.config import DEFAULT_CONTENT_DIR

    return load_mentoring_content(mentoring_dir(DEFAULT_CONTENT_DIR))


def _item(c: Content) -> Any:
    return _mentoring(c).library.item_for_meeting(1)


def _signup(c: Content) -> list[dict[str, Any]]:
    m = _mentoring(c)
    base = {
        "metadata": '{"c":1}',
        "interests": m.interests,
        "groups": m.framework.checkbox_groups(),
        "level_names": m.level_names(),
    }
    full = {
        "role": "mentee",
        "business_unit": UNITS[3],
        "country": NAME80,
        "seniority": NAME80,
        "interests": [i.id for i in m.interests],
        "reports_to": "U0BOSS",
        "exclude": [f"U{i:08d}" for i in range(100)],
        "behaviours": [b.id for b in m.framework.behaviours()],
    }
    return [
        {
            **base,
            "callback_id": Ids.SIGNUP.value,
            "closing": False,
            "cohort_name": name,
            "units": units,
            "current": current,
        }
        for name in ("Spring", NAME80)
        for units in ([], ["Engineering", "Sales"], UNITS, [*UNITS, "one more"])
        for current in (None, full, {"role": "mentor", "interests": [], "behaviours": []})
    ] + [
        {
            **base,
            "callback_id": Ids.ASSESS_VIEW.value,
            "closing": True,
            "cohort_name": NAME80,
            "units": [],
            "current": current,
        }
        for current in (None, {"behaviours": full["behaviours"]})
    ]


def proposed_pairs(n: int) -> list[dict[str, Any]]:
    """`n` proposed pairs as the proposal template takes them, with long and hostile reasons."""
    reasons = ["3 shared interests: " + NAME80, "different business unit", HOSTILE]
    return [
        {"mentor": f"U{i:08d}", "mentee": f"W{i:08d}", "score": 17, "reasons": reasons}
        for i in range(n)
    ]


def movement_row(after: int | None, adopted: int) -> Movement:
    """One participant's row of the review, long names and `adopted` long behaviours."""
    return Movement(
        1,
        "U0ALLY1",
        "mentee",
        1,
        after,
        NAME80,
        NAME80 if after else None,
        tuple([LONG[:75]] * adopted),
    )


OVERALL = Overall(9, 40, 4.4, 7, {1: 5, 2: 4}, {2: 3, 3: 6})

CASES: dict[str, Callable[[Content], list[dict[str, Any]]]] = {
    "mentoring/call.json.j2": lambda c: [
        {
            "cohort_id": 7,
            "cohort_name": name,
            "months": months,
            "cadence": "every 2 weeks",
        }
        for name in ("Spring", NAME80)
        for months in (1, 36)
    ],
    "mentoring/signup_modal.json.j2": _signup,
    "mentoring/notice.json.j2": lambda c: [
        {"text": text, "note": note}
        for text in ("Done.", LONG, LONG * 4)
        for note in (None, "Only admins see it.")
    ],
    "mentoring/proposal.json.j2": lambda c: [
        {
            "cohort_id": 3,
            "cohort_name": NAME80,
            "version": 12,
            "pairs": proposed_pairs(n),
            "unmatched": [
                {"id": f"U{i:08d}", "role": "mentee", "reason": HOSTILE} for i in range(u)
            ],
            "total": 99,
            "confirmed": confirmed,
        }
        for n in (0, 1, 16, 500, PEOPLE)
        for u in (0, 3, 500, PEOPLE)
        for confirmed in (False, True)
    ],
    "mentoring/intro.json.j2": lambda c: [
        {
            "mentor": "U0ALLY1",
            "mentee": "U0ASKER",
            "cohort_name": NAME80,
            "cadence": "every 2 weeks",
            "item": _item(c),
        }
    ],
    "mentoring/checkin.json.j2": lambda c: [
        {
            "checkin_id": 4,
            "meeting": 13,
            "answer": answer,
            "item": _item(c),
            "noted": noted,
        }
        for answer in (None, "met", "not_met")
        for noted in (False, True)
    ],
    "mentoring/note_modal.json.j2": lambda c: [{"metadata": '{"k":4}'}],
    "mentoring/closing.json.j2": lambda c: [{"participant_id": 9, "cohort_name": NAME80}],
    "mentoring/report.json.j2": lambda c: [
        {"cohort_name": NAME80, "rows": rows, "overall": overall, "assessed": 3, "min_group": 5}
        for rows in (
            (),
            (movement_row(3, 6), movement_row(None, 0)),
            tuple([movement_row(2, 20)] * 400),
            # A cohort of a thousand: the lines that fit, then "and N more".
            tuple(movement_row(None if i % 3 else 3, i % 7) for i in range(PEOPLE)),
        )
        for overall in (None, OVERALL)
    ],
    "mentoring/own_report.json.j2": lambda c: [
        {"cohort_name": NAME80, "row": movement_row(3, n)} for n in (0, 1, 26)
    ],
    "mentoring/partner_left.json.j2": lambda c: [
        {"participant_id": 2, "cohort_name": NAME80, "offer": offer} for offer in (True, False)
    ],
}
