"""Pauses: one admins see and change, one from an anonymous case they never see; either
refuses the person, by name or anonymously."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.privacy import Identity, Privacy
from bot.rules import misuse
from bot.rules.anonymous import cases, drafts
from bot.rules.errors import Conflict, NotFound
from storage.db import Database

ASKER = "U0ASKER"
OTHER = "U0OTHER"
PRIVACY = Privacy(Fernet.generate_key().decode())
DRAFT = drafts.Draft(category="career_advice", details="Help me.", timing=None)
IDENTITY = Identity(names=("Priya Raman",), emails=())


def _paused_by_a_case(db: Database) -> None:
    """ASKER's anonymous case closed as misuse with a pause (by the case's marker)."""
    with db.session() as session:
        case = cases.open_case(session, PRIVACY, user_id=ASKER, draft=DRAFT, identity=IDENTITY)
        assert case.id is not None
        cases.take_case(session, case_id=case.id, volunteer_id="U0VOL1")
        cases.close_case(
            session,
            case_id=case.id,
            volunteer_id="U0VOL1",
            outcome=cases.MISUSE,
            pause=True,
            retention_days=180,
        )


def _admin(db: Database, command: str, user_id: str) -> str:
    """What an admin's pause or unpause of this person answers."""
    action = misuse.pause if command == "pause" else misuse.unpause
    try:
        with db.session() as session:
            action(session, marker=PRIVACY.marker(user_id))
    except (Conflict, NotFound) as refused:
        return str(refused)
    return "done"


def test_an_admin_pause_refuses_requests_of_both_kinds_until_unpaused(db: Database) -> None:
    """By name (misuse.is_paused) and anonymously (cases.refusal_for)."""
    assert _admin(db, "pause", ASKER) == "done"
    with db.read() as session:
        assert misuse.is_paused(session, marker=PRIVACY.marker(ASKER))
        assert "requests are paused" in str(cases.refusal_for(session, PRIVACY, user_id=ASKER))
        assert cases.refusal_for(session, PRIVACY, user_id=OTHER) is None
    assert _admin(db, "unpause", ASKER) == "done"
    with db.read() as session:
        assert not misuse.is_paused(session, marker=PRIVACY.marker(ASKER))
        assert cases.refusal_for(session, PRIVACY, user_id=ASKER) is None


def test_admin_commands_answer_alike_whether_or_not_a_case_paused_the_person(
    db: Database,
) -> None:
    """The admin's answers never depend on a case's pause, and never lift it."""
    _paused_by_a_case(db)
    sequence = ["unpause", "pause", "pause", "unpause", "unpause"]
    assert [_admin(db, c, ASKER) for c in sequence] == [_admin(db, c, OTHER) for c in sequence]
    with db.read() as session:
        assert misuse.is_paused(session, marker=PRIVACY.marker(ASKER))
        assert cases.refusal_for(session, PRIVACY, user_id=ASKER) is not None
        assert not misuse.is_paused(session, marker=PRIVACY.marker(OTHER))


def test_check_not_paused_refuses_kindly(db: Database) -> None:
    """A paused person's request is refused with the kind text."""
    _paused_by_a_case(db)
    with db.read() as session, pytest.raises(Conflict, match="talk to the"):
        misuse.check_not_paused(session, marker=PRIVACY.marker(ASKER))
