"""Allies and business units: sign-up, change, leave, admins' units and CSV import."""

from __future__ import annotations

import pytest

from bot import allies
from bot.errors import InvalidInput, NotFound
from storage.db import Database
from storage.models.programme import Member


def test_seed_is_idempotent(db: Database) -> None:
    """Seeding the configured units twice keeps one of each."""
    with db.session() as s:
        assert allies.seed_business_units(s, ["Engineering", "Sales"]) == 2
    with db.session() as s:
        assert allies.seed_business_units(s, ["engineering", "People"]) == 1
        assert [bu.name for bu in allies.business_units(s)] == ["Engineering", "People", "Sales"]


def test_join_change_and_leave(db: Database) -> None:
    """Joining sets BU and availability; joining again changes them; leaving deactivates."""
    with db.session() as s:
        allies.seed_business_units(s, ["Engineering", "Sales"])
        allies.join(s, user_id="U1", business_unit="Engineering", available=True)
    with db.session() as s:
        assert allies.profile(s, user_id="U1") == allies.Profile("Engineering", True)
        allies.join(s, user_id="U1", business_unit="Sales", available=False)
    with db.session() as s:
        assert allies.profile(s, user_id="U1") == allies.Profile("Sales", False)
        allies.leave(s, user_id="U1")
    with db.session() as s:
        assert allies.profile(s, user_id="U1") is None
        with pytest.raises(NotFound):
            allies.leave(s, user_id="U1")
        with pytest.raises(InvalidInput):
            allies.join(s, user_id="U2", business_unit="Nope", available=True)


def test_admin_adds_a_unit_once(db: Database) -> None:
    """A new unit is added; a duplicate or empty name is refused."""
    with db.session() as s:
        assert allies.add_business_unit(s, "  Customer   Success ").name == "Customer Success"
    with db.session() as s, pytest.raises(InvalidInput):
        allies.add_business_unit(s, "customer success")
    with db.session() as s, pytest.raises(InvalidInput):
        allies.add_business_unit(s, "   ")


def test_import_reports_bad_lines_by_number() -> None:
    """Every bad line is named; nothing is returned to apply."""
    text = "email,bu\npriya@example.com, Engineering\nnot-an-id, Sales\nU0TOM, Nowhere\nonly"
    with pytest.raises(InvalidInput) as error:
        allies.parse_import(text, ["Engineering", "Sales"])
    message = error.value.message
    assert "line 3" in message and "line 4" in message and "line 5" in message
    assert "line 2" not in message


def test_import_parses_and_applies_all(db: Database) -> None:
    """Good lines (header skipped, case-insensitive units) are applied in one unit of work."""
    rows = allies.parse_import(
        "user,bu\nU0TOM, sales\nann@example.com,Engineering", ["Engineering", "Sales"]
    )
    assert [(r.line, r.identifier, r.business_unit, r.is_email) for r in rows] == [
        (2, "U0TOM", "Sales", False),
        (3, "ann@example.com", "Engineering", True),
    ]
    with db.session() as s:
        allies.seed_business_units(s, ["Engineering", "Sales"])
    with db.session() as s:
        allies.apply_import(s, [("U0TOM", "Sales"), ("U0ANN", "Engineering")])
    with pytest.raises(InvalidInput), db.session() as s:
        allies.apply_import(s, [("U0NEW", "Sales"), ("U0BAD", "Gone")])
    with db.session() as s:
        assert s.get(Member, "U0NEW") is None
        assert allies.member_unit(s, user_id="U0TOM").name == "Sales"  # type: ignore[union-attr]
