"""Allies and business units: sign-up, change, leave, admins' units and CSV import."""

from __future__ import annotations

import pytest

from bot.rules import allies
from bot.rules.errors import InvalidInput, NotFound
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


def test_import_names_physical_lines_after_blank_lines_and_multiline_fields() -> None:
    """Line numbers are the pasted text's own lines: leading blanks and quoted breaks count."""
    text = '\n\nemail,bu\nU0TOM,"Sales\nTeam"\nnot-an-id,Sales\nU0ANN,Nowhere'
    with pytest.raises(InvalidInput) as error:
        allies.parse_import(text, ["Engineering", "Sales"])
    message = error.value.message
    # the record starting on line 4 spans lines 4-5; the next ones start on lines 6 and 7
    assert "line 4:" in message and "line 6:" in message and "line 7:" in message
    assert "line 2:" not in message and "line 3:" not in message
    rows = allies.parse_import("\n\nemail,bu\n\nU0TOM,Sales", ["Sales"])
    assert [(r.line, r.identifier) for r in rows] == [(5, "U0TOM")]


def test_import_accepts_a_header_with_a_byte_order_mark() -> None:
    """A CSV saved by a spreadsheet starts with a UTF-8 BOM: the header is still a header."""
    rows = allies.parse_import("\ufeffemail,bu\r\nann@example.com,Sales\r\n", ["Sales"])
    assert [(r.line, r.identifier, r.business_unit) for r in rows] == [
        (2, "ann@example.com", "Sales")
    ]
    rows = allies.parse_import("\ufeffU0TOM,Sales", ["Sales"])
    assert [(r.line, r.identifier) for r in rows] == [(1, "U0TOM")]


def test_import_is_all_or_nothing_when_one_line_is_bad() -> None:
    """One bad line among good ones: nothing is returned to apply."""
    with pytest.raises(InvalidInput) as error:
        allies.parse_import("U0TOM,Sales\n\nU0ANN,Nowhere", ["Sales"])
    assert "line 3:" in error.value.message
