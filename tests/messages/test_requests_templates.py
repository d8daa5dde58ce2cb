"""Request, ally and home templates render valid Block Kit and keep user text literal."""

from __future__ import annotations

import json

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from bot.devkit.fakeslack.validation import message_violations, view_violations
from bot.rules.allies import Profile
from bot.rules.requests import RequestForm
from handlers.allies import Ids as AlliesIds
from handlers.common.units import choose_units
from handlers.home import HomeRequest
from handlers.requests.ids import Ids as RequestsIds
from handlers.requests.surface import OfferView, RequestView
from messages.content import load_content
from messages.render import render, render_blocks

HOSTILE = (
    "Help <!channel> <!here> <@U0BOSS> <#C0SECRET> <https://x.example|y> "
    '"quoted" {braces} {{ 7*7 }} {% raw %} & ampersand\nnew line :tada: 🎉'
)
CONTENT = load_content(DEFAULT_CONTENT_DIR)


def _request(status: str = "open", **overrides: object) -> RequestView:
    data: dict = dict(
        id=7,
        status=status,
        category_label="Career advice",
        details=HOSTILE,
        timing=HOSTILE,
        requester_id="U0ASKER",
        on_behalf_of=None,
    )
    data.update(overrides)
    return RequestView(**data)


def _validate(blocks: list[dict]) -> None:
    assert message_violations(blocks, text="fallback", needs_fallback=True) == []


def _valid_view(view: dict) -> None:
    assert view_violations(view) == []


def _assert_literal(blocks: list[dict], *, shown: bool = True) -> None:
    """No user-typed markup survives: every < in the output is one the template wrote."""
    dumped = json.dumps(blocks, ensure_ascii=False)
    assert "<!channel>" not in dumped and "<@U0BOSS>" not in dumped
    assert "<https://x.example|y>" not in dumped and "<b>" not in dumped
    if not shown:
        return
    assert "&lt;!channel&gt;" in dumped
    assert "{{ 7*7 }}" in dumped and "49" not in dumped


@pytest.mark.parametrize("status", ["open", "matched", "withdrawn", "closed"])
def test_card_renders_every_state_with_hostile_text_literal(status: str) -> None:
    """The card is valid in each state; buttons only while open."""
    blocks = render_blocks("requests/card.json.j2", r=_request(status), emoji="raised_hand")
    _validate(blocks)
    _assert_literal(blocks)
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ([RequestsIds.OFFER, RequestsIds.REPORT] if status == "open" else [])
    assert "<@U0ASKER>" in json.dumps(blocks)


def test_card_on_behalf_of_a_case_never_names_anyone() -> None:
    """A case's ask shows the case handle, not a person."""
    view = _request(requester_id=None, on_behalf_of="Case K3F9")
    blocks = render_blocks("requests/card.json.j2", r=view, emoji="raised_hand")
    _validate(blocks)
    dumped = json.dumps(blocks)
    assert "on behalf of Case K3F9" in dumped and "<@" not in dumped


@pytest.mark.parametrize("status", ["open", "matched", "withdrawn"])
def test_offers_confirmation_intro_escalation_render(status: str) -> None:
    """The chooser's DM, the confirmation, the intro and escalation are valid blocks."""
    offers = [OfferView(1, "U0ALLY1", "Engineering <b>"), OfferView(2, "U0ALLY2", None)]
    for template, data in [
        ("requests/offers.json.j2", {"offers": offers, "chosen": "U0ALLY1"}),
        ("requests/confirmation.json.j2", {}),
        ("requests/intro.json.j2", {"chooser": "U0ASKER", "ally": "U0ALLY1", "tips": CONTENT.tips}),
        ("requests/escalation.json.j2", {}),
    ]:
        blocks = render_blocks(template, r=_request(status), **data)
        _validate(blocks)
        _assert_literal(blocks, shown=template != "requests/offers.json.j2")


