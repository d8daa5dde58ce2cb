"""Admins' signed corrections to the ledger: `/ally-admin points` parsing and the adjustment."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.rules.errors import InvalidInput
from bot.rules.points.ledger import (
    ADJUSTMENT,
    MAX_ADJUSTMENT,
    MAX_REASON,
    add_entry,
    find_business_unit,
)
from storage.models.programme import BusinessUnit

ADJUST_USAGE = (
    "`/ally-admin points adjust BU AMOUNT REASON`, "
    "e.g. `points adjust Engineering -5 double counted event`"
)


_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Adjustment:
    """A parsed adjustment command."""

    business_unit: str
    amount: int
    reason: str


def parse_adjustment(text: str, *, units: Iterable[str]) -> Adjustment:
    """Parse `adjust BU AMOUNT REASON`; InvalidInput saying what is wrong.

    BU is the longest of the known unit names (any case) that starts the text and is
    followed by a whole number, so names holding numbers ("Region 1", "2030 Vision") work.
    """
    words = text.split()
    if not words or words[0].lower() != "adjust":
        raise InvalidInput(f"Use {ADJUST_USAGE}.")
    rest, known = words[1:], list(units)
    matches = _starting_units(rest, known)
    if not matches:
        named = " ".join(_until_integer(rest))
        if not named:
            raise InvalidInput(f"Name the business unit first. Use {ADJUST_USAGE}.")
        raise InvalidInput(
            f"There is no business unit called “{named[:80]}”. "
            f"Known business units: {_listing(known)}."
        )
    followed = [(n, size) for n, size in matches if size < len(rest) and _INTEGER.match(rest[size])]
    if not followed:
        raise InvalidInput(
            "AMOUNT must be a whole number of points such as `-5` or `10`, "
            f"after “{matches[0][0]}”. Use {ADJUST_USAGE}."
        )
    name, size = followed[0]
    amount = int(rest[size])
    if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
        raise InvalidInput(f"AMOUNT must be a non-zero whole number up to {MAX_ADJUSTMENT:,}.")
    reason = " ".join(rest[size + 1 :]).strip()
    if not reason:
        raise InvalidInput(f"Give a reason after the amount. Use {ADJUST_USAGE}.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Keep the reason under {MAX_REASON} characters.")
    return Adjustment(name, amount, reason)


def _starting_units(words: list[str], units: list[str]) -> list[tuple[str, int]]:
    """The known unit names the words start with (any case), longest first, with their sizes."""
    start = [word.casefold() for word in words]
    found = []
    for name in units:
        parts = [part.casefold() for part in name.split()]
        if parts and start[: len(parts)] == parts:
            found.append((name, len(parts)))
    return sorted(found, key=lambda item: -item[1])


def _until_integer(words: list[str]) -> list[str]:
    """The words before the first whole number (what was probably meant as the unit)."""
    for index, word in enumerate(words):
        if _INTEGER.match(word):
            return words[:index]
    return words


def _listing(units: list[str], limit: int = 20) -> str:
    """Known unit names for a message: sorted, the first `limit` of them."""
    names = sorted(units, key=str.casefold)
    if not names:
        return "none yet"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def unit_names(session: Session) -> list[str]:
    """Every business unit's name."""
    return list(session.execute(select(col(BusinessUnit.name))).scalars())


def adjust(
    session: Session,
    *,
    adjustment: Adjustment,
    actor: str,
    request_key: str | None = None,
    now: datetime | None = None,
) -> BusinessUnit:
    """Append a signed adjustment by an admin; the same request_key never adds a second row."""
    unit = find_business_unit(session, adjustment.business_unit)
    if unit is None or unit.id is None:
        raise InvalidInput(
            f"There is no business unit called “{adjustment.business_unit}”. "
            f"Known business units: {_listing(unit_names(session))}."
        )
    key = uuid.uuid5(uuid.NAMESPACE_URL, request_key) if request_key else uuid.uuid4()
    add_entry(
        session,
        business_unit_id=unit.id,
        amount=adjustment.amount,
        kind=ADJUSTMENT,
        reason=adjustment.reason,
        source=f"adjust:{key}",
        actor=actor,
        now=now,
    )
    return unit
