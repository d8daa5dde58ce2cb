"""The request rules: the form, offers once per ally, one match, withdrawal (on both databases)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.config import DEFAULT_CONTENT_DIR
from bot.devkit import factories
from bot.devkit.sandbox import DEFAULT_WORKSPACE, sandbox_settings
from bot.rules import allies
from bot.rules import requests as rules
from bot.rules.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messages.content import load_content
from storage.db import Database
from storage.models.requests import Match, Offer

CONTENT = load_content(DEFAULT_CONTENT_DIR)
ASKER, ALLY1, ALLY2, OTHER = "U0ASKER", "U0ALLY1", "U0ALLY2", "U0OTHER"


def _values(**given: object) -> dict:
    """A state.values dict as Slack sends it for the request modal."""
    values = {
        "kind": {"kind": {"type": "radio_buttons", "selected_option": {"value": "named"}}},
        "category": {
            "category": {"type": "static_select", "selected_option": {"value": "career_advice"}}
        },
        "details": {"details": {"type": "plain_text_input", "value": "  Help me prepare.  "}},
        "timing": {"timing": {"type": "plain_text_input", "value": None}},
        "consent": {
            "consent": {"type": "checkboxes", "selected_options": [{"value": "read_lexicon"}]}
        },
    }
    for block_id, entry in given.items():
        values[block_id] = {block_id: entry}
    return values


def test_form_is_trimmed_and_checked() -> None:
    """A valid form is trimmed; empty timing is None."""
    form = rules.parse_request_form(_values(), CONTENT)
    assert form == rules.RequestForm("named", "career_advice", "Help me prepare.", None)


@pytest.mark.parametrize(
    ("block_id", "entry"),
    [
        ("details", {"type": "plain_text_input", "value": "   \n\t "}),
        ("details", {"type": "plain_text_input", "value": None}),
        ("details", {"type": "plain_text_input", "value": "x" * 3001}),
        ("timing", {"type": "plain_text_input", "value": "x" * 201}),
        ("consent", {"type": "checkboxes", "selected_options": []}),
        ("kind", {"type": "radio_buttons", "selected_option": {"value": "loud"}}),
        ("category", {"type": "static_select", "selected_option": {"value": "nope"}}),
        ("category", {"type": "static_select", "selected_option": None}),
    ],
)
def test_bad_form_names_the_field(block_id: str, entry: dict) -> None:
    """Empty, whitespace, over-long, unknown or missing input is refused on its own block."""
    with pytest.raises(InvalidInput) as error:
        rules.parse_request_form(_values(**{block_id: entry}), CONTENT)
    assert error.value.block_id == block_id and error.value.message


def test_details_at_the_limit_after_trimming_is_accepted() -> None:
    """3000 characters after trimming is fine, whatever the surrounding spaces."""
    value = "  " + "y" * 3000 + "  "
    form = rules.parse_request_form(
        _values(details={"type": "plain_text_input", "value": value}), CONTENT
    )
    assert len(form.details) == 3000


def _setup(db: Database) -> int:
    """Two allies (Engineering, Sales) and ASKER's open named request: the request id."""
    factories.ally(db, ALLY1, "Engineering")
    factories.ally(db, ALLY2, "Sales")
    return factories.request(db, requester=ASKER, details="d")


def _offer(db: Database, request_id: int, user: str, source: str = "button") -> bool:
    with db.session() as s:
        return rules.record_offer(s, request_id=request_id, ally_user_id=user, source=source).added


def test_an_ally_offers_once_whatever_the_clicks(db: Database) -> None:
    """Button twice and a reaction make one offer row."""
    request_id = _setup(db)
    assert _offer(db, request_id, ALLY1) is True
    assert _offer(db, request_id, ALLY1) is False
    assert _offer(db, request_id, ALLY1, "reaction") is False
    with db.session() as s:
        assert len(s.exec(select(Offer)).all()) == 1


def test_who_cannot_offer(db: Database) -> None:
    """The requester, a non-ally and an unavailable ally are refused, nothing recorded."""
    request_id = _setup(db)
    with pytest.raises(NotAllowed):
        _offer(db, request_id, ASKER)
    with pytest.raises(rules.NotAnAlly):
        _offer(db, request_id, OTHER)
    with db.session() as s:
        allies.join(s, user_id=ALLY2, business_unit="Sales", available=False)
    with pytest.raises(NotAllowed, match="availability"):
        _offer(db, request_id, ALLY2)
    with pytest.raises(NotFound):
        _offer(db, 999, ALLY1)
    with db.session() as s:
        assert s.exec(select(Offer)).all() == []


def test_reaction_removed_withdraws_and_a_new_offer_revives(db: Database) -> None:
    """Withdrawing switches the offer off; offering again switches it back on, one row."""
    request_id = _setup(db)
    _offer(db, request_id, ALLY1, "reaction")
    with db.session() as s:
        assert rules.withdraw_offer(s, request_id=request_id, ally_user_id=ALLY1)
        assert rules.offering_allies(s, request_id=request_id) == []
    assert _offer(db, request_id, ALLY1, "reaction") is True
    with db.session() as s:
        assert len(rules.offering_allies(s, request_id=request_id)) == 1


def _settings():
    return sandbox_settings("sqlite://", DEFAULT_WORKSPACE)


