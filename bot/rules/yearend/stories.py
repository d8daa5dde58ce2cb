"""Stories of allyship outside the programme (SPEC 2.6): the form and the record.

A story names an ally (a Slack user), says what happened (1 to 3000 characters) and, if the
reporter wants, roughly when (not in the future). The ally must be a person: not a bot, not
a deactivated account; the caller asks Slack and passes what it said. One modal submission
records one story whatever Slack's retries do (`submission_key`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col

from bot.privacy import Privacy
from bot.rules.allies import member_unit
from bot.rules.errors import InvalidInput
from storage import upsert
from storage import yearend as store
from storage.models.programme import FORGOTTEN
from storage.models.yearend import AllyshipStory
from storage.types import utcnow

MAX_WHAT = 3000
# A Slack user ID as a users_select sends it: anything else is forged or stale.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
FORGOTTEN_ALLY = (
    "That person asked the programme to forget them, so a story cannot be recorded for them."
)
ALLY = "ally"
WHAT = "what"
WHEN = "when"


@dataclass(frozen=True)
class StoryForm:
    """A parsed `allyship_story` submission."""

    ally_id: str
    what: str
    happened_on: date | None


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get(block) or {}


def parse_date(raw: object, *, today: date, block: str) -> date | None:
    """A datepicker's value (YYYY-MM-DD), never after today."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput("Pick a date from the calendar.", block) from None
    if day > today:
        raise InvalidInput("That date is in the future: pick the day it happened.", block)
    return day


def check_text(raw: object, *, block: str, limit: int, what: str) -> str:
    """Free text, trimmed, 1 to `limit` characters."""
    text = str(raw or "").strip()
    if not text:
        raise InvalidInput(f"Write {what}.", block)
    if len(text) > limit:
        raise InvalidInput(f"Keep it under {limit} characters (it has {len(text)}).", block)
    return text


def parse_story_form(values: dict[str, Any], *, today: date) -> StoryForm:
    """The story form's values, or InvalidInput naming the field."""
    ally = str(_value(values, ALLY).get("selected_user") or "")
    if not ally:
        raise InvalidInput("Choose the ally this story is about.", ALLY)
    if ally == FORGOTTEN:
        raise InvalidInput(FORGOTTEN_ALLY, ALLY)
    if not _USER_ID.fullmatch(ally):
        raise InvalidInput("Choose the ally from the list of people.", ALLY)
    what = check_text(
        _value(values, WHAT).get("value"), block=WHAT, limit=MAX_WHAT, what="what happened"
    )
    when = parse_date(_value(values, WHEN).get("selected_date"), today=today, block=WHEN)
    return StoryForm(ally, what, when)


def check_ally(*, is_bot: bool, deleted: bool, found: bool) -> None:
    """Refuse an ally who is not a current person in the workspace."""
    if not found:
        raise InvalidInput("I cannot find that person in this workspace.", ALLY)
    if is_bot:
        raise InvalidInput("That is an app or a bot: choose the person who was the ally.", ALLY)
    if deleted:
        raise InvalidInput(
            "That account is deactivated, so the story cannot be recorded for them.", ALLY
        )


def create_story(
    session: Session,
    *,
    form: StoryForm,
    reporter_id: str,
    submission_key: str,
    privacy: Privacy,
) -> tuple[AllyshipStory, bool]:
    """Record the story once per submission; (the story, whether this call created it)."""
    reporter_unit = member_unit(session, user_id=reporter_id)
    statement = (
        upsert.insert(session, AllyshipStory)
        .values(
            reporter_id=reporter_id,
            ally_id=form.ally_id,
            reporter_marker=privacy.marker(reporter_id),
            ally_marker=privacy.marker(form.ally_id),
            reporter_unit_id=reporter_unit.id if reporter_unit else None,
            what=form.what,
            happened_on=form.happened_on,
            status="pending",
            creative=False,
            submission_key=submission_key,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["submission_key"])
        .returning(col(AllyshipStory.id))
    )
    created = session.execute(statement).first() is not None
    story = store.story_by_submission(session, key=submission_key)
    assert story is not None
    return story, created
