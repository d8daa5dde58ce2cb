"""Allyship events a business unit organised (SPEC 2.6): the form and the record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col

from bot.rules.allies import business_unit_named
from bot.rules.errors import InvalidInput
from bot.rules.yearend.stories import check_text, parse_date
from storage import upsert
from storage import yearend as store
from storage.models.yearend import AllyshipEvent
from storage.types import utcnow

MAX_TITLE = 150
MAX_WHAT = 3000
TITLE = "title"
WHAT = "what"
DATE = "date"
BUSINESS_UNIT = "business_unit"


@dataclass(frozen=True)
class EventForm:
    """A parsed `allyship_event` submission."""

    title: str
    what: str
    happened_on: date
    business_unit: str


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get(block) or {}


def parse_event_form(values: dict[str, Any], *, today: date) -> EventForm:
    """The event form's values, or InvalidInput naming the field."""
    title = check_text(
        _value(values, TITLE).get("value"), block=TITLE, limit=MAX_TITLE, what="a title"
    )
    what = check_text(
        _value(values, WHAT).get("value"), block=WHAT, limit=MAX_WHAT, what="what happened"
    )
    day = parse_date(_value(values, DATE).get("selected_date"), today=today, block=DATE)
    if day is None:
        raise InvalidInput("Pick the day the event took place.", DATE)
    chosen = _value(values, BUSINESS_UNIT)
    # A select's option, or a typed name when there are too many units to list (event_view).
    unit = str((chosen.get("selected_option") or {}).get("value") or chosen.get("value") or "")
    unit = unit.strip()
    if not unit:
        raise InvalidInput("Choose the business unit that organised it.", BUSINESS_UNIT)
    return EventForm(title, what, day, unit)


def create_event(
    session: Session, *, form: EventForm, logged_by: str, submission_key: str
) -> tuple[AllyshipEvent, bool]:
    """Record the event once per submission; InvalidInput for an unknown unit."""
    unit = business_unit_named(session, form.business_unit)
    if unit is None or unit.id is None:
        raise InvalidInput("That business unit is not in the programme.", BUSINESS_UNIT)
    statement = (
        upsert.insert(session, AllyshipEvent)
        .values(
            logged_by=logged_by,
            business_unit_id=unit.id,
            title=form.title,
            what=form.what,
            happened_on=form.happened_on,
            status="pending",
            creative=False,
            submission_key=submission_key,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["submission_key"])
        .returning(col(AllyshipEvent.id))
    )
    created = session.execute(statement).first() is not None
    event = store.event_by_submission(session, key=submission_key)
    assert event is not None
    return event, created
