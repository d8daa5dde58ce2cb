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

from bot.rules.errors import InvalidInput, NotFound
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


def require_business_unit(session: Session, name: str) -> BusinessUnit:
    """The business unit chosen at sign-up; InvalidInput if it is not in the list (a read)."""
    unit = business_unit_named(session, name)
    if unit is None or unit.id is None:
        raise InvalidInput("Choose one of the business units in the list.", "business_unit")
    return unit


def join(session: Session, *, user_id: str, business_unit: str, available: bool) -> Ally:
    """Sign up as an ally, or change business unit and availability (joining again is fine)."""
    unit = require_business_unit(session, business_unit)
    assert unit.id is not None
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
    """Check a pasted CSV of `email or user ID, business unit`; InvalidInput names bad lines.

    Lines are the pasted text's own (blank lines and line breaks inside quotes count), and
    a record is named by the line it starts on. A leading byte order mark is ignored.
    """
    canonical = {name.casefold(): name for name in unit_names}
    rows: list[ImportRow] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    first_line, records = 1, 0
    try:
        for fields in reader:
            number, first_line = first_line, reader.line_num + 1
            cells = [cell.strip() for cell in fields]
            if not any(cells):
                continue
            records += 1
            if records > IMPORT_MAX_ROWS:
                raise InvalidInput(f"Import at most {IMPORT_MAX_ROWS} lines at a time.", "csv")
            if records == 1 and cells[0].casefold() in _HEADER_WORDS:
                continue
            problem = _check_row(number, cells, canonical, rows)
            if problem:
                problems.append(problem)
    except csv.Error as error:
        raise InvalidInput(f"Nothing was imported. line {first_line}: {error}", "csv") from error
    if problems:
        shown = problems[:10] + (
            [f"... and {len(problems) - 10} more"] if len(problems) > 10 else []
        )
        raise InvalidInput("Nothing was imported. " + "; ".join(shown), "csv")
    if not rows:
        raise InvalidInput("Paste at least one line: `email or user ID, business unit`.", "csv")
    return rows


def _check_row(
    number: int, cells: list[str], canonical: dict[str, str], rows: list[ImportRow]
) -> str | None:
    """Add a valid line to rows, or return what is wrong with it."""
    if len(cells) != 2:
        return f"line {number}: expected `email or user ID, business unit`"
    identifier, unit = cells
    if not (_USER_ID.match(identifier) or _EMAIL.match(identifier)):
        return f"line {number}: {identifier[:60]!r} is not an e-mail or a user ID"
    if unit.casefold() not in canonical:
        return f"line {number}: no business unit called {unit[:60]!r}"
    rows.append(ImportRow(number, identifier, canonical[unit.casefold()]))
    return None


def apply_import(session: Session, assignments: list[tuple[str, str]]) -> int:
    """Assign people (user ID, BU name) to business units; all or nothing with the session.

    Returns how many different people were assigned (a later line for the same person wins).
    """
    units = {bu.name: bu for bu in business_units(session)}
    for user_id, unit_name in assignments:
        unit = units.get(unit_name)
        if unit is None or unit.id is None:
            raise InvalidInput(f"No business unit called {unit_name!r}; nothing was imported.")
        _set_member(session, user_id=user_id, unit_id=unit.id, source="import")
        session.flush()
    return len({user_id for user_id, _ in assignments})
