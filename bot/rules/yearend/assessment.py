"""Assessing stories and events (SPEC 2.6): who may, and the first decision winning.

A volunteer accepts or declines an item and may mark it creative. Nobody assesses an item they
are part of: a story's reporter, the ally it names, a volunteer of the ally's business unit;
an event's logger and a volunteer of the organising unit. Whether the person is a volunteer
at all is asked of Slack by the caller (handlers); everything else is checked here, on every
click. The decision is a conditional UPDATE (`status = 'pending'`), so of two clicks, two
volunteers or a retry, exactly one decides, and only that one awards the points.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col

from bot.jobs import queue as jobs
from bot.rules.allies import member_unit
from bot.rules.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.rules.points import ledger
from storage import yearend as store
from storage.models.programme import FORGOTTEN
from storage.models.yearend import AllyshipEvent, AllyshipStory
from storage.types import utcnow

STORY = "story"
EVENT = "event"
KINDS = (STORY, EVENT)

PENDING = "pending"
ACCEPTED = "accepted"
DECLINED = "declined"
# The reporter or the ally asked to be forgotten before anyone decided.
WITHDRAWN = "withdrawn"

MAX_REASON = 3000

# The due item that redraws the cards a forget-me changed.
REDRAW_CARDS = "yearend_redraw_cards"


class RedrawCards(jobs.Payload):
    """REDRAW_CARDS: the cards to redraw, as (kind, id)."""

    items: list[tuple[str, int]] = []


def forget_person(session: Session, *, user_id: str, now: datetime) -> None:
    """A person's stories lose their text and their name on them (points stay); the cards
    that showed them are redrawn by a due item."""
    redraw = store.forget_person(session, user_id=user_id, now=now)
    if redraw:
        jobs.schedule(
            session,
            kind=REDRAW_CARDS,
            key=f"{REDRAW_CARDS}:{uuid.uuid4()}",
            due_at=now,
            payload=RedrawCards(items=redraw),
        )


Item = AllyshipStory | AllyshipEvent


@dataclass(frozen=True)
class ItemView:
    """What a card or a DM shows of a story or event (never the reporter or the logger)."""

    kind: str
    id: int
    status: str
    creative: bool
    what: str | None
    title: str | None
    happened_on: date | None
    ally_id: str | None
    unit_name: str | None
    decided_by: str | None
    purged: bool


@dataclass(frozen=True)
class Decision:
    """The result of a click: whether this click decided, and what the item says now."""

    decided: bool
    status: str
    award: ledger.Award | None = None


def load(session: Session, *, kind: str, item_id: int, lock: bool = False) -> Item:
    """The story or event, or NotFound."""
    item: Item | None
    if kind == STORY:
        item = store.get_story(session, story_id=item_id, lock=lock)
    elif kind == EVENT:
        item = store.get_event(session, event_id=item_id, lock=lock)
    else:
        item = None
    if item is None:
        raise NotFound("That story or event no longer exists.")
    return item


def record_card(session: Session, *, kind: str, item_id: int, channel: str, ts: str) -> None:
    """Remember where the item's card was posted (the card's redraws update it there)."""
    item = load(session, kind=kind, item_id=item_id, lock=True)
    item.card_channel, item.card_ts = channel, ts
    session.add(item)


def unit_id_of(session: Session, item: Item) -> int | None:
    """The unit an item credits: the organising unit, or the ally's (as accepted, else now)."""
    if isinstance(item, AllyshipEvent):
        return item.business_unit_id
    if item.ally_unit_id is not None:
        return item.ally_unit_id
    if item.ally_id == FORGOTTEN:
        return None
    unit = member_unit(session, user_id=item.ally_id)
    return unit.id if unit else None


def view(session: Session, item: Item) -> ItemView:
    """The item as the templates show it."""
    unit_id = unit_id_of(session, item)
    names = store.unit_names_by_id(session)
    is_story = isinstance(item, AllyshipStory)
    assert item.id is not None
    return ItemView(
        kind=STORY if is_story else EVENT,
        id=item.id,
        status=item.status,
        creative=item.creative,
        what=item.what,
        title=None if is_story else item.title,  # type: ignore[union-attr]
        happened_on=item.happened_on,
        ally_id=(item.ally_id if item.ally_id != FORGOTTEN else None) if is_story else None,  # type: ignore[union-attr]
        unit_name=names.get(unit_id) if unit_id is not None else None,
        decided_by=item.decided_by if item.decided_by != FORGOTTEN else None,
        purged=item.purged_at is not None,
    )


