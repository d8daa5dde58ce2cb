"""Template-matrix cases for messages/yearend/ (merged into test_template_matrix.CASES)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from bot.rules.yearend.assessment import ItemView
from handlers.common.units import choose_units
from handlers.yearend.ids import ACCEPT, DECLINE, item_value
from messages.content import Content

HOSTILE = "<!channel> <@U0BOSS> & <https://x.example|y> {{ 7*7 }} :tada: 🎉 "
TEXT3000 = (HOSTILE * 60)[:3000]
BU75 = ("R&D <Platform> & Ops 🎉 " * 4)[:75]

# 0, 1, 300, 2,600 (over every initial) and 12,000 units: a note, one select, option groups,
# then a typed name past the view's 250 kB.
UNIT_COUNTS: tuple[list[str], ...] = (
    [],
    ["Sales"],
    [f"{BU75[:70]} {i}" for i in range(300)],
    [f"{chr(65 + i % 26)}{BU75[:70]} {i}" for i in range(2600)],
    [f"Unit {i}" for i in range(12000)],
)

STORY = ItemView(
    kind="story",
    id=10**9,
    status="pending",
    creative=False,
    what=TEXT3000,
    title=None,
    happened_on=date(2026, 11, 2),
    ally_id="U0ALLY1",
    unit_name=BU75,
    decided_by=None,
    purged=False,
)
EVENT = replace(STORY, kind="event", title=HOSTILE * 3, ally_id=None)


def _items() -> list[ItemView]:
    out = []
    for base in (STORY, EVENT):
        for status in ("pending", "accepted", "declined", "withdrawn"):
            for extra in (
                {},
                {"creative": True, "decided_by": "U0VOL1"},
                {
                    "what": None,
                    "purged": True,
                    "ally_id": None,
                    "unit_name": None,
                    "happened_on": None,
                },
            ):
                out.append(replace(base, status=status, **extra))
    return out


def _cards(c: Content) -> list[dict[str, Any]]:
    return [
        {
            "i": i,
            "value": item_value(i.kind, i.id),
            "accept_id": ACCEPT[i.kind],
            "decline_id": DECLINE[i.kind],
        }
        for i in _items()
    ]


CASES: dict[str, Callable[[Content], list[dict[str, Any]]]] = {
    "yearend/story_modal.json.j2": lambda c: [{}],
    "yearend/event_modal.json.j2": lambda c: [
        {"choice": choose_units(units)} for units in UNIT_COUNTS
    ],
    "yearend/decline_modal.json.j2": lambda c: [
        {"metadata": '{"k":"story","i":1000000000}', "kind": k} for k in ("story", "event")
    ],
    "yearend/card.json.j2": _cards,
    "yearend/outcome.json.j2": lambda c: [
        {"i": replace(i, status=s), "role": r, "points": p, "reason": TEXT3000, "self_story": x}
        for i in (STORY, EVENT)
        for s in ("accepted", "declined")
        for r in ("reporter", "ally")
        for p in (0, 15)
        for x in (False, True)
    ],
    "yearend/notice.json.j2": lambda c: [{"text": t} for t in ("Saved.", TEXT3000 + "x")],
}


def _awards() -> tuple[Any, ...]:
    from datetime import UTC, datetime

    from bot.rules.yearend.awards import Outcome, UnitLedger, compute_awards

    units = [f"{BU75[:70]} {i}" for i in range(200)]
    at = datetime(2026, 5, 1, tzinfo=UTC)
    ledger = [UnitLedger(u, 1000 - i // 2, i % 3, at) for i, u in enumerate(units)]
    outcomes = [
        Outcome(f"story:{i}", "story", u, True, at, True, f"p{i}", units[-1], "a")
        for i, u in enumerate(units)
    ]
    return compute_awards(units=units, ledger=ledger, outcomes=outcomes)


def _standings(c: Content) -> list[dict[str, Any]]:
    from handlers.yearend.awards import pages

    out: list[dict[str, Any]] = []
    for s in _awards():
        split = pages(s.lines)
        for index, lines in enumerate(split, 1):
            out.append(
                {
                    "s": s,
                    "year": 2026,
                    "lines": lines,
                    "page": index,
                    "pages": len(split),
                    "confirm": index == len(split),
                }
            )
    empty = compute_empty()
    out.append({"s": empty, "year": 2026, "lines": [], "page": 1, "pages": 1, "confirm": True})
    return out


def compute_empty() -> Any:
    from bot.rules.yearend.awards import compute_awards

    return compute_awards(units=[], ledger=[], outcomes=[])[0]


CASES["yearend/standings.json.j2"] = _standings
CASES["yearend/announcement.json.j2"] = lambda c: [
    {"awards": _awards(), "year": 2026},
    {"awards": (compute_empty(),) * 3, "year": 2026},
]
CASES["yearend/call.json.j2"] = lambda c: [{"year": 2026}]


def _targets() -> list[Any]:
    from bot.rules.yearend.nudges import Target

    return [
        Target(i, f"{BU75[:70]} {i}", tuple(f"U{i:08d}" for _ in range(i % 3))) for i in range(600)
    ]


CASES["yearend/nudges_preview.json.j2"] = lambda c: [
    {"year": 2026, "targets": t, "already": a, "page": p, "pages": 2, "confirm": p == 2}
    for t, a in (([], []), (_targets()[:3], [_targets()[0].name]), (_targets()[:50], []))
    for p in (1, 2)
]
CASES["yearend/nudge.json.j2"] = lambda c: [{"unit": u, "year": 2026} for u in ("Sales", BU75)]
CASES["yearend/nudge_post.json.j2"] = lambda c: [
    {"units": u, "year": 2026} for u in (["Sales"], [t.name for t in _targets()])
]
CASES["yearend/story_refused.json.j2"] = lambda c: [
    {"reason": "That is an app or a bot: choose the person who was the ally.", "what": TEXT3000}
]
