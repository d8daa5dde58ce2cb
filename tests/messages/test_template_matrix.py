"""Every template renders a payload the fake Slack's own validator accepts, with ordinary data,
with the edge data the app allows, and with the largest content an organisation may write."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from bot.devkit.fakeslack.validation import message_chars, message_violations, view_violations
from bot.rules.allies import BU_NAME_MAX, Profile
from bot.rules.anonymous.drafts import Draft
from bot.rules.points.leaderboard import Standing
from bot.rules.requests import RequestForm
from handlers.allies import LIST_PER_MESSAGE
from handlers.anonymous.inputs import Metadata
from handlers.anonymous.surface import CaseView
from handlers.common.units import choose_units
from handlers.help import lexicon_pages
from handlers.home import HomeRequest
from handlers.points import public_standings, standings_pages
from handlers.requests.surface import OfferView, RequestView
from messages.content import Content, load_content
from messages.render import TEMPLATES, render
from tests.messages import cases_mentoring, cases_surveys, cases_yearend

Data = dict[str, Any]

# Edge data the app allows.
HOSTILE = "<!channel> <@U0BOSS> & <https://x.example|y> {{ 7*7 }} :tada: 🎉 "
BU75 = ("R&D <Platform> & Ops 🎉 " * 4)[:BU_NAME_MAX]
SLACK_NAME80 = ("Zoë O'Brien-Łukasiewicz & <Co> 🎉 " * 3)[:80]
TEXT3000 = (HOSTILE * 60)[:3000]
EMOJI_TEXT = "Thanks 🙏🏽 :raised_hands: 👩🏿‍💻 — “quotes” & <tags>"
MANY_UNITS = [f"{BU75[:70]} {i:04d}" for i in range(12_000)]


def _largest_content(tmp_path: Path) -> Content:
    """The largest content an organisation may write: every list long, every text long."""
    directory = tmp_path / "content"
    directory.mkdir()
    label = ("Support & <sponsorship> 🎉 " * 10)[:200]
    categories = [
        {"id": f"{i:03d}" + "c" * 147, "label": label, "description": TEXT3000} for i in range(100)
    ]
    lexicon = {
        "purpose": (EMOJI_TEXT + " " + HOSTILE) * 300,
        "can_ask_for": categories,
        "not_for": [("Never <this> & never that. " * 20)[:500] for _ in range(60)],
        "terms": [{"term": f"Term {i} " + "t" * 200, "definition": TEXT3000} for i in range(300)],
        "handbook_tips": [("Listen & <learn> 🎧 " * 30)[:600] for _ in range(40)],
    }
    import yaml

    (directory / "lexicon.yml").write_text(yaml.safe_dump(lexicon), encoding="utf-8")
    (directory / "handbook.md").write_text(("## Part\n" + TEXT3000 + "\n\n") * 40, "utf-8")
    return load_content(directory)


ORDINARY_CONTENT = load_content(DEFAULT_CONTENT_DIR)


def _request(status: str, details: str | None, **extra: Any) -> RequestView:
    data: Data = {
        "id": 7,
        "status": status,
        "category_label": ORDINARY_CONTENT.categories[0].label,
        "details": details,
        "timing": "before Friday",
        "requester_id": "U0ASKER",
        "on_behalf_of": None,
    }
    data.update(extra)
    return RequestView(**data)


def _case(status: str, **extra: Any) -> CaseView:
    data: Data = {
        "id": 3,
        "handle": "Case Blue Heron",
        "status": status,
        "category_label": "Career advice",
        "details": "I would like advice.",
        "timing": None,
        "volunteer_id": "U0VOL1",
        "outcome_label": "helped",
        "ask_posted": False,
        "purged": False,
    }
    data.update(extra)
    return CaseView(**data)


def _standings(count: int, name: str = "Engineering") -> list[Standing]:
    return [Standing(f"{name} {i}"[-BU_NAME_MAX:], 10_000 - i, i, i % 7) for i in range(count)]


Case = Callable[[Content], Data]


def _request_statuses(**extra: Any) -> list[RequestView]:
    return [_request(s, **extra) for s in ("open", "matched", "withdrawn", "closed")]


def _modal(c: Content) -> list[Data]:
    first = c.categories[-1].id
    return [
        {"categories": c.categories, "not_for": c.not_for, "prefill": None},
        {
            "categories": c.categories,
            "not_for": c.not_for,
            "prefill": RequestForm("anonymous", first, TEXT3000, TEXT3000[:200]),
        },
        {
            "categories": c.categories,
            "not_for": c.not_for,
            "prefill": RequestForm("named", first, EMOJI_TEXT, None),
        },
    ]


def _lexicon(c: Content) -> list[Data]:
    """Every message of the lexicon as handlers.help splits it (the largest content is split
    into several, with counts of what did not fit)."""
    labels = list(c.categories)
    return [
        page
        for query, terms, categories, not_for in (
            ("", list(c.terms), labels, list(c.not_for)),
            (TEXT3000, [], [], []),
            ("term", c.find_terms("term"), [], []),
            ("", [], labels * 20, list(c.not_for) * 20),
        )
        for page in lexicon_pages(query=query, terms=terms, categories=categories, not_for=not_for)
    ]


def _signup(c: Content) -> list[Data]:
    out = []
    for units in (
        ["Engineering", "Sales"],
        [BU75, "R&D <x>"],
        [],
        ["Sales"],
        MANY_UNITS[:100],
        MANY_UNITS[:250],
        MANY_UNITS[:300],
        [f"{chr(65 + i % 26)}{BU75[:70]} {i}" for i in range(2600)],
        MANY_UNITS,
    ):
        currents = (None, Profile(units[-1], False), Profile(units[0], True)) if units else (None,)
        for current in currents:
            out.append({"choice": choose_units(units), "current": current})
    return out


# Each template: data sets built from content (the shipped content, then the largest).
CASES: dict[str, Callable[[Content], list[Data]]] = {
    "allies/bu_import.json.j2": lambda c: [
        {"units": u} for u in ([], ["Engineering"], [BU75] * 30, MANY_UNITS[:301], MANY_UNITS)
    ],
    "allies/bu_list.json.j2": lambda c: [
        {"names": MANY_UNITS[:LIST_PER_MESSAGE], "first": True},
        {"names": [BU75 + "&" * 0] * LIST_PER_MESSAGE, "first": False},
        {"names": ["Sales"], "first": True},
    ],
    "allies/left.json.j2": lambda c: [{}],
    "allies/notice.json.j2": lambda c: [
        {"text": t} for t in ("Saved.", EMOJI_TEXT, TEXT3000 + "x")
    ],
    "allies/signup.json.j2": _signup,
    "anonymous/ally_found.json.j2": lambda c: [{"handle": "Case Blue Heron", "case_id": 10**9}],
    "anonymous/card.json.j2": lambda c: [
        {"c": _case(s, **extra)}
        for s in ("open", "taken", "closed")
        for extra in (
            {},
            {"details": TEXT3000, "timing": TEXT3000, "category_label": c.categories[0].label},
            {"ask_posted": True, "volunteer_id": None},
            {"purged": True},
        )
    ],
    "anonymous/close_modal.json.j2": lambda c: [
        {"metadata": Metadata(case=10**9).dump(), "handle": "Case Blue Heron"}
    ],
    "anonymous/draft_kept.json.j2": lambda c: [{"text": TEXT3000, "token": "t" * 64}],
    "anonymous/notice.json.j2": lambda c: [{"text": TEXT3000 + "x"}],
    "anonymous/notice_view.json.j2": lambda c: [{"title": "Not sent" * 5, "text": TEXT3000}],
    "anonymous/preview.json.j2": lambda c: [
        {"metadata": Metadata(draft="t" * 64).dump(), "c": None, "category_label": ""},
        {
            "metadata": Metadata(draft="t" * 64).dump(),
            "c": Draft(c.categories[0].id, TEXT3000, TEXT3000[:200]),
            "category_label": c.categories[0].label,
        },
    ],
    "anonymous/relay_modal.json.j2": lambda c: [
        {"metadata": Metadata(case=1).dump(), "handle": "Case Blue Heron"}
    ],
    "anonymous/reveal_intro.json.j2": lambda c: [
        {"requester": "U0ASKER", "ally": "U0ALLY1", "handle": "Case Blue Heron"}
    ],
    "anonymous/thread_root.json.j2": lambda c: [
        {"handle": "Case Blue Heron", "details": d, "queued": q}
        for d in ("", TEXT3000)
        for q in (False, True)
    ],
    "anonymous/to_requester.json.j2": lambda c: [{"handle": "Case Blue Heron", "text": TEXT3000}],
    "anonymous/to_volunteer.json.j2": lambda c: [
        {"handle": "Case Blue Heron", "text": TEXT3000, "files_dropped": f, "case_id": 4}
        for f in (False, True)
    ],
    "feedback/answered.json.j2": lambda c: [
        {"answer": a, "token": "t" * 64, "can_comment": cc, "commented": cm}
        for a in ("worked", "not_worked")
        for cc, cm in ((True, False), (False, True), (False, False))
    ],
    "feedback/closed.json.j2": lambda c: [{}],
    "feedback/comment_modal.json.j2": lambda c: [
        {"metadata": '{"token": "' + "t" * 64 + '"}', "anonymous": a} for a in (False, True)
    ],
    "feedback/prompt.json.j2": lambda c: [
        {
            "role": role,
            "category": c.categories[0].label,
            "partner_id": partner,
            "case_handle": handle,
            "token": "t" * 64,
            "reminder": reminder,
        }
        for role in ("requester", "ally", "volunteer")
        for partner in ("U0ALLY1", None)
        for handle in (None, "Case Blue Heron")
        for reminder in (False, True)
    ],
    "forget/done.json.j2": lambda c: [{"requests": 10**6, "cases": 0}],
    "forget/modal.json.j2": lambda c: [{}],
    "help/admin_help.json.j2": lambda c: [
        {
            "purpose": c.purpose,
            "commands": [f"`/ally-admin cmd{i}`: " + "x" * 100 for i in range(40)],
        }
    ],
    "help/ally_help.json.j2": lambda c: [
        {"purpose": c.purpose, "commands": [f"`/ally cmd{i}`: does things" for i in range(20)]}
    ],
    "help/handbook.json.j2": lambda c: [{"handbook": c.handbook}, {"handbook": ""}],
    "help/lexicon.json.j2": _lexicon,
    "help/refusal.json.j2": lambda c: [{"text": "`/ally-admin` is for programme admins."}],
    "home/home.json.j2": lambda c: [
        {"purpose": c.purpose, "requests": [], "profile": None, "standings": []},
        {
            "purpose": c.purpose,
            "requests": [
                HomeRequest(i, s, c.categories[0].label, TEXT3000)
                for i in range(40)
                for s in ("open", "matched", "withdrawn")
            ],
            "profile": Profile(BU75, False),
            "standings": render(
                "points/leaderboard.json.j2",
                title="Business unit standings, 2026",
                standings=public_standings(_standings(500, BU75))[0],
                more=public_standings(_standings(500, BU75))[1],
                public=True,
            ),
        },
    ],
    "jobs/failed_alert.json.j2": lambda c: [
        {"kind": "anonymous.card", "item_id": 10**9, "attempts": 8, "error": "SlackApiError"}
    ],
    "points/adjusted.json.j2": lambda c: [
        {"business_unit": BU75, "amount": -(10**6), "reason": TEXT3000}
    ],
    "points/leaderboard.json.j2": lambda c: (
        [
            {"title": "t" * 200, "standings": page, "more": 0, "public": False}
            for page in standings_pages(_standings(2000, BU75))
        ]
        + [
            {"title": "Standings", "standings": [], "more": 0, "public": True},
            {
                "title": "Standings",
                "standings": public_standings(_standings(500, BU75))[0],
                "more": public_standings(_standings(500, BU75))[1],
                "public": True,
            },
        ]
    ),
    "requests/card.json.j2": lambda c: [
        {"r": r, "emoji": "raised_hand"}
        for extra in (
            {"details": "Advice please."},
            {"details": TEXT3000, "timing": TEXT3000, "on_behalf_of": SLACK_NAME80},
            {"details": None, "requester_id": None, "category_label": c.categories[0].label},
        )
        for r in _request_statuses(**extra)
    ],
    "requests/confirmation.json.j2": lambda c: [
        {"r": r} for r in _request_statuses(details=TEXT3000, timing=TEXT3000)
    ],
    "requests/escalation.json.j2": lambda c: [
        {"r": _request("open", TEXT3000, on_behalf_of=SLACK_NAME80)}
    ],
    "requests/intro.json.j2": lambda c: [
        {
            "r": _request("matched", d, on_behalf_of=who),
            "chooser": "U0ASKER",
            "ally": "U0ALLY1",
            "tips": c.tips,
            "feedback_in": "in 7 days",
        }
        for d in ("Advice please.", TEXT3000, None)
        for who in (None, SLACK_NAME80)
    ],
    "requests/intro_deleted.json.j2": lambda c: [{}],
    "requests/modal.json.j2": _modal,
    "requests/notice.json.j2": lambda c: [
        {"text": t, "join": j} for t in ("Withdrawn.", TEXT3000 + "x") for j in (False, True)
    ],
    "requests/offers.json.j2": lambda c: [
        {
            "r": _request(status, "x", on_behalf_of=who),
            "offers": [OfferView(i, f"U{i:08d}", BU75 if i % 2 else None) for i in range(n)],
            "chosen": chosen,
            "introduced": introduced,
        }
        for status in ("open", "matched", "closed")
        for n in (0, 1, 40, 45, 300)
        for who in (None, SLACK_NAME80)
        for chosen, introduced in (("U0ALLY1", True), ("U0ALLY1", False), (None, False))
    ],
}

# Each feature added since keeps its cases in its own module, merged here.
for _feature_cases in (cases_yearend.CASES, cases_surveys.CASES, cases_mentoring.CASES):
    assert not set(_feature_cases) & set(CASES), "a template has cases in two modules"
    CASES.update(_feature_cases)

PARTIALS = {"common/macros.j2", "anonymous/_case.j2", "requests/_summary.j2"}


def _templates() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.j2"))


def test_every_template_has_a_case() -> None:
    """A template added to messages/ without a case here fails: every one is checked."""
    missing = [t for t in _templates() if t not in CASES and t not in PARTIALS]
    assert not missing, f"templates with no case in {__name__}.CASES: {missing}"
    stale = sorted(set(CASES) - set(_templates()))
    assert not stale, f"cases for templates that no longer exist: {stale}"


def test_partials_are_used_by_a_checked_template() -> None:
    """Macros and partials are validated through the templates that import them."""
    sources = "".join((TEMPLATES / t).read_text(encoding="utf-8") for t in CASES)
    for partial in PARTIALS:
        assert f'"{partial}"' in sources, partial


def _check(template: str, data: Data) -> None:
    payload = render(template, **data)
    if isinstance(payload, dict):
        violations = view_violations(payload, allowed_types=(str(payload.get("type")),))
    else:
        violations = message_violations(payload, text="fallback", needs_fallback=True)
    assert not violations, f"{template}: " + "; ".join(f"{v.path}: {v.limit}" for v in violations)


@pytest.mark.parametrize("template", sorted(CASES))
def test_template_with_ordinary_and_edge_data(template: str) -> None:
    """The shipped content plus the edge data the app allows renders a payload Slack takes."""
    cases = CASES[template](ORDINARY_CONTENT)
    assert cases
    for data in cases:
        _check(template, data)


@pytest.fixture(scope="module")
def largest(tmp_path_factory: pytest.TempPathFactory) -> Content:
    """The largest content an organisation may write, loaded as start-up would."""
    return _largest_content(tmp_path_factory.mktemp("largest"))


@pytest.mark.parametrize("template", sorted(CASES))
def test_template_with_the_largest_organisation_content(template: str, largest: Content) -> None:
    """Purpose, categories, lexicon, tips and handbook at their largest still fit."""
    for data in CASES[template](largest):
        _check(template, data)


def test_long_content_is_split_without_losing_text() -> None:
    """A handbook over one section's limit is shown whole, in several sections."""
    handbook = "\n\n".join(f"Paragraph {i}: " + "listen " * 150 for i in range(8))
    blocks = render("help/handbook.json.j2", handbook=handbook)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) > 1 and all(len(s) <= 3000 for s in sections)
    assert " ".join("\n".join(sections).split()) == " ".join(handbook.split())


def test_the_largest_lexicon_is_a_few_messages_that_count_what_is_left_out(
    largest: Content,
) -> None:
    """At most 5 messages, each within 12,000 characters; terms that do not fit are counted
    in the last one with how to ask for them, and every category and not-for line is shown."""
    pages = lexicon_pages(
        query="",
        terms=list(largest.terms),
        categories=list(largest.categories),
        not_for=list(largest.not_for),
    )
    assert 1 < len(pages) <= 5
    shown_terms = sum(len(p["terms"]) for p in pages)
    assert pages[-1]["more_terms"] == len(largest.terms) - shown_terms > 0
    assert sum(len(p["categories"]) for p in pages) == len(largest.categories)
    assert sum(len(p["not_for"]) for p in pages) == len(largest.not_for)
    for page in pages:
        blocks = render("help/lexicon.json.j2", **page)
        assert message_chars(blocks, page["fallback"]) <= 12_000
    last = json.dumps(render("help/lexicon.json.j2", **pages[-1]), ensure_ascii=False)
    assert f"and {pages[-1]['more_terms']} more terms" in last and "/ally lexicon TERM" in last