def check_assessor(session: Session, *, item: Item, user_id: str) -> None:
    """Refuse, with a reason, a volunteer who is part of this item (SPEC 2.6)."""
    own = member_unit(session, user_id=user_id)
    if isinstance(item, AllyshipStory):
        if user_id == item.reporter_id:
            raise NotAllowed("You reported this story, so another volunteer assesses it.")
        if user_id == item.ally_id:
            raise NotAllowed("This story is about you, so another volunteer assesses it.")
        unit_id = unit_id_of(session, item)
        if own is not None and unit_id is not None and own.id == unit_id:
            raise NotAllowed(
                "The ally in this story is in your business unit, so a volunteer from "
                "another unit assesses it."
            )
        return
    if user_id == item.logged_by:
        raise NotAllowed("You logged this event, so another volunteer assesses it.")
    if own is not None and own.id == item.business_unit_id:
        raise NotAllowed(
            "Your business unit organised this event, so a volunteer from another unit assesses it."
        )


def _still_open(item: Item) -> None:
    if item.status == WITHDRAWN:
        raise Conflict("This was withdrawn: it can no longer be assessed.")
    if item.purged_at is not None:
        raise Conflict("This was deleted after the retention period: it can no longer be assessed.")


def check_can_decide(session: Session, *, kind: str, item_id: int, user_id: str) -> Item:
    """The item, if this person may decide it now; a clear refusal otherwise."""
    item = load(session, kind=kind, item_id=item_id)
    _still_open(item)
    check_assessor(session, item=item, user_id=user_id)
    if item.status != PENDING:
        raise Conflict(f"This was already {item.status}. The first decision stands.")
    return item


def accept(
    session: Session,
    *,
    kind: str,
    item_id: int,
    user_id: str,
    now: datetime | None = None,
    rules: ledger.PointRules = ledger.RULES,
) -> Decision:
    """Accept the item if nobody decided it yet, and award its points once."""
    now = now or utcnow()
    item = load(session, kind=kind, item_id=item_id)
    _still_open(item)
    check_assessor(session, item=item, user_id=user_id)
    unit_id = unit_id_of(session, item)
    if isinstance(item, AllyshipStory) and unit_id is None and item.status == PENDING:
        raise Conflict(
            "The ally in this story has no business unit yet, so the story waits: it can be "
            "accepted once they join the programme (`/ally join`) or an admin imports their unit."
        )
    model = type(item)
    values: dict[str, object] = {"status": ACCEPTED, "decided_by": user_id, "decided_at": now}
    if isinstance(item, AllyshipStory):
        values["ally_unit_id"] = unit_id
    won = session.execute(
        update(model)
        .where(col(model.id) == item_id, col(model.status) == PENDING)
        .values(**values)
        .returning(col(model.id))
    ).first()
    if won is None:
        session.expire(item)
        return Decision(False, load(session, kind=kind, item_id=item_id).status)
    if isinstance(item, AllyshipStory):
        award = ledger.award_story(
            session,
            story_id=item_id,
            ally_id=item.ally_id,
            reporter_id=item.reporter_id,
            now=now,
            rules=rules,
        )
    else:
        award = ledger.award_event(
            session, event_id=item_id, business_unit_id=item.business_unit_id, now=now, rules=rules
        )
    session.expire(item)
    return Decision(True, ACCEPTED, award)


def check_reason(reason: str) -> str:
    """A decline's reason, trimmed; InvalidInput when empty or too long."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("Say why, in a sentence: the person who reported it reads it.", "reason")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"Keep it under {MAX_REASON} characters.", "reason")
    return text


def decline(
    session: Session,
    *,
    kind: str,
    item_id: int,
    user_id: str,
    reason: str,
    now: datetime | None = None,
) -> Decision:
    """Decline the item with the volunteer's words if nobody decided it yet."""
    text = check_reason(reason)
    now = now or utcnow()
    item = load(session, kind=kind, item_id=item_id)
    _still_open(item)
    check_assessor(session, item=item, user_id=user_id)
    model = type(item)
    won = session.execute(
        update(model)
        .where(col(model.id) == item_id, col(model.status) == PENDING)
        .values(status=DECLINED, decided_by=user_id, decided_at=now, decline_reason=text)
        .returning(col(model.id))
    ).first()
    session.expire(item)
    if won is None:
        return Decision(False, load(session, kind=kind, item_id=item_id).status)
    return Decision(True, DECLINED)


def toggle_creative(session: Session, *, kind: str, item_id: int, user_id: str) -> bool:
    """Flip the creative mark (before or after the decision); the new mark."""
    item = load(session, kind=kind, item_id=item_id, lock=True)
    _still_open(item)
    check_assessor(session, item=item, user_id=user_id)
    item.creative = not item.creative
    session.add(item)
    return item.creative


def told(session: Session, *, kind: str, item_id: int) -> tuple[str | None, str | None]:
    """Whom to tell of a decision: (the reporter or logger, the ally), None once forgotten."""
    item = load(session, kind=kind, item_id=item_id)
    if isinstance(item, AllyshipStory):
        reporter = item.reporter_id if item.reporter_id != FORGOTTEN else None
        ally = item.ally_id if item.ally_id not in (FORGOTTEN, item.reporter_id) else None
        return reporter, ally
    return (item.logged_by if item.logged_by != FORGOTTEN else None), None