def test_one_choice_one_match_and_only_the_chooser(db: Database) -> None:
    """Only the chooser can choose; a second choice is refused; offers then refused."""
    request_id = _setup(db)
    _offer(db, request_id, ALLY1)
    _offer(db, request_id, ALLY2)
    with db.session() as s:
        first, second = (o.id for o in rules.offering_allies(s, request_id=request_id))
    assert first is not None and second is not None
    with pytest.raises(NotAllowed), db.session() as s:
        rules.choose_offer(s, offer_id=first, chooser_id=ALLY2, settings=_settings())
    with db.session() as s:
        match = rules.choose_offer(s, offer_id=first, chooser_id=ASKER, settings=_settings())
        assert match.ally_user_id == ALLY1
    with pytest.raises(Conflict), db.session() as s:
        rules.choose_offer(s, offer_id=second, chooser_id=ASKER, settings=_settings())
    with pytest.raises(Conflict, match="already has an ally"):
        _offer(db, request_id, "U0ALLY3")
    with db.session() as s:
        assert len(s.exec(select(Match)).all()) == 1


def test_withdraw_only_by_the_asker_and_only_while_open(db: Database) -> None:
    """Someone else cannot withdraw; the asker can, once; offers are then refused."""
    request_id = _setup(db)
    with pytest.raises(NotAllowed), db.session() as s:
        rules.withdraw_request(s, request_id=request_id, user_id=ALLY1)
    with db.session() as s:
        assert rules.withdraw_request(s, request_id=request_id, user_id=ASKER).status == "withdrawn"
    with pytest.raises(Conflict), db.session() as s:
        rules.withdraw_request(s, request_id=request_id, user_id=ASKER)
    with pytest.raises(Conflict, match="withdrawn"):
        _offer(db, request_id, ALLY1)


def test_open_request_limit(db: Database) -> None:
    """A fourth open request is refused with a modal error on details."""
    _setup(db)
    with db.session() as s:
        for _ in range(2):
            rules.create_request(
                s,
                kind="named",
                category="listening",
                details="d",
                timing=None,
                requester_id=ASKER,
                chooser_id=ASKER,
                on_behalf_of=None,
            )
    with pytest.raises(InvalidInput) as error, db.session() as s:
        rules.check_open_limit(s, requester_id=ASKER)
    assert error.value.block_id == "details"


# asks made on behalf of an anonymous case

VOLUNTEER = "U0VOLUNTEER"
SETTINGS = _settings()


def _case_ask(db: Database, requester: str = ASKER) -> tuple[int, int]:
    """An anonymous case of `requester`, taken by VOLUNTEER, with its ask; (case id, ask id).
    ALLY1 and ASKER are allies."""
    from bot.privacy import privacy

    for user in (ALLY1, ASKER):
        factories.ally(db, user)
    case_id = factories.anonymous_case(
        db, privacy(SETTINGS), requester=requester, volunteer=VOLUNTEER, details="d"
    )
    return case_id, factories.case_ask(db, case_id)


def test_the_anonymous_requester_cannot_offer_on_their_own_cases_ask(db: Database) -> None:
    """Compared by keyed marker: the requester is refused (no offer); another ally may offer."""
    from bot.privacy import privacy

    _, request_id = _case_ask(db)
    p = privacy(SETTINGS)
    with pytest.raises(NotAllowed) as refusal, db.session() as s:
        rules.record_offer(s, request_id=request_id, ally_user_id=ASKER, source="button", privacy=p)
    assert "Case" not in refusal.value.message
    with db.session() as s:
        assert s.exec(select(Offer)).all() == []
        added = rules.record_offer(
            s, request_id=request_id, ally_user_id=ALLY1, source="reaction", privacy=p
        ).added
    assert added


def test_withdrawing_a_cases_ask_frees_the_case_for_a_new_ask(db: Database) -> None:
    """The case forgets the withdrawn ask, and the same case can create a fresh one."""
    from storage.models.anonymous import AnonymousCase

    case_id, request_id = _case_ask(db)
    with db.session() as s:
        rules.withdraw_request(s, request_id=request_id, user_id=VOLUNTEER)
    with db.session() as s:
        case = s.get(AnonymousCase, case_id)
        assert case is not None and case.ask_request_id is None
        again = rules.create_request(
            s,
            kind="anonymous",
            category="career_advice",
            details="d",
            timing=None,
            requester_id=None,
            chooser_id=VOLUNTEER,
            on_behalf_of="Case K3F9",
            submission_key=f"case:{case_id}",
        )
        assert again.id != request_id and again.status == "open"


def test_a_choice_schedules_its_follow_ups_in_the_same_unit_of_work(db: Database) -> None:
    """The match and a due `match_followups` item (key match:<id>) commit together."""
    from bot.jobs import queue as jobs

    request_id = _setup(db)
    _offer(db, request_id, ALLY1)
    with db.session() as s:
        [offer] = rules.offering_allies(s, request_id=request_id)
        assert offer.id is not None
        match = rules.choose_offer(s, offer_id=offer.id, chooser_id=ASKER, settings=_settings())
        match_id = match.id
    with db.session() as s:
        item = jobs.find(s, key=f"match:{match_id}")
        assert item is not None and item.kind == rules.MATCH_FOLLOWUPS
        assert item.payload == {"match_id": match_id}
