"""Allies and business units: sign-up, availability, leaving, the admins' BU list and CSV import.

Plain Python over a session (SPEC 1): no Slack client, no templates.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.errors import InvalidInput, NotFound
from storage.models.programme import Ally, BusinessUnit, Member
from storage.types import utcnow

BU_NAME_MAX = 75
IMPORT_MAX_ROWS = 2000
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_HEADER_WORDS = {"email", "e-mail", "user", "user_id", "userid", "id", "identifier", "slack_id"}


@dataclass(frozen=True)
class Profile:
    """An ally's profile as they see it."""

    business_unit: str | None
    available: bool


def find_ally(session: Session, *, user_id: str) -> Ally | None:
    """The active ally with this Slack ID, if any."""
    statement = select(Ally).where(Ally.user_id == user_id, col(Ally.active).is_(True))
    return session.exec(statement).first()


def business_units(session: Session) -> list[BusinessUnit]:
    """Every business unit, by name."""
    return list(session.exec(select(BusinessUnit).order_by(col(BusinessUnit.name))))


def business_unit_named(session: Session, name: str) -> BusinessUnit | None:
    """The business unit with this name (ignoring case and surrounding spaces)."""
    wanted = name.strip().casefold()
    return next((bu for bu in business_units(session) if bu.name.casefold() == wanted), None)


def member_unit(session: Session, *, user_id: str) -> BusinessUnit | None:
    """The business unit a person belongs to, if known."""
    member = session.get(Member, user_id)
    return session.get(BusinessUnit, member.business_unit_id) if member else None


def profile(session: Session, *, user_id: str) -> Profile | None:
    """An active ally's profile, or None for someone who is not an ally."""
    ally = find_ally(session, user_id=user_id)
    if ally is None:
        return None
    unit = member_unit(session, user_id=user_id)
    return Profile(business_unit=unit.name if unit else None, available=ally.available)


def seed_business_units(session: Session, names: Iterable[str]) -> int:
    """Add the configured business units that are not there yet; returns how many were added."""
    known = {bu.name.casefold() for bu in business_units(session)}
    added = 0
    for name in names:
        clean = name.strip()[:BU_NAME_MAX]
        if clean and clean.casefold() not in known:
            known.add(clean.casefold())
            try:
                # A replica starting at the same moment may add it first.
                with session.begin_nested():
                    session.add(BusinessUnit(name=clean, source="config"))
                added += 1
            except IntegrityError:
                pass
    return added


def add_business_unit(session: Session, name: str) -> BusinessUnit:
    """An admin adds a business unit; refuse empty, over-long or duplicate names."""
    clean = " ".join(name.split())
    if not clean:
        raise InvalidInput("Give the business unit's name: `/ally-admin bu add NAME`.")
    if len(clean) > BU_NAME_MAX:
        raise InvalidInput(f"A business unit's name has at most {BU_NAME_MAX} characters.")
    if business_unit_named(session, clean) is not None:
        raise InvalidInput(f"There is already a business unit called {clean}.")
    unit = BusinessUnit(name=clean, source="admin")
    session.add(unit)
    session.flush()
    return unit


def join(session: Session, *, user_id: str, business_unit: str, available: bool) -> Ally:
    """Sign up as an ally, or change business unit and availability (joining again is fine)."""
    unit = business_unit_named(session, business_unit)
    if unit is None or unit.id is None:
        raise InvalidInput("Choose one of the business units in the list.", "business_unit")
    _set_member(session, user_id=user_id, unit_id=unit.id, source="signup")
    ally = session.exec(select(Ally).where(Ally.user_id == user_id)).first()
    now = utcnow()
    if ally is None:
        ally = Ally(user_id=user_id, available=available, active=True)
    else:
        ally.available, ally.active, ally.updated_at = available, True, now
    session.add(ally)
    session.flush()
    return ally


def leave(session: Session, *, user_id: str) -> None:
    """Stop being an ally (the row stays, inactive, so past matches keep their meaning)."""
    ally = find_ally(session, user_id=user_id)
    if ally is None:
        raise NotFound("You are not an ally at the moment.")
    ally.active, ally.updated_at = False, utcnow()
    session.add(ally)


def _set_member(session: Session, *, user_id: str, unit_id: int, source: str) -> None:
    member = session.get(Member, user_id)
    if member is None:
        member = Member(user_id=user_id, business_unit_id=unit_id, source=source)
    else:
        member.business_unit_id, member.source, member.updated_at = unit_id, source, utcnow()
    session.add(member)


# CSV import: validate every row first, then apply all in one unit of work.


@dataclass(frozen=True)
class ImportRow:
    """One valid line of an import: a user ID or e-mail and the business unit's exact name."""

    line: int
    identifier: str
    business_unit: str

    @property
    def is_email(self) -> bool:
        """Whether the identifier is an e-mail address (resolved with users.lookupByEmail)."""
        return "@" in self.identifier


def parse_import(text: str, unit_names: Iterable[str]) -> list[ImportRow]:
    """Check a pasted CSV of `email or user ID, business unit`; InvalidInput names bad lines."""
    canonical = {name.casefold(): name for name in unit_names}
    rows: list[ImportRow] = []
    problems: list[str] = []
    lines = list(csv.reader(io.StringIO(text.strip())))
    if len(lines) > IMPORT_MAX_ROWS:
        raise InvalidInput(f"Import at most {IMPORT_MAX_ROWS} lines at a time.", "csv")
    for number, fields in enumerate(lines, start=1):
        cells = [cell.strip() for cell in fields]
        if not any(cells):
            continue
        if number == 1 and cells[0].casefold() in _HEADER_WORDS:
            continue
        if len(cells) != 2:
            problems.append(f"line {number}: expected `email or user ID, business unit`")
            continue
        identifier, unit = cells
        if not (_USER_ID.match(identifier) or _EMAIL.match(identifier)):
            problems.append(f"line {number}: {identifier[:60]!r} is not an e-mail or a user ID")
        elif unit.casefold() not in canonical:
            problems.append(f"line {number}: no business unit called {unit[:60]!r}")
        else:
            rows.append(ImportRow(number, identifier, canonical[unit.casefold()]))
    if problems:
        shown = problems[:10] + (
            [f"... and {len(problems) - 10} more"] if len(problems) > 10 else []
        )
        raise InvalidInput("Nothing was imported. " + "; ".join(shown), "csv")
    if not rows:
        raise InvalidInput("Paste at least one line: `email or user ID, business unit`.", "csv")
    return rows


def apply_import(session: Session, assignments: list[tuple[str, str]]) -> int:
    """Assign people (user ID, BU name) to business units; all or nothing with the session."""
    units = {bu.name: bu for bu in business_units(session)}
    for user_id, unit_name in assignments:
        unit = units.get(unit_name)
        if unit is None or unit.id is None:
            raise InvalidInput(f"No business unit called {unit_name!r}; nothing was imported.")
        _set_member(session, user_id=user_id, unit_id=unit.id, source="import")
        session.flush()
    return len(assignments)