def test_offers_dm_lists_each_ally_with_a_choose_button() -> None:
    """Each offering ally has a choose_ally button whose value is the offer id."""
    offers = [OfferView(11, "U0ALLY1", "Engineering"), OfferView(12, "U0ALLY2", None)]
    blocks = render_blocks("requests/offers.json.j2", r=_request(), offers=offers, chosen=None)
    buttons = [b["accessory"] for b in blocks if b.get("accessory")]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (RequestsIds.CHOOSE, "11"),
        (RequestsIds.CHOOSE, "12"),
    ]


def test_request_modal_and_prefill_keep_text() -> None:
    """The modal has the contract's block ids; a prefill keeps the text exactly."""
    for prefill in (None, RequestForm("anonymous", "career_advice", HOSTILE, HOSTILE[:200])):
        view = render(
            "requests/modal.json.j2",
            categories=CONTENT.categories,
            not_for=CONTENT.not_for,
            prefill=prefill,
        )
        _valid_view(view)
        assert view["callback_id"] == RequestsIds.REQUEST_VIEW
        ids = [(b.get("block_id"), b.get("element", {}).get("action_id")) for b in view["blocks"]]
        for name in ("kind", "category", "details", "timing", "consent"):
            assert (name, name) in ids
        if prefill:
            details = next(b for b in view["blocks"] if b.get("block_id") == RequestsIds.DETAILS)
            assert details["element"]["initial_value"] == HOSTILE
        consent = next(b for b in view["blocks"] if b.get("block_id") == RequestsIds.CONSENT)
        [option] = consent["element"]["options"]
        assert len(option["text"]["text"]) <= 75
        assert consent["element"].get("initial_options", [option]) == [option]
        # The longer consent text is shown next to the box: what the person agrees to.
        said = json.dumps(view["blocks"][view["blocks"].index(consent) - 1])
        assert "/ally lexicon" in said and "can and cannot help with" in said


def test_signup_import_and_home_views_render() -> None:
    """Sign-up (new and prefilled), import and home views are valid."""
    units = ["Engineering", "R&D <x>"]
    for current in (None, Profile("R&D <x>", False)):
        view = render("allies/signup.json.j2", choice=choose_units(units), current=current)
        _valid_view(view)
        assert view["callback_id"] == AlliesIds.SIGNUP_VIEW
    _valid_view(render("allies/bu_import.json.j2", units=units))
    home = render(
        "home/home.json.j2",
        purpose=CONTENT.purpose,
        requests=[HomeRequest(1, "open", "Career advice", HOSTILE)],
        profile=Profile("R&D <x>", True),
        standings=[{"type": "section", "text": {"type": "mrkdwn", "text": "Engineering: 10"}}],
    )
    _valid_view(home)
    _assert_literal(home["blocks"])


@pytest.mark.parametrize("status", ["open", "matched", "withdrawn", "closed"])
def test_card_of_a_purged_request_says_its_text_was_removed(status: str) -> None:
    """details None (purged after retention) renders valid blocks saying the text was removed."""
    view = _request(status, details=None, timing=None, requester_id=None, on_behalf_of="Case K3F9")
    blocks = render_blocks("requests/card.json.j2", r=view, emoji="raised_hand")
    _validate(blocks)
    assert "text of this request has been deleted" in json.dumps(blocks)
    for template in ("requests/offers.json.j2", "requests/intro.json.j2"):
        _validate(
            render_blocks(
                template,
                r=view,
                offers=[],
                chosen="U0ALLY1",
                chooser="U0VOL",
                ally="U0ALLY1",
                tips=CONTENT.tips,
            )
        )


def test_offers_dm_of_a_cases_ask_lets_the_volunteer_withdraw_it() -> None:
    """While open, the volunteer's offers DM for a case's ask has withdraw_request (the ask id)."""
    view = _request(requester_id=None, on_behalf_of="Case K3F9")
    offers = [OfferView(11, "U0ALLY1", "Engineering")]
    blocks = render_blocks("requests/offers.json.j2", r=view, offers=offers, chosen=None)
    _validate(blocks)
    actions = [
        (e["action_id"], e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert actions == [(RequestsIds.WITHDRAW, "7")]
    named = render_blocks("requests/offers.json.j2", r=_request(), offers=offers, chosen=None)
    assert RequestsIds.WITHDRAW not in json.dumps(named)
